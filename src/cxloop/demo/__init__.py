"""The demo company 禾光生活 (Heguang Living): deterministic, realistic sample data.

:func:`cxloop.demo.generator.generate` builds the frames; :mod:`cxloop.demo.service`
writes them as CSV files and loads them through the importers.
"""
