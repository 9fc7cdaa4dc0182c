"""Exit codes a scheduler can act on: configuration error, a failed step, a bad option; and the orchestration's
rules (independent ingest sources all run, a failure stops the rest, an unexpected error is recorded)."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.run.exit_codes import ExitCode
from pipelines.run.history import recent_runs
from pipelines.run.orchestrate import BESIDE_NICENESS, execute_run
from pipelines.run.steps import Continues, Step, StepResult
from tests.pipelines.conftest import start_cluster
from tests.pipelines.run.conftest import finish
from tests.pipelines.run.served import q2c, q2c_environment


@pytest.mark.slow
def test_credentials_refused_is_a_configuration_error(scenario_dir, tmp_path):
    cluster = start_cluster(scenario_dir, tmp_path / "scratch")
    try:
        wrong = dict.fromkeys(("crm", "billing", "erp"), "not-the-token-0000")
        env = q2c_environment(cluster, wrong, tmp_path / "data")
        done = finish(q2c("run", env=env, cwd=tmp_path), time.perf_counter(), 300)
    finally:
        cluster.stop()
    assert done.returncode == ExitCode.CONFIG_ERROR, done.stderr[-3000:]
    assert "not-the-token-0000" not in done.stdout + done.stderr
    (run,) = recent_runs(tmp_path / "data")
    assert [(s.step, s.outcome) for s in run.steps] == [
        ("ingest.billing", "failed"),
        ("ingest.erp", "failed"),
        ("ingest.crm", "failed"),
        ("build", "skipped"),
        ("snapshot", "skipped"),
        ("push", "skipped"),
    ]


@pytest.mark.slow
def test_a_failed_step_exits_1_and_skips_the_rest(tmp_path):
    # nothing ingested: the real build refuses to run
    env_dir = tmp_path / "data"
    result = CliRunner().invoke(cli, ["--data-dir", str(env_dir), "run", "--skip", "ingest"])
    assert result.exit_code == ExitCode.STEP_FAILED, result.output
    (run,) = recent_runs(env_dir)
    assert (run.outcome, run.exit_code) == ("failed", 1)
    assert [(s.step, s.outcome) for s in run.steps] == [
        ("build", "failed"),
        ("snapshot", "skipped"),
        ("push", "skipped"),
    ]
    assert "q2c ingest" in run.steps[0].error
    assert not (env_dir / "snapshot").exists()


def test_a_bad_option_is_a_configuration_error():
    result = CliRunner().invoke(cli, ["run", "--fail-on-severity", "apocalyptic"])
    assert result.exit_code == ExitCode.CONFIG_ERROR
    assert "critical" in result.output


def test_every_exit_code_is_documented_in_the_help_and_the_readme():
    from tests.pipelines.run.served import REPO

    help_text = CliRunner().invoke(cli, ["run", "--help"]).output
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in ExitCode:
        assert f"{int(code):>3}  {code.meaning}" in help_text
        assert f"| {int(code)} |" in section, f"exit code {int(code)} missing from the README"


def step(name: str, ok: bool = True, *, config_error: bool = False, raises: bool = False) -> Step:
    def run(_ctx) -> StepResult:
        if raises:
            raise RuntimeError("boom")
        return StepResult(ok, {"rows": 1}, None if ok else f"{name} broke", config_error)

    return Step(name, run)


def test_ingest_sources_all_run_then_a_failure_stops_the_run(tmp_path):
    plan = [step("ingest.crm", ok=False), step("ingest.billing"), step("ingest.erp"), step("build"), step("push")]
    outcome = execute_run(tmp_path, steps=plan)
    assert outcome.exit_code == ExitCode.STEP_FAILED
    assert [s.name for s in outcome.steps] == ["ingest.crm", "ingest.billing", "ingest.erp"]
    (run,) = recent_runs(tmp_path)
    assert [s.outcome for s in run.steps] == ["failed", "ok", "ok", "skipped", "skipped"]


def test_a_configuration_failure_anywhere_wins_over_a_plain_failure(tmp_path):
    plan = [step("ingest.crm", ok=False), step("ingest.erp", ok=False, config_error=True), step("build")]
    assert execute_run(tmp_path, steps=plan).exit_code == ExitCode.CONFIG_ERROR


def test_a_step_that_raises_is_recorded_as_failed_and_the_lock_is_released(tmp_path):
    outcome = execute_run(tmp_path, steps=[step("build", raises=True), step("push")])
    assert outcome.exit_code == ExitCode.STEP_FAILED and "RuntimeError: boom" in outcome.message
    (run,) = recent_runs(tmp_path)
    assert [s.outcome for s in run.steps] == ["failed", "skipped"]
    assert execute_run(tmp_path, steps=[step("build")]).exit_code == ExitCode.OK


def test_a_step_that_says_nothing_gets_a_heartbeat(tmp_path, caplog):
    def slow(_ctx) -> StepResult:
        time.sleep(0.5)
        return StepResult(True)

    with caplog.at_level("INFO", logger="q2c.run"):
        execute_run(tmp_path, steps=[Step("push", slow)], heartbeat_seconds=0.15)
    assert any("still running" in r.getMessage() for r in caplog.records)


def test_an_unwritable_data_folder_is_a_configuration_error(tmp_path):
    (tmp_path / "run.lock").mkdir()  # the lock cannot be a file here (permissions would not stop root)
    assert execute_run(tmp_path, steps=[step("build")]).exit_code == ExitCode.CONFIG_ERROR


def test_an_interrupted_run_says_so_in_the_history(tmp_path):
    def interrupted(_ctx) -> StepResult:
        raise KeyboardInterrupt  # what SIGINT, or SIGTERM through the CLI's handler, does mid-step

    with pytest.raises(KeyboardInterrupt):
        execute_run(tmp_path, steps=[Step("build", interrupted)])
    (run,) = recent_runs(tmp_path)
    assert run.outcome == "interrupted" and run.steps[0].outcome == "interrupted"
    assert execute_run(tmp_path, steps=[step("build")]).exit_code == ExitCode.OK  # the lock went with it


def test_a_step_that_overlaps_the_next_runs_beside_it_and_the_run_waits_for_both(tmp_path):
    push_started = threading.Event()

    def snapshot(ok: bool = True):
        def run(_ctx) -> StepResult:
            beside = push_started.wait(10)  # only true if the push started while this step runs
            time.sleep(0.2)  # and ends after it: the run waits for it all the same
            return StepResult(ok and beside, {"rows": 1}, None if ok and beside else "disk full")

        return run

    def push(_ctx) -> StepResult:
        push_started.set()
        return StepResult(True, {"rows": 1})

    plan = [step("build"), Step("snapshot", snapshot(), overlaps_next=True), Step("push", push)]
    assert execute_run(tmp_path, steps=plan).exit_code == ExitCode.OK
    (run,) = recent_runs(tmp_path)
    assert [(s.step, s.outcome, s.counts) for s in run.steps] == [
        ("build", "ok", {"rows": 1}),
        ("snapshot", "ok", {"rows": 1}),
        ("push", "ok", {"rows": 1}),
    ]

    plan = [Step("snapshot", snapshot(ok=False), overlaps_next=True), Step("push", push), step("x")]
    outcome = execute_run(tmp_path, steps=plan)
    assert outcome.exit_code == ExitCode.STEP_FAILED and outcome.message == "snapshot failed: disk full"
    latest = recent_runs(tmp_path)[0]
    assert [(s.step, s.outcome) for s in latest.steps] == [("snapshot", "failed"), ("push", "ok"), ("x", "skipped")]


def test_a_step_whose_rest_goes_on_beside_the_next_is_recorded_after_it_with_both_parts_seconds(tmp_path):
    """An ingest step returns ``Continues`` (its source loads beside the next source's extraction): the next step
    starts at once, the step is recorded once it ends, with its own seconds plus the rest's; a failing rest fails
    the step (and the run after its ingest steps), and a rest that raises is a failed step, not a crash."""
    order: list[str] = []
    loaded = threading.Event()

    def extract_then_load(ok: bool = True, raises: bool = False):
        def run(_ctx) -> Continues:
            order.append("extract a")

            def rest() -> tuple[StepResult, float]:
                assert loaded.wait(10)  # the next step ran meanwhile
                order.append("rest of a")
                if raises:
                    raise RuntimeError("bug in the load")
                return StepResult(ok, {"rows": 2}, None if ok else "load failed"), 5.0

            return Continues(rest)

        return run

    def extract_b(_ctx) -> StepResult:
        order.append("b")
        loaded.set()
        return StepResult(True, {"rows": 1})

    plan = [Step("ingest.a", extract_then_load()), Step("ingest.b", extract_b), step("build")]
    assert execute_run(tmp_path, steps=plan).exit_code == ExitCode.OK
    assert order == ["extract a", "b", "rest of a"]
    (run,) = recent_runs(tmp_path)
    assert [(s.step, s.outcome, s.counts) for s in run.steps] == [
        ("ingest.a", "ok", {"rows": 2}),
        ("ingest.b", "ok", {"rows": 1}),
        ("build", "ok", {"rows": 1}),
    ]
    assert run.steps[0].seconds >= 5.0  # its own part plus the rest's, by the rest's own clock

    for broken, error in ((extract_then_load(ok=False), "load failed"), (extract_then_load(raises=True), "bug")):
        loaded.clear()
        plan = [Step("ingest.a", broken), Step("ingest.b", extract_b), step("build")]
        outcome = execute_run(tmp_path, steps=plan)
        assert outcome.exit_code == ExitCode.STEP_FAILED and error in outcome.message
        latest = recent_runs(tmp_path)[0]
        assert [(s.step, s.outcome) for s in latest.steps] == [
            ("ingest.a", "failed"),
            ("ingest.b", "ok"),
            ("build", "skipped"),
        ]


def test_the_step_beside_gives_way_and_hears_when_the_next_step_ended(tmp_path):
    seen: dict[str, object] = {}
    push_done = threading.Event()

    def niceness() -> int | None:  # of the calling thread: Linux gives each thread its own
        on_linux = sys.platform.startswith("linux")
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) if on_linux else None

    def snapshot(ctx) -> StepResult:
        seen["snapshot_niceness"] = niceness()
        seen["told_early"] = ctx.beside.is_set()
        seen["told"] = ctx.beside.wait(10)
        seen["push_was_done"] = push_done.is_set()  # the event is set only after the push returned
        return StepResult(True)

    def push(ctx) -> StepResult:
        seen["push_niceness"], seen["push_beside"] = niceness(), ctx.beside
        time.sleep(0.2)
        push_done.set()
        return StepResult(True)

    before = niceness()
    plan = [Step("snapshot", snapshot, overlaps_next=True), Step("push", push)]
    assert execute_run(tmp_path, steps=plan).exit_code == ExitCode.OK
    assert seen["told_early"] is False and seen["told"] is True and seen["push_was_done"] is True
    assert seen["push_beside"] is None and seen["push_niceness"] == before == niceness()
    if sys.platform.startswith("linux"):  # elsewhere the thread keeps its priority
        assert seen["snapshot_niceness"] == BESIDE_NICENESS
