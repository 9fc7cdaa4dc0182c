"""dbt-duckdb source plugin: reads a table of the ops store (``ops.sqlite``, the reverse-ETL ledger) into Arrow.

DuckDB's own sqlite extension would have to be downloaded at run time, and there is no internet; Python's
``sqlite3`` needs nothing. The plugin reads through a read-only URI, so in WAL mode it never blocks the
ledger's writer. Columns and their types come from the source table's YAML: dbt-duckdb hands a plugin only
the table's ``meta``, so the source file repeats its column list there (a YAML alias, not a copy). When the
file or the table does not exist yet (before the first push), the plugin returns an empty table of those
columns, so models that read the ledger compile and build from day one.

Profile (profiles.yml)::

    plugins:
      - module: pipelines.build.ops_source
        alias: ops_store
        config: {path: "<data>/ops.sqlite"}

Source table meta: ``plugin: ops_store`` and ``columns: [{name, data_type}, ...]``.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from dbt.adapters.duckdb.environments.local import LocalEnvironment
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.duckdb.utils import SourceConfig

_INTEGER = ("bigint", "integer", "int", "int8", "int4", "smallint", "hugeint")
_TIMESTAMP = ("timestamptz", "timestamp with time zone", "timestamp")


def arrow_type(data_type: str | None) -> pa.DataType:
    """The Arrow type for a column's declared dbt/DuckDB ``data_type`` (text when undeclared)."""
    name = (data_type or "varchar").strip().lower()
    if name in _INTEGER:
        return pa.int64()
    if name in _TIMESTAMP:
        # always UTC-aware: a ledger timestamp without a zone is UTC by the design's rule
        return pa.timestamp("us", tz="UTC")
    if name in ("boolean", "bool"):
        return pa.bool_()
    if name.startswith(("decimal", "numeric", "double", "float", "real")):
        raise ValueError(f"ops columns carry no money or floats; declare {data_type!r} as varchar or bigint")
    return pa.string()


def declared_schema(columns: Sequence[dict[str, Any]]) -> pa.Schema:
    if not columns:
        raise ValueError("the ops source table must list its columns under meta.columns (name, data_type)")
    return pa.schema([pa.field(c["name"], arrow_type(c.get("data_type"))) for c in columns])


def _to_utc(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.replace(".", "", 1).isdigit():
        value = float(value)  # epoch seconds stored in a TEXT column (SQLite's affinity turns them to text)
    if isinstance(value, int | float):  # epoch seconds
        return datetime.fromtimestamp(value, tz=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _convert(value: Any, kind: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_timestamp(kind):
        return _to_utc(value)
    if pa.types.is_integer(kind):
        return int(value)
    if pa.types.is_boolean(kind):
        return bool(value)
    return value if isinstance(value, str) else str(value)


def _table_exists(con: sqlite3.Connection, table: str) -> bool:
    row = con.execute("select 1 from sqlite_master where type in ('table', 'view') and name = ?", [table]).fetchone()
    return row is not None


def read_table(path: Path, table: str, schema: pa.Schema) -> pa.Table:
    """Rows of ``table`` in the SQLite file at ``path`` as Arrow of ``schema``; empty if either is missing.

    Declared columns the table lacks come back null; undeclared columns are not read (declare them in YAML).
    """
    if not path.exists():
        return schema.empty_table()
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        if not _table_exists(con, table):
            return schema.empty_table()
        present = {r[1] for r in con.execute(f'pragma table_info("{table}")')}
        selected = [f.name for f in schema if f.name in present]
        quoted = ", ".join(f'"{c}"' for c in selected) or "null"
        rows = con.execute(f'select {quoted} from "{table}"').fetchall()
    finally:
        con.close()
    columns = {name: [r[i] for r in rows] for i, name in enumerate(selected)}
    arrays = [
        pa.array([_convert(v, f.type) for v in columns[f.name]], type=f.type)
        if f.name in columns
        else pa.nulls(len(rows), type=f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


_LOADING = threading.Lock()


def serialise_source_loads() -> None:
    """Make dbt-duckdb load plugin sources one at a time (idempotent).

    dbt-duckdb re-loads a plugin source each time a node's ``source()`` resolves, from dbt's worker threads,
    as ``CREATE OR REPLACE TABLE``; two threads compiling nodes on the same source collide in DuckDB
    ("write-write conflict"). One at a time, the second load is a harmless replace with the same rows.
    """
    if getattr(LocalEnvironment.load_source, "_q2c_serialised", False):
        return
    unlocked = LocalEnvironment.load_source

    @functools.wraps(unlocked)
    def load_source(self: LocalEnvironment, plugin_name: str, source_config: SourceConfig) -> None:
        with _LOADING:
            return unlocked(self, plugin_name, source_config)

    load_source._q2c_serialised = True  # type: ignore[attr-defined]
    LocalEnvironment.load_source = load_source  # type: ignore[method-assign]


class Plugin(BasePlugin):
    """Loads ``ops.sqlite`` tables for sources whose meta says ``plugin: <this plugin's alias>``."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        if "path" not in plugin_config:
            raise ValueError("the ops_store plugin needs config.path: the ops.sqlite file")
        self.path = Path(plugin_config["path"])
        serialise_source_loads()

    def load(self, source_config: SourceConfig) -> pa.Table:
        table = source_config.get("sqlite_table", source_config.identifier)
        return read_table(self.path, table, declared_schema(source_config.get("columns", [])))
