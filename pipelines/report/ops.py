"""What the report reads from the ops store (``<data>/ops.sqlite``): the run history and the push ledger.

Opened read-only (the run writes it in WAL mode, so reading never blocks a run). A data folder where nothing
has been pushed has no ledger tables yet; that is a state to report, not an error.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.run.history import OPS_FILE, RunRecord, recent_runs

RUNS_SHOWN = 15


@dataclass
class Ledger:
    postings_by_state: dict[str, int] = field(default_factory=dict)
    dead_letters_open: int = 0
    push_runs: list[dict[str, Any]] = field(default_factory=list)  # newest first


def run_history(data_dir: Path, limit: int = RUNS_SHOWN) -> list[RunRecord]:
    """The latest runs, newest first; empty when the data folder has none."""
    return recent_runs(data_dir, limit)


def read_ledger(data_dir: Path, push_runs: int = 5) -> Ledger | None:
    """The ledger's state, or None when nothing was ever pushed (no ops store, or no ledger tables in it)."""
    path = Path(data_dir) / OPS_FILE
    if not path.exists():
        return None
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    con.row_factory = sqlite3.Row
    try:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "postings" not in tables:
            return None
        ledger = Ledger(
            dict(con.execute("SELECT state, count(*) FROM postings GROUP BY state ORDER BY state").fetchall())
        )
        if "dead_letters" in tables:
            ledger.dead_letters_open = con.execute(
                "SELECT count(*) FROM dead_letters WHERE resolved_at IS NULL"
            ).fetchone()[0]
        if "push_runs" in tables:
            ledger.push_runs = [
                dict(r)
                for r in con.execute(
                    "SELECT run_id, kind, started_at, finished_at, outcome FROM push_runs "
                    "ORDER BY started_at DESC LIMIT ?",
                    (push_runs,),
                )
            ]
        return ledger
    finally:
        con.close()
