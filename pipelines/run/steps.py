"""Each step of a run as a small callable: ``step(context) -> StepResult``. The heavy imports (dlt, dbt) happen
inside, so ``q2c run`` takes its lock (and refuses a second run) before paying for them."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.ingest.order import INGEST_ORDER, ingest_order

# an error that retrying will not fix until a person changes the configuration
_CONFIG_PROBLEM = re.compile(r"\b401\b|\b403\b|unauthori[sz]ed|ConfigFieldMissing|missing (?:config|secret)", re.I)


@dataclass
class StepContext:
    data_dir: Path
    run_id: str
    progress: Callable[[str], None]
    dry_run: bool = False
    # what earlier steps handed on (the build's reference time for the snapshot)
    shared: dict[str, Any] = field(default_factory=dict)
    # given to a step that runs beside the next one (``Step.overlaps_next``): set once that step has ended.
    # Until then the step leaves the CPU to it (the snapshot works on one thread while the push runs).
    beside: threading.Event | None = None


@dataclass
class StepResult:
    ok: bool
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    config_error: bool = False  # the failure needs a person, not a retry


@dataclass
class Continues:
    """What a step returns when its last part goes on beside the next step (a source's load beside the next
    source's extraction): ``rest`` waits for that part and gives the step's result and the seconds the part
    took by its own clock. The run calls it once the next step has run, and records the step then."""

    rest: Callable[[], tuple[StepResult, float]]


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[StepContext], StepResult | Continues]
    # the next step starts while this one runs (they share no writes): the snapshot copies the warehouse for
    # analysts while the push reads it and writes the ERP and the ledger
    overlaps_next: bool = False


def is_config_problem(message: str | None) -> bool:
    return bool(message and _CONFIG_PROBLEM.search(message))


RAW_DATABASE = "raw_database"  # ctx.shared: raw.duckdb, held open from the first ingest step to the last


def ingest_step(source: str, *, last: bool = True) -> Step:
    """One source's ingest. The run's ingest steps load through one open raw database; a source's load runs beside
    the next step, which extracts the next source (``pipelines/ingest/raw_database.py``): the step returns
    :class:`Continues` then. The ``last`` one loads before it returns and closes raw, so the build can attach it,
    and gives back the memory the ingest freed."""

    def run(ctx: StepContext) -> StepResult | Continues:
        from pipelines.data_dir import raw_path
        from pipelines.ingest.raw_database import RawDatabase
        from pipelines.ingest.runner import extract_traced, load

        raw = ctx.shared.get(RAW_DATABASE)
        if raw is None:
            raw = ctx.shared[RAW_DATABASE] = RawDatabase(raw_path(ctx.data_dir))
        try:
            extracted = extract_traced(ctx.data_dir, source, progress=ctx.progress, raw=raw)
            loading = load(extracted, raw, beside=not last)
        finally:
            if last:
                release_shared(ctx)
        if last:
            result = _ingest_result(loading.result())
            _give_back_memory(ctx)
            return result
        return Continues(lambda: (_ingest_result(loading.result()), loading.seconds))

    return Step(f"ingest.{source}", run)


def _give_back_memory(ctx: StepContext) -> None:
    """After the last source loaded: the memory the ingest freed goes back to the system before the build
    (``pipelines/memory.py``), and the log says how much."""
    from pipelines.memory import give_back

    before, after = give_back()
    if before is not None and after is not None:
        ctx.progress(f"resident memory {before:,.0f} MB, {after:,.0f} MB once the freed memory went back to the system")


def _ingest_result(summary: Any) -> StepResult:
    counts = {
        "rows_loaded": sum(t.rows_loaded for t in summary.tables),
        "new": sum(t.new for t in summary.tables),
        "updated": sum(t.updated for t in summary.tables),
        "pages": summary.pages,
        "retries": summary.retries,
        "quarantined": summary.quarantined,
    }
    if summary.new_fields:
        counts["new_fields"] = len(summary.new_fields)
    counts.update({f"{phase}_seconds": seconds for phase, seconds in summary.phases.items()})
    return StepResult(summary.ok, counts, summary.error, is_config_problem(summary.error))


def build(ctx: StepContext) -> StepResult:
    from pipelines.build.runner import run_build

    result = run_build(ctx.data_dir, progress=ctx.progress)
    ctx.shared["q2c_now"] = result.q2c_now
    counts: dict[str, Any] = {"nodes": result.nodes, **result.counts, "warnings": len(result.warnings)}
    error = result.error
    if error is None and result.failures:
        names = ", ".join(_failure_name(f) for f in result.failures[:5])
        more = f" and {len(result.failures) - 5} more" if len(result.failures) > 5 else ""
        error = f"{len(result.failures)} dbt node(s) failed: {names}{more}"
    return StepResult(result.ok, counts, error)


def snapshot(ctx: StepContext) -> StepResult:
    from pipelines.run.snapshot import publish_snapshot

    result = publish_snapshot(ctx.data_dir, ctx.run_id, q2c_now=ctx.shared.get("q2c_now"), beside=ctx.beside)
    return StepResult(True, {"tables": len(result.tables), "rows": result.rows})


def push(ctx: StepContext) -> StepResult:
    from pipelines.stop_request import stop_requested
    from reverse_etl.erp_client import ErpAuthError
    from reverse_etl.push import push as push_postings
    from reverse_etl.summary import STILL_UNKNOWN

    try:
        summary = push_postings(ctx.data_dir, dry_run=ctx.dry_run, should_stop=stop_requested)
    except ErpAuthError as exc:
        return StepResult(False, {}, f"the ERP refused the credentials: {exc}", config_error=True)
    by_action: Counter[str] = Counter()
    for (_record_type, action), n in (summary.planned if ctx.dry_run else summary.results).items():
        by_action[action] += n
    counts = {**dict(sorted(by_action.items())), "requests": summary.requests, "push_run_id": summary.run_id}
    # rejected postings are dead-lettered with the ERP's reason and become POSTING_REJECTED exceptions, and
    # their dependents wait (blocked) until a person fixes them: business problems for people
    # (--fail-on-severity), not a failed step. A stopped run, or postings whose outcome is still unknown,
    # mean the push could not do its job: retry next run.
    unfinished = Counter(p.kind for p in summary.problems if p.kind == STILL_UNKNOWN)
    if summary.stopped or unfinished:
        error = summary.stopped or ", ".join(f"{n} {kind}" for kind, n in sorted(unfinished.items()))
        return StepResult(False, counts, error)
    return StepResult(True, counts)


def release_shared(ctx: StepContext) -> None:
    """Close what steps keep open for the steps after them (the raw database); the run calls it when it ends."""
    raw = ctx.shared.pop(RAW_DATABASE, None)
    if raw is not None:
        raw.close()


def _failure_name(failure: object) -> str:
    for attr in ("unique_id", "name", "node"):
        value = getattr(failure, attr, None)
        if isinstance(value, str):
            return value
    return str(failure)


def default_steps(sources: tuple[str, ...] = INGEST_ORDER, skip: tuple[str, ...] = ()) -> list[Step]:
    """The scheduled run: every source (in ``INGEST_ORDER``), the build, the snapshot, the push (minus what ``skip``
    names)."""
    sources = ingest_order(sources)
    steps = [ingest_step(s, last=s == sources[-1]) for s in sources] if "ingest" not in skip else []
    if "build" not in skip:
        steps += [Step("build", build), Step("snapshot", snapshot, overlaps_next=True)]
    if "push" not in skip:
        steps.append(Step("push", push))
    return steps
