"""Predictions about customers: CLV (BG/NBD + Gamma-Gamma), churn risk, recommendations.

The model code works on plain arrays and DataFrames; the ``*_service`` modules read the
store or a user's file and call it.
"""
