"""One scheduled run: take the lock, record the run, run each step in order, stop at the first failure,
and turn the outcome into an exit code. A step marked ``overlaps_next`` (the snapshot) runs beside the step
after it (the push): neither reads what the other writes, and the run waits for both. The step beside gives way:
its thread runs at the lowest CPU priority, and it is told (``StepContext.beside``) when the other step is done.
The CLI (``pipelines/cli_run.py``) only parses flags and calls :func:`execute_run`; tests call it too, with their
own steps."""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.ingest.order import INGEST_ORDER
from pipelines.run.exit_codes import ExitCode
from pipelines.run.history import OPS_FILE, RunHistory
from pipelines.run.lock import LockHeldError, RunLock
from pipelines.run.logs import log, reclaim_handlers, scrub
from pipelines.run.steps import Continues, Step, StepContext, StepResult, default_steps, release_shared
from pipelines.stop_request import raise_if_stopped

logger = logging.getLogger("q2c.run")

HEARTBEAT_SECONDS = 15.0  # a step that said nothing for this long gets a "still running" line
# The niceness of a step's thread while it runs beside the next step: that step (the push) waits on the ERP and
# on the ledger's synced writes between bursts of CPU, and the step beside (the snapshot: file copies and Parquet
# encoding) fills the CPU it leaves idle instead of taking turns with it. Measured (a throwaway script pushing
# 5,000 postings beside a snapshot of a 456 MB warehouse, three runs each): both done in 6.8-7.3 s as equals,
# 6.0-6.1 s like this with the snapshot on one thread; the push alone takes 5.3-5.6 s.
BESIDE_NICENESS = 19


@dataclass
class RunOptions:
    dry_run: bool = False
    fail_on_severity: str | None = None
    sources: tuple[str, ...] = INGEST_ORDER
    skip: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "fail_on_severity": self.fail_on_severity,
            "sources": list(self.sources),
            "skip": list(self.skip),
        }


@dataclass
class StepOutcome:
    name: str
    result: StepResult
    seconds: float


@dataclass
class RunOutcome:
    run_id: str
    exit_code: ExitCode
    steps: list[StepOutcome] = field(default_factory=list)
    message: str = ""


def new_run_id() -> str:
    return f"run-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def execute_run(
    data_dir: Path,
    options: RunOptions | None = None,
    *,
    steps: Sequence[Step] | None = None,
    on_run_id: Callable[[str], None] | None = None,
    on_locked: Callable[[], None] | None = None,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> RunOutcome:
    """Never raises for a failing step; a crash inside the orchestration itself is recorded, then re-raised."""
    options = options or RunOptions()
    run_id = new_run_id()
    if on_run_id is not None:
        on_run_id(run_id)
    try:
        lock = RunLock(data_dir, run_id).acquire()
    except LockHeldError as exc:
        log(logger, logging.ERROR, str(exc), exit_code=int(ExitCode.LOCK_HELD), holder=exc.holder)
        return RunOutcome(run_id, ExitCode.LOCK_HELD, message=str(exc))
    except OSError as exc:  # the data folder is not ours to write: a person must fix it
        message = f"cannot take the run lock in {data_dir}: {exc}"
        log(logger, logging.ERROR, message, exit_code=int(ExitCode.CONFIG_ERROR))
        return RunOutcome(run_id, ExitCode.CONFIG_ERROR, message=message)
    try:
        if on_locked is not None:
            on_locked()
        return _locked_run(Path(data_dir), run_id, options, steps, heartbeat_seconds)
    except sqlite3.Error as exc:  # e.g. ops.sqlite unreadable or read-only
        message = f"cannot record the run in the ops store ({OPS_FILE}): {exc}"
        log(logger, logging.ERROR, message, exit_code=int(ExitCode.CONFIG_ERROR))
        return RunOutcome(run_id, ExitCode.CONFIG_ERROR, message=message)
    finally:
        lock.release()


