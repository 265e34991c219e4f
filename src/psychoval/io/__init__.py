"""Ingest: many sources (DataFrame, CSV/TSV, Excel, Parquet, SQLite, DuckDB, long format) ->
one :class:`ResponseTable`."""

from psychoval.io._read import read_responses
from psychoval.io._table import ResponseTable

__all__ = ["read_responses", "ResponseTable"]
