"""``q2c build``: run the dbt project in-process against the data folder and say what happened.

dbt reads ``raw.duckdb`` (attached read-only) and the ops store, and writes only ``warehouse.duckdb``;
its target/ and logs/ live under ``<data>/dbt``. One parse, then one ``dbt build`` (seeds, models, tests and
snapshots in dependency order) that reuses the parsed manifest.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.build.dbt_session import DbtInvocationError, DbtSession
from pipelines.build.events import BuildListener
from pipelines.build.failures import NodeFailure, attach_samples, node_failures
from pipelines.build.incremental import Tracked, drop_stale, record_built, tracked_models
from pipelines.build.paths import PROJECT_DIR, BuildPaths
from pipelines.build.reference_time import iso_utc
from pipelines.build.timing import BuildTiming

DEFAULT_THREADS = 2  # the machine q2c targets has few cores; DuckDB parallelises inside each query anyway
BUILD_RECORD = "q2c_build.json"  # in dbt's target/: this build's clock and DuckDB settings (bench/build_sql.py)


@dataclass
class BuildResult:
    data_dir: Path
    q2c_now: str
    select: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # dbt status → nodes
    failures: list[NodeFailure] = field(default_factory=list)  # error / fail, with failing rows for tests
    warnings: list[NodeFailure] = field(default_factory=list)
    error: str | None = None  # dbt could not run at all (parse error, no raw.duckdb, …)
    rebuilt: list[str] = field(default_factory=list)  # incremental models built in full: their SQL changed
    timing: BuildTiming = field(default_factory=BuildTiming)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failures

    @property
    def nodes(self) -> int:
        return sum(self.counts.values())

    @property
    def warehouse(self) -> Path:
        return BuildPaths(self.data_dir).warehouse


def _select_args(select: str | Sequence[str] | None) -> list[str]:
    if not select:
        return []
    return select.split() if isinstance(select, str) else [s for item in select for s in item.split()]


def build_args(select: list[str], full_refresh: bool, unit_tests: bool = False) -> list[str]:
    args = ["build"]
    if select:
        args += ["--select", *select]
    if full_refresh:
        args.append("--full-refresh")
    if not unit_tests:
        # dbt's unit tests check the SQL's logic on fixed fixture rows, not the data: they belong to the test
        # suite (tests/dbt_project/test_publish.py runs them), not to every build, where they cost a few seconds
        args += ["--exclude-resource-type", "unit_test"]
    return args


def run_build(
    data_dir: str | os.PathLike[str],
    *,
    now: datetime | str | None = None,
    select: str | Sequence[str] | None = None,
    full_refresh: bool = False,
    vars: dict[str, Any] | None = None,  # noqa: A002 — dbt's own name for them
    project_dir: Path | None = None,
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
    unit_tests: bool = False,
) -> BuildResult:
    """Build the warehouse from ``raw.duckdb``; never raises for a failing node (see ``BuildResult``).

    dbt's unit tests (fixture rows, not data) run only with ``unit_tests=True``, as in the test suite.
    """
    started = time.perf_counter()
    paths = BuildPaths(Path(data_dir).resolve(), project_dir or PROJECT_DIR)
    dbt_vars = dict(vars or {})
    if now is not None or "q2c_now" not in dbt_vars:
        dbt_vars["q2c_now"] = iso_utc(now)
    threads = threads or int(os.environ.get("Q2C_DBT_THREADS", DEFAULT_THREADS))
    result = BuildResult(paths.data_dir, str(dbt_vars["q2c_now"]), _select_args(select))
    result.timing.threads = threads
    if not paths.raw.exists():
        result.error = f"no {paths.raw}: run `q2c ingest` first"
        return result

    listener = BuildListener(progress)
    outcome = None
    with DbtSession(paths, dbt_vars=dbt_vars, threads=threads, callbacks=[listener]) as session:
        clock = time.perf_counter()
        try:
            session.parse()
        except DbtInvocationError as exc:
            result.error = str(exc)
        result.timing.parse_seconds = time.perf_counter() - clock
        tracked: list[Tracked] = []
        if result.error is None:
            tracked = tracked_models(session.manifest, paths.project_dir)
            try:
                selected = session.list_models(result.select) if result.select else None
                result.rebuilt = drop_stale(paths, tracked, selected)
            except DbtInvocationError as exc:  # a selection dbt cannot read
                result.error = str(exc)
        if result.error is None:
            clock = time.perf_counter()
            outcome = session.invoke(build_args(result.select, full_refresh, unit_tests))
            result.timing.build_seconds = time.perf_counter() - clock
    # dbt has closed DuckDB by now, so the failing rows can be read from the warehouse
    if outcome is not None:
        run = outcome.result
        results = list(getattr(run, "results", None) or [])
        if outcome.exception is not None:
            result.error = f"dbt build failed: {outcome.exception}"
        result.counts = dict(Counter(str(r.status) for r in results))
        result.failures = node_failures(results)
        result.warnings = node_failures(results, ("warn",))
        attach_samples(result.failures + result.warnings, paths)
        _fill_timing(result.timing, results, getattr(run, "elapsed_time", 0.0) or 0.0)
        record_built(paths, tracked, {r.node.unique_id: str(r.status) for r in results})
    result.timing.sql_seconds = listener.clock.wall_seconds
    result.timing.sql_sum_seconds = listener.clock.sum_seconds
    result.timing.queries = listener.clock.queries
    result.timing.total_seconds = time.perf_counter() - started
    if outcome is not None:
        _record(paths, result)
    return result


def _record(paths: BuildPaths, result: BuildResult) -> None:
    """What the build took and with which DuckDB settings, beside dbt's run_results.json."""
    timing = result.timing
    record = {
        "q2c_now": result.q2c_now,
        "select": result.select,
        "ok": result.ok,
        "total_seconds": round(timing.total_seconds, 3),
        "parse_seconds": round(timing.parse_seconds, 3),
        "build_seconds": round(timing.build_seconds, 3),
        "sql_seconds": round(timing.sql_seconds, 3),
        "dbt_threads": timing.threads,
        "duckdb_settings": paths.duckdb_settings(),
    }
    (paths.target / BUILD_RECORD).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


SLOWEST = 5


def _fill_timing(timing: BuildTiming, results: list[Any], elapsed: float) -> None:
    timing.dbt_elapsed_seconds = elapsed
    ranked = sorted(results, key=lambda r: r.execution_time or 0.0, reverse=True)[:SLOWEST]
    timing.slowest = [(r.node.unique_id, r.execution_time or 0.0) for r in ranked]
    for r in results:
        for step in r.timing:
            if step.started_at and step.completed_at:
                seconds = (step.completed_at - step.started_at).total_seconds()
                if step.name == "compile":
                    timing.compile_seconds += seconds
                elif step.name == "execute":
                    timing.node_execute_seconds += seconds
