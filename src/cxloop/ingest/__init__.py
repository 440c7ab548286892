"""Importers: CSV (UTF-8, UTF-8 with BOM, Big5), XLSX and JSON Lines into the store.

Call :func:`cxloop.ingest.service.import_file`; it validates every row before anything is
written, writes rejected rows to ``FILE.rejects.csv`` and is idempotent on
``(source, external id)``.
"""