def _locked_run(
    data_dir: Path, run_id: str, options: RunOptions, steps: Sequence[Step] | None, heartbeat_seconds: float
) -> RunOutcome:
    plan = list(steps) if steps is not None else default_steps(options.sources, options.skip)
    started = time.perf_counter()
    history = RunHistory(data_dir)
    try:
        abandoned = history.abandon_unfinished()
        if abandoned:
            log(logger, logging.WARNING, f"{abandoned} earlier run(s) died without finishing; marked abandoned")
        history.start_run(run_id, options.as_dict())
        log(logger, logging.INFO, f"run {run_id} started: {', '.join(s.name for s in plan)}", **options.as_dict())
        outcome = RunOutcome(run_id, ExitCode.OK)
        try:
            _run_steps(data_dir, run_id, options, plan, history, outcome, heartbeat_seconds)
            if outcome.exit_code == ExitCode.OK and options.fail_on_severity:
                outcome.exit_code, outcome.message = _severity_gate(data_dir, options.fail_on_severity)
        except BaseException as exc:  # KeyboardInterrupt / SIGTERM too: the history says how the run ended
            history.interrupt_run(run_id, error=repr(exc))
            raise
        failed = outcome.exit_code in (ExitCode.STEP_FAILED, ExitCode.CONFIG_ERROR)
        history.finish_run(
            run_id,
            outcome="failed" if failed else "ok",
            exit_code=int(outcome.exit_code),
            error=outcome.message or None,
        )
        total = time.perf_counter() - started  # not the steps' sum: the snapshot runs beside the push
        level = logging.INFO if outcome.exit_code == ExitCode.OK else logging.ERROR
        verdict = "finished ok" if outcome.exit_code == ExitCode.OK else f"finished: {outcome.message}"
        log(
            logger,
            level,
            f"run {run_id} {verdict} in {total:.1f}s (exit {int(outcome.exit_code)})",
            exit_code=int(outcome.exit_code),
            seconds=round(total, 3),
            steps={s.name: "ok" if s.result.ok else "failed" for s in outcome.steps},
        )
        return outcome
    finally:
        history.close()


def _run_steps(
    data_dir: Path,
    run_id: str,
    options: RunOptions,
    plan: list[Step],
    history: RunHistory,
    outcome: RunOutcome,
    heartbeat_seconds: float,
) -> None:
    ctx = StepContext(data_dir, run_id, progress=lambda _line: None, dry_run=options.dry_run)
    stop_after: str | None = None  # ingest sources are independent: all run, then a failure stops the run
    # a step going on beside the next one (``Step.overlaps_next``, or a step that returned ``Continues``), and how
    # to end it: wait for it, then its result and seconds
    background: tuple[Step, Callable[[], tuple[StepResult, float]]] | None = None

    def record(step: Step, result: StepResult, seconds: float) -> None:
        nonlocal stop_after
        outcome.steps.append(StepOutcome(step.name, result, seconds))
        if not result.ok and stop_after is None:
            stop_after = step.name
            outcome.exit_code = ExitCode.CONFIG_ERROR if result.config_error else ExitCode.STEP_FAILED
            outcome.message = f"{step.name} failed: {result.error}"
        elif not result.ok and result.config_error:
            outcome.exit_code = ExitCode.CONFIG_ERROR

    def join_background() -> None:
        nonlocal background
        if background is not None:
            step, finish = background
            background = None
            result, seconds = finish()
            _end_step(step, ctx, history, result, seconds)
            record(step, result, seconds)

    try:
        for index, step in enumerate(plan):
            if stop_after is not None and not (step.name.startswith("ingest.") and stop_after.startswith("ingest.")):
                history.skip_step(run_id, step.name, f"{stop_after} failed")
                log(logger, logging.WARNING, f"skipped: {stop_after} failed", step=step.name)
                continue
            _begin_step(step, ctx, history)
            if step.overlaps_next and index + 1 < len(plan):
                # the next step does not read what this one writes: it starts now, and this one ends beside it
                background = (step, _start_beside(step, ctx, heartbeat_seconds))
                continue
            result, seconds = _execute_step(step, ctx, heartbeat_seconds)
            join_background()
            if isinstance(result, Continues):  # its rest goes on beside the next step
                background = (step, _continued(step, result, seconds))
                continue
            _end_step(step, ctx, history, result, seconds)
            record(step, result, seconds)
        join_background()
    finally:
        release_shared(ctx)  # a run that stopped between its ingest steps


def _start_beside(step: Step, ctx: StepContext, heartbeat_seconds: float) -> Callable[[], tuple[StepResult, float]]:
    """Starts ``step`` in a thread beside the next one; the returned call tells it the next one has ended, waits
    for it and gives its result and seconds."""
    done: list[tuple[StepResult, float]] = []
    next_ended = threading.Event()
    beside = replace(ctx, beside=next_ended)  # the same `shared`
    thread = threading.Thread(
        target=_execute_into, args=(step, beside, heartbeat_seconds, done), name=f"q2c-{step.name}", daemon=True
    )
    thread.start()

    def finish() -> tuple[StepResult, float]:
        next_ended.set()
        thread.join()
        return done[0]

    return finish


def _continued(step: Step, continues: Continues, seconds: float) -> Callable[[], tuple[StepResult, float]]:
    """The end of a step whose rest went on beside the next one: its result, and its seconds (its own part plus
    the rest's, not the time the rest waited for its turn)."""

    def finish() -> tuple[StepResult, float]:
        try:
            result, rest_seconds = continues.rest()
        except Exception as exc:  # a step's bug must not leave the history saying "running"
            logger.exception("failed with an unexpected error", extra={"step": step.name, "fields": {}})
            return StepResult(False, {}, f"{type(exc).__name__}: {exc}"), seconds
        result.error = scrub(result.error)
        return result, seconds + rest_seconds

    return finish


