"""Metric analytics over the store: NPS, CSAT and CES as pandas DataFrames.

The metric definitions (:mod:`cxloop.analytics.definitions`) are Ibis expressions
written once; :mod:`cxloop.analytics.engines` runs them on the DuckDB mirror of an
SQLite store or on PostgreSQL. Call the functions of :mod:`cxloop.analytics.service`.
"""
