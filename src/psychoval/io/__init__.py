"""Ingest: many sources (DataFrame, CSV/TSV, Excel, Parquet, SQLite, DuckDB, long format) ->
one :class:`ResponseTable`;
:func:`scan_responses` reads a source too large for memory in record batches."""

from psychoval.io._read import read_responses
from psychoval.io._scan import ResponseScan, scan_responses
from psychoval.io._table import ResponseTable

__all__ = ["read_responses", "ResponseTable", "scan_responses", "ResponseScan"]
