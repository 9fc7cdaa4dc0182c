"""`q2c build`: the dbt project run in-process against the data folder (runner), with its failures,
timing split and docs; plus the dbt-duckdb plugin that reads the ops store (ops_source)."""
