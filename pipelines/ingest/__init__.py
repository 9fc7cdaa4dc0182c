"""Ingest: run the dlt sources into ``raw.duckdb`` and summarise what changed."""
