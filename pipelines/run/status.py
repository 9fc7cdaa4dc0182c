"""What ``q2c status`` reports: recent runs, freshness per source, the ledger by state, dead letters.

Everything is read without taking a writer's place: SQLite read-only (WAL, so never blocking the run),
``raw.duckdb`` read-only (when a run is writing it, DuckDB refuses readers; status then says so instead of
waiting), and the snapshot for what the analysts see.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.data_dir import raw_path
from pipelines.ingest.order import SOURCES
from pipelines.run.history import OPS_FILE, RunRecord, last_success, recent_runs
from pipelines.run.snapshot import snapshot_info, snapshot_path

# the source-side time of a row, per source, first present column wins: what "latest loaded row" means
SOURCE_TIME_COLUMNS = ("updated_at", "lastmodifieddate", "created")


@dataclass
class SourceFreshness:
    source: str
    last_successful_ingest: str | None = None  # from the run history (q2c run)
    last_load: str | None = None  # dlt's last completed load into raw (q2c run or q2c ingest)
    latest_row_at: str | None = None  # the newest source-side timestamp among the loaded rows
    note: str | None = None


@dataclass
class Status:
    runs: list[RunRecord] = field(default_factory=list)
    freshness: list[SourceFreshness] = field(default_factory=list)
    ledger: dict[str, int] = field(default_factory=dict)  # posting state → count
    dead_letters: list[dict[str, Any]] = field(default_factory=list)  # open ones, oldest first (first N)
    dead_letters_open: int = 0
    snapshot: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "runs": [r.__dict__ | {"steps": [s.__dict__ for s in r.steps]} for r in self.runs],
            "freshness": [f.__dict__ for f in self.freshness],
            "ledger": self.ledger,
            "dead_letters_open": self.dead_letters_open,
            "dead_letters": self.dead_letters,
            "snapshot": self.snapshot,
        }


def read_status(data_dir: Path, *, runs: int = 5, dead_letters: int = 20) -> Status:
    data_dir = Path(data_dir)
    status = Status(runs=recent_runs(data_dir, runs))
    status.freshness = source_freshness(data_dir)
    status.ledger, status.dead_letters, status.dead_letters_open = _ledger(data_dir, dead_letters)
    info = snapshot_info(snapshot_path(data_dir))
    if info:
        status.snapshot = {k: _iso(v) for k, v in info.items()} | {"path": str(snapshot_path(data_dir))}
    return status


def source_freshness(data_dir: Path) -> list[SourceFreshness]:
    result = [SourceFreshness(s, last_successful_ingest=last_success(data_dir, f"ingest.{s}")) for s in SOURCES]
    raw = raw_path(data_dir)
    if not raw.exists():
        for f in result:
            f.note = "nothing ingested yet"
        return result
    try:
        con = duckdb.connect(str(raw), read_only=True)
    except duckdb.IOException:
        for f in result:
            f.note = "raw.duckdb is being written by a run; try again after it"
        return result
    try:
        con.execute("SET TimeZone = 'UTC'")
        for f in result:
            f.last_load, f.latest_row_at = _raw_times(con, f"raw_{f.source}")
    finally:
        con.close()
    return result


def _raw_times(con: duckdb.DuckDBPyConnection, dataset: str) -> tuple[str | None, str | None]:
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ? "
        "AND data_type LIKE 'TIMESTAMP%' AND table_name NOT LIKE '\\_%' ESCAPE '\\'",
        [dataset],
    ).fetchall()
    by_table: dict[str, set[str]] = {}
    for table, column in columns:
        by_table.setdefault(table, set()).add(column)
    selects = []
    for table, present in sorted(by_table.items()):
        column = next((c for c in SOURCE_TIME_COLUMNS if c in present), None)
        if column:
            selects.append(f'SELECT max("{column}") AS t FROM "{dataset}"."{table}"')
    latest = con.execute(f"SELECT max(t) FROM ({' UNION ALL '.join(selects)})").fetchone()[0] if selects else None
    has_loads = con.execute(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = '_dlt_loads'", [dataset]
    ).fetchone()
    last_load = None
    if has_loads:
        last_load = con.execute(f'SELECT max(inserted_at) FROM "{dataset}"._dlt_loads WHERE status = 0').fetchone()[0]
    return _iso(last_load), _iso(latest)


def _ledger(data_dir: Path, limit: int) -> tuple[dict[str, int], list[dict[str, Any]], int]:
    path = data_dir / OPS_FILE
    if not path.exists():
        return {}, [], 0
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    con.row_factory = sqlite3.Row
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        states: dict[str, int] = {}
        if "postings" in tables:
            states = dict(con.execute("SELECT state, count(*) FROM postings GROUP BY state ORDER BY state").fetchall())
        letters: list[dict[str, Any]] = []
        total = 0
        if "dead_letters" in tables:
            letters = [
                dict(r)
                for r in con.execute(
                    "SELECT record_type, external_id, error_code, error_message, created_at FROM dead_letters "
                    "WHERE resolved_at IS NULL ORDER BY dead_letter_id LIMIT ?",
                    (limit,),
                )
            ]
            total = con.execute("SELECT count(*) FROM dead_letters WHERE resolved_at IS NULL").fetchone()[0]
        return states, letters, total
    finally:
        con.close()


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value