def _begin_step(step: Step, ctx: StepContext, history: RunHistory) -> None:
    history.start_step(ctx.run_id, step.name)
    reclaim_handlers()
    log(logger, logging.INFO, "started", step=step.name)


def _execute_step(step: Step, ctx: StepContext, heartbeat_seconds: float) -> tuple[StepResult | Continues, float]:
    """Runs one step (in the calling thread) and never raises for it; the history is the caller's."""
    started = time.perf_counter()
    last_said = [started]

    def progress(line: str) -> None:
        last_said[0] = time.perf_counter()
        reclaim_handlers()
        log(logger, logging.INFO, line.strip(), step=step.name)

    stop = _heartbeat(step.name, started, last_said, heartbeat_seconds)
    try:
        result = step.run(replace(ctx, progress=progress))  # its own progress; `shared` is the run's
    except Exception as exc:  # a step's bug must not leave the history saying "running"
        logger.exception("failed with an unexpected error", extra={"step": step.name, "fields": {}})
        result = StepResult(False, {}, f"{type(exc).__name__}: {exc}")
    finally:
        stop()
        reclaim_handlers()
    # a stop asked meanwhile (SIGTERM, Ctrl-C) ends the run here, recorded as interrupted, even when the step
    # caught the signal's exception itself (dlt does, mid-extraction) and ended as a failure
    raise_if_stopped()
    if isinstance(result, StepResult):  # (a step's rest is scrubbed when it ends: _continued)
        result.error = scrub(result.error)  # it is stored in the history and shown by `q2c status`
    return result, time.perf_counter() - started


def _execute_into(step: Step, ctx: StepContext, heartbeat_seconds: float, done: list) -> None:
    """Runs a step beside the next one, in its own thread at the lowest CPU priority (``BESIDE_NICENESS``)."""
    started = time.perf_counter()
    lower_thread_priority(BESIDE_NICENESS)
    try:
        done.append(_execute_step(step, ctx, heartbeat_seconds))
    except BaseException as exc:  # e.g. SystemExit inside a library: the run must still hear of it
        done.append((StepResult(False, {}, f"{type(exc).__name__}: {exc}"), time.perf_counter() - started))


def lower_thread_priority(niceness: int) -> None:
    """On Linux niceness belongs to each thread, and the threads it starts (DuckDB's workers) inherit it: this
    lowers the calling thread's priority only. Elsewhere the thread keeps its priority."""
    if not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except OSError as exc:  # not fatal: the steps only take turns on the CPU
        log(logger, logging.DEBUG, f"cannot lower the priority of {threading.current_thread().name}: {exc}")


def _end_step(step: Step, ctx: StepContext, history: RunHistory, result: StepResult, seconds: float) -> None:
    history.finish_step(
        ctx.run_id,
        step.name,
        outcome="ok" if result.ok else "failed",
        seconds=seconds,
        counts=result.counts,
        error=result.error,
    )
    if result.ok:
        log(
            logger,
            logging.INFO,
            f"ok in {seconds:.1f}s {_short(result.counts)}",
            step=step.name,
            seconds=round(seconds, 3),
            counts=result.counts,
        )
    else:
        log(
            logger,
            logging.ERROR,
            f"FAILED in {seconds:.1f}s: {result.error}",
            step=step.name,
            seconds=round(seconds, 3),
            counts=result.counts,
            error=result.error,
        )


def _heartbeat(name: str, started: float, last_said: list[float], interval: float) -> Callable[[], None]:
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval / 3):
            now = time.perf_counter()
            if now - last_said[0] >= interval:
                last_said[0] = now
                log(
                    logger,
                    logging.INFO,
                    f"still running ({now - started:.0f}s)",
                    step=name,
                    seconds=round(now - started, 1),
                )

    thread = threading.Thread(target=beat, name=f"q2c-heartbeat-{name}", daemon=True)
    thread.start()

    def close() -> None:
        stop.set()
        thread.join()

    return close


def _short(counts: dict[str, Any]) -> str:
    shown = [f"{k}={v}" for k, v in counts.items() if isinstance(v, int) and v]
    return f"({', '.join(shown)})" if shown else ""


def _severity_gate(data_dir: Path, level: str) -> tuple[ExitCode, str]:
    from pipelines.run.exception_queue import ExceptionFilter, SnapshotMissingError, read_exceptions

    try:
        rows = read_exceptions(data_dir, ExceptionFilter(status="open", min_severity=level))
    except SnapshotMissingError as exc:
        return ExitCode.STEP_FAILED, str(exc)
    if not rows:
        return ExitCode.OK, ""
    message = f"{len(rows)} open exception(s) at severity {level} or above"
    log(logger, logging.WARNING, message, open_at_or_above=len(rows), severity=level)
    return ExitCode.EXCEPTIONS_AT_SEVERITY, message
