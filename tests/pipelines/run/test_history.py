"""Run history in ops.sqlite: runs, their steps, what a killed run leaves, and the ledger's tables untouched."""

from __future__ import annotations

import sqlite3

from pipelines.run.history import RunHistory, last_success, recent_runs


def test_a_run_and_its_steps_are_recorded_in_order(tmp_path):
    history = RunHistory(tmp_path)
    history.start_run("run-1", {"dry_run": False})
    history.start_step("run-1", "ingest.crm")
    history.finish_step("run-1", "ingest.crm", outcome="ok", seconds=1.5, counts={"rows_loaded": 10})
    history.start_step("run-1", "build")
    history.finish_step("run-1", "build", outcome="failed", seconds=2.0, error="1 dbt node(s) failed")
    history.skip_step("run-1", "push", "build failed")
    history.finish_run("run-1", outcome="failed", exit_code=1, error="build failed")
    history.close()

    (run,) = recent_runs(tmp_path)
    assert (run.run_id, run.outcome, run.exit_code) == ("run-1", "failed", 1)
    assert [(s.step, s.outcome) for s in run.steps] == [("ingest.crm", "ok"), ("build", "failed"), ("push", "skipped")]
    assert run.steps[0].counts == {"rows_loaded": 10} and run.steps[0].seconds == 1.5
    assert run.started_at.endswith("Z")
    assert last_success(tmp_path, "ingest.crm") == run.steps[0].finished_at
    assert last_success(tmp_path, "build") is None


def test_a_run_that_died_is_marked_abandoned_by_the_next(tmp_path):
    dead = RunHistory(tmp_path)
    dead.start_run("run-dead", {})
    dead.start_step("run-dead", "build")
    dead.close()  # the process died here: no finish

    history = RunHistory(tmp_path)
    assert history.abandon_unfinished() == 1
    history.close()
    (run,) = recent_runs(tmp_path)
    assert run.outcome == "abandoned" and run.steps[0].outcome == "abandoned"


def test_wal_mode_and_only_our_own_tables(tmp_path):
    RunHistory(tmp_path).close()
    con = sqlite3.connect(tmp_path / "ops.sqlite")
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in con.execute("select name from sqlite_master where type = 'table'")}
    assert tables == {"runs", "run_steps"}
    con.close()


def test_nothing_recorded_reads_as_empty(tmp_path):
    assert recent_runs(tmp_path) == []
    assert last_success(tmp_path, "build") is None
