"""Crash safety: the push is SIGKILLed at 20+ points (after the ledger says in_flight, between the ERP's
commit and the ledger write, after the outcome is recorded), rerun until done, and every posting is then in
the ERP exactly once, holding its payload, with no sublist line doubled — for creates and for updates."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from reverse_etl.crash_points import ENV_VAR, POINTS
from reverse_etl.push import ledger_states
from reverse_etl.record_match import holds_payload
from tests.reverse_etl import warehouse as wh

REPO = Path(__file__).resolve().parents[2]
SCRIPT = (
    "import sys\n"
    "from reverse_etl.push import push\n"
    "summary = push(sys.argv[1], endpoint=(sys.argv[2], 'q2c-erp-sandbox'))\n"
    "sys.exit(0 if summary.ok else 3)\n"
)


def run_push(data_dir: Path, url: str, kill_at: str | None) -> int:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop(ENV_VAR, None)
    if kill_at:
        env[ENV_VAR] = kill_at
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(data_dir), url],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, -signal.SIGKILL), done.stderr[-3000:]
    return done.returncode


def crash_until_done(data_dir: Path, url: str, max_runs: int = 40) -> int:
    """Run, killed at a different point each time, until a run finishes before reaching its point."""
    for i in range(max_runs):
        point = f"{POINTS[i % len(POINTS)]}:{1 + (i // len(POINTS)) % 2}"
        if run_push(data_dir, url, point) == 0:
            assert run_push(data_dir, url, None) == 0
            return i
    raise AssertionError(f"still being killed after {max_runs} runs")


def assert_exactly_once(view, postings: list[wh.Posting]) -> None:
    for p in postings:
        record = view.get(p.record_type, p.external_id)
        assert record is not None, p.external_id
        assert holds_payload(record, json.loads(p.payload)), (p.external_id, record)  # lines counted too
    by_type: dict[str, int] = {}
    for p in postings:
        by_type[p.record_type] = by_type.get(p.record_type, 0) + 1
    fixture_counts = {"customer": 3, "invoice": 1}  # records the ERP held before q2c
    for record_type, n in by_type.items():
        assert view.count(record_type) == n + fixture_counts.get(record_type, 0), record_type


@pytest.mark.slow
def test_sigkill_anywhere_never_duplicates_or_doubles_lines(erp, view, data_dir):
    postings = wh.company_postings(10)  # 10 customers, invoices and journals, 5 payments, 3 credit memos
    wh.write_warehouse(data_dir, postings)
    kills = crash_until_done(data_dir, erp.url)
    assert_exactly_once(view, postings)

    # every invoice and journal changes: updates replace lines; a crash mid-update must not append them
    changed = [p for p in postings if p.record_type not in ("invoice", "journalEntry")]
    changed += [wh.invoice(n, lines=3, rate="7.25") for n in range(1, 11)]
    changed += [wh.journal(n, amount="55.5", lines=4) for n in range(1, 11)]
    wh.write_warehouse(data_dir, changed)
    kills += crash_until_done(data_dir, erp.url)
    assert_exactly_once(view, changed)

    assert kills >= 20
    assert set(ledger_states(data_dir).values()) == {"posted"}
    with sqlite3.connect(data_dir / "ops.sqlite") as con:
        found = con.execute(
            "select count(*) from posting_events where from_state = 'unknown' and to_state = 'posted'"
        ).fetchone()[0]
    assert found > 0  # some commits were only learnt of by looking the record up after a crash
