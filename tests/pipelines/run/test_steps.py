"""The run's ingest steps share one open raw.duckdb, and the run closes it however its steps end."""

from __future__ import annotations

import duckdb

from pipelines.data_dir import raw_path
from pipelines.run.exit_codes import ExitCode
from pipelines.run.orchestrate import execute_run
from pipelines.run.steps import RAW_DATABASE, Step, StepResult, default_steps, ingest_step
from tests.pipelines.conftest import endpoints_of


def _serve(sandbox, monkeypatch, *sources: str) -> None:
    for source in sources:
        endpoint = endpoints_of(sandbox)[source]
        monkeypatch.setenv(f"SOURCES__{source.upper()}__BASE_URL", endpoint.base_url)
        monkeypatch.setenv(f"SOURCES__{source.upper()}__ACCESS_TOKEN", endpoint.token)


def test_the_last_ingest_step_closes_raw_for_the_step_after_it(sandbox, tmp_path, monkeypatch):
    _serve(sandbox, monkeypatch, "crm", "erp")
    seen: list[tuple] = []

    def after_ingest(ctx) -> StepResult:  # where the build attaches raw
        with duckdb.connect(str(raw_path(ctx.data_dir)), read_only=True) as con:
            tables = con.execute(
                "select table_schema, count(*) from information_schema.tables group by all order by 1"
            ).fetchall()
        seen.append((RAW_DATABASE in ctx.shared, dict(tables)))
        return StepResult(True)

    plan = [*default_steps(("crm", "erp"), skip=("build", "push")), Step("after", after_ingest)]
    assert [s.name for s in plan] == ["ingest.erp", "ingest.crm", "after"]  # in INGEST_ORDER, crm last
    outcome = execute_run(tmp_path, steps=plan)
    assert outcome.exit_code == ExitCode.OK, [(s.name, s.result.error) for s in outcome.steps]
    [(still_held, tables)] = seen
    assert not still_held
    assert tables.get("raw_crm", 0) > 0 and tables.get("raw_erp", 0) > 0, tables


def test_a_run_that_fails_between_ingest_steps_still_closes_raw(sandbox, tmp_path, monkeypatch):
    _serve(sandbox, monkeypatch, "crm")
    held: list[object] = []

    def broken(ctx) -> StepResult:
        held.append(ctx.shared.get(RAW_DATABASE))  # the first step left raw open for the ingest steps after it
        raise RuntimeError("a bug in a step")

    plan = [ingest_step("crm", last=False), Step("broken", broken)]
    outcome = execute_run(tmp_path, steps=plan)
    assert outcome.exit_code == ExitCode.STEP_FAILED
    assert [(s.name, s.result.ok) for s in outcome.steps] == [("ingest.crm", True), ("broken", False)]
    assert held[0] is not None
    # closed by the run: this process opens the file again, read-only, and sees what crm loaded
    with duckdb.connect(str(raw_path(tmp_path)), read_only=True) as con:
        assert con.execute("select count(*) from raw_crm.companies").fetchone()[0] > 0
