"""Run history in the ops store (``<data>/ops.sqlite``): tables ``runs`` and ``run_steps``.

The ledger (reverse_etl.ledger) owns the other tables of the same file; this module opens its own
connection, in WAL mode, so a status reader never blocks a run and the run never blocks the push's writes.
Times are UTC ISO-8601 strings with a ``Z``; counts are a JSON object per step.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OPS_FILE = "ops.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id       TEXT PRIMARY KEY,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    outcome      TEXT NOT NULL,          -- running | ok | failed | abandoned
    exit_code    INTEGER,
    host         TEXT,
    pid          INTEGER,
    options      TEXT,                   -- JSON: the flags the run was started with
    error        TEXT
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
CREATE TABLE IF NOT EXISTS run_steps (
    run_id       TEXT NOT NULL REFERENCES runs (run_id),
    step         TEXT NOT NULL,          -- ingest.crm | ingest.billing | ingest.erp | build | snapshot | push
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    seconds      REAL,
    outcome      TEXT NOT NULL,          -- running | ok | failed | skipped
    counts       TEXT,                   -- JSON object
    error        TEXT,
    PRIMARY KEY (run_id, step)
);
CREATE INDEX IF NOT EXISTS run_steps_step ON run_steps (step, outcome, finished_at);
"""


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class StepRecord:
    step: str
    started_at: str
    finished_at: str | None
    seconds: float | None
    outcome: str
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class RunRecord:
    run_id: str
    started_at: str
    finished_at: str | None
    outcome: str
    exit_code: int | None
    error: str | None
    steps: list[StepRecord] = field(default_factory=list)


class RunHistory:
    """Writes one run's rows; each call is its own committed transaction (a killed run leaves what it did)."""

    def __init__(self, data_dir: Path) -> None:
        path = Path(data_dir) / OPS_FILE
        self._conn = sqlite3.connect(path, isolation_level=None, timeout=10)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def abandon_unfinished(self) -> int:
        """Runs still marked running died without finishing; called only while holding the run lock."""
        cur = self._conn.execute(
            "UPDATE runs SET outcome = 'abandoned', finished_at = ? WHERE outcome = 'running'", (utc_now(),)
        )
        self._conn.execute("UPDATE run_steps SET outcome = 'abandoned' WHERE outcome = 'running'")
        return cur.rowcount

    def start_run(self, run_id: str, options: dict[str, Any]) -> None:
        self._conn.execute(
            "INSERT INTO runs (run_id, started_at, outcome, host, pid, options) VALUES (?, ?, 'running', ?, ?, ?)",
            (run_id, utc_now(), socket.gethostname(), os.getpid(), json.dumps(options, sort_keys=True)),
        )

    def start_step(self, run_id: str, step: str) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO run_steps (run_id, step, started_at, outcome) VALUES (?, ?, ?, 'running')",
            (run_id, step, utc_now()),
        )

    def finish_step(
        self,
        run_id: str,
        step: str,
        *,
        outcome: str,
        seconds: float,
        counts: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        self._conn.execute(
            "UPDATE run_steps SET finished_at = ?, seconds = ?, outcome = ?, counts = ?, error = ? "
            "WHERE run_id = ? AND step = ?",
            (utc_now(), round(seconds, 3), outcome, json.dumps(counts or {}, sort_keys=True), error, run_id, step),
        )

    def skip_step(self, run_id: str, step: str, reason: str) -> None:
        now = utc_now()
        self._conn.execute(
            "INSERT OR REPLACE INTO run_steps (run_id, step, started_at, finished_at, seconds, outcome, error) "
            "VALUES (?, ?, ?, ?, 0, 'skipped', ?)",
            (run_id, step, now, now, reason),
        )

    def finish_run(self, run_id: str, *, outcome: str, exit_code: int, error: str | None = None) -> None:
        self._conn.execute(
            "UPDATE runs SET finished_at = ?, outcome = ?, exit_code = ?, error = ? WHERE run_id = ?",
            (utc_now(), outcome, exit_code, error, run_id),
        )

    def interrupt_run(self, run_id: str, *, error: str) -> None:
        """A signal or a crash ended the run mid-step: say so, rather than leave it "running", with how long the
        step ran."""
        now = utc_now()
        self._conn.execute(
            "UPDATE run_steps SET outcome = 'interrupted', finished_at = ?,"
            " seconds = round((julianday(?) - julianday(started_at)) * 86400.0, 3)"
            " WHERE run_id = ? AND outcome = 'running'",
            (now, now, run_id),
        )
        self._conn.execute(
            "UPDATE runs SET outcome = 'interrupted', finished_at = ?, error = ? WHERE run_id = ?", (now, error, run_id)
        )


def _read_only(data_dir: Path) -> sqlite3.Connection | None:
    path = Path(data_dir) / OPS_FILE
    if not path.exists():
        return None
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    con.row_factory = sqlite3.Row
    has_runs = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()
    if not has_runs:
        con.close()
        return None
    return con


def recent_runs(data_dir: Path, limit: int = 10) -> list[RunRecord]:
    """The latest runs, newest first, each with its steps in the order they started."""
    con = _read_only(data_dir)
    if con is None:
        return []
    try:
        runs = [
            RunRecord(r["run_id"], r["started_at"], r["finished_at"], r["outcome"], r["exit_code"], r["error"])
            for r in con.execute("SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?", (limit,)).fetchall()
        ]
        for run in runs:
            for s in con.execute(
                "SELECT * FROM run_steps WHERE run_id = ? ORDER BY started_at, rowid", (run.run_id,)
            ).fetchall():
                run.steps.append(
                    StepRecord(
                        s["step"],
                        s["started_at"],
                        s["finished_at"],
                        s["seconds"],
                        s["outcome"],
                        json.loads(s["counts"] or "{}"),
                        s["error"],
                    )
                )
        return runs
    finally:
        con.close()


def last_success(data_dir: Path, step: str) -> str | None:
    """When ``step`` last finished ok (UTC ISO), or None."""
    con = _read_only(data_dir)
    if con is None:
        return None
    try:
        row = con.execute(
            "SELECT max(finished_at) FROM run_steps WHERE step = ? AND outcome = 'ok'", (step,)
        ).fetchone()
        return row[0] if row else None
    finally:
        con.close()
