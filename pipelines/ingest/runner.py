"""Run one or more sources into ``raw.duckdb`` (the only writer of that file) and summarise the run.

Each source is its own dlt pipeline (``q2c_<source>``, dataset ``raw_<source>``) with its state under
the data folder. Before running, a package left by an interrupted run is loaded (dlt keeps extracted
packages on disk); a package that can never load is dropped — its incremental state goes with it, so
its rows are fetched again — and the drop is reported, so no run is ever blocked by a stuck package.

Environment:

``Q2C_TRACE_REQUESTS``
    A folder (created if missing). :func:`run_ingest` then keeps every answered request of each source and,
    when that source has finished (failed too), writes them to ``<folder>/<source>.jsonl``: one JSON object
    per request, ``{"method", "url", "headers", "body"}`` (``body`` as text, or null), in the order answered.
    A diagnostic for the benchmark harness (``bench.ingest.replay_file`` replays such a file with a bare
    client). The headers are the ones sent minus credentials (``Authorization`` and any header named like a
    key or token are left out). Unset or empty: nothing is kept or written.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dlt
import duckdb
from dlt.common.exceptions import SignalReceivedException
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines.data_dir import raw_path
from pipelines.ingest.destination import raw_destination, raw_duckdb
from pipelines.ingest.order import INGEST_ORDER, SOURCES, ingest_order
from pipelines.ingest.raw_database import Beside, RawDatabase, dataset_counts
from pipelines.sources.http_client import CountingClient, RequestStats
from pipelines.sources.raw_tables import QUARANTINE_TABLE
from pipelines.stop_request import raise_if_stopped, request_stop, stop_requested, stop_signal_name

TRACE_REQUESTS_ENV = "Q2C_TRACE_REQUESTS"
_CREDENTIAL_HEADER = re.compile(r"authorization|key|token|secret|cookie", re.I)


@dataclass(frozen=True)
class Endpoint:
    """Where a source's API is and how to authenticate; None fields come from dlt config/secrets."""

    base_url: str | None = None
    token: str | None = None


@dataclass
class TableSummary:
    table: str
    rows_loaded: int
    new: int
    updated: int


@dataclass
class SourceSummary:
    source: str
    seconds: float = 0.0
    pages: int = 0
    retries: int = 0
    tables: list[TableSummary] = field(default_factory=list)
    new_fields: list[str] = field(default_factory=list)
    quarantined: int = 0
    recovered: list[str] = field(default_factory=list)
    error: str | None = None
    # where ``seconds`` went: ``prepare`` (a package left behind loaded, the rows counted, the state restored and
    # the source planned: billing lists its events and looks its changed objects up in raw), then dlt's phases
    # (extract: the requests and the rows; normalize; load: into raw.duckdb); the rest is the counting after
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


# Memory must not grow with the data: each table's rows go to files of at most FILE_MAX_ITEMS rows and
# FILE_MAX_BYTES (Parquet), and at most LOAD_WORKERS files load at once, so a load holds a few files' worth
# however large the table. dlt creates its file writers where only the unsectioned key is read
# (``DATA_WRITER__…``); the load's is per pipeline. The environment can still override all three.
# Disk must not grow with the runs either: a package's files are deleted once every job in it loaded (a package
# with a failed job keeps them all, for the quarantine and for replay).
#
# Why a file holds one DuckDB row group (122,880 rows): each file loads in its own transaction, and DuckDB writes
# a transaction's rows straight into the database file, compressed, only for its full row groups; the rest go to
# the write-ahead log, and a checkpoint later compresses them on one core. With files cut at 16 MB (20,000 to
# 57,000 billing rows) every row took that second path. 1.34M billing rows (the M invoices, charges and payment
# intents ten times over, through this pipeline: ``python -m bench.raw_load``) took 29.5 s to load and checkpoint
# and 3,675 MB; in row-group files 17.6 s and 3,347 MB (peak RSS 2,372 against 2,485 MB). At M no billing table
# fills a row group, so nothing changes there. A source whose tables reach dlt in slices of a
# divisor of it (billing: ``settings.BATCH_ROWS``) gets exactly one row group per file; one with other sizes
# (ERP's batches of about 5,000 rows) gets files a little over it. The byte cap only cuts rows far wider than
# billing's (its widest, invoices, are about 95 MB a file).
ROW_GROUP_ROWS = 122_880  # DuckDB's rows per row group (its default; raw.duckdb is created with it)
FILE_MAX_ITEMS = ROW_GROUP_ROWS
FILE_MAX_BYTES = 256 * 1024 * 1024
LOAD_WORKERS = 3


def _bounded_files(pipeline_name: str) -> None:
    os.environ.setdefault("DATA_WRITER__FILE_MAX_ITEMS", str(FILE_MAX_ITEMS))
    os.environ.setdefault("DATA_WRITER__FILE_MAX_BYTES", str(FILE_MAX_BYTES))
    os.environ.setdefault(f"{pipeline_name.upper()}__LOAD__WORKERS", str(LOAD_WORKERS))
    os.environ.setdefault(f"{pipeline_name.upper()}__LOAD__DELETE_COMPLETED_JOBS", "true")


def make_pipeline(data_dir: Path, source: str, raw: RawDatabase | None = None) -> dlt.Pipeline:
    """The source's pipeline; ``raw``: load through that open connection (else dlt opens and closes the file)."""
    _bounded_files(f"q2c_{source}")
    return dlt.pipeline(
        pipeline_name=f"q2c_{source}",
        destination=raw_destination(str(raw_path(data_dir))) if raw is None else raw_duckdb(raw.credentials()),
        dataset_name=f"raw_{source}",
        pipelines_dir=str(Path(data_dir) / "dlt"),
    )


def table_counts(data_dir: Path, dataset: str) -> dict[str, int]:
    """Row counts of a dataset's tables, read-only (for when no ingest holds raw open)."""
    path = raw_path(data_dir)
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        return dataset_counts(con, dataset)


def _open_raw(data_dir: Path) -> tuple[RawDatabase | None, str | None]:
    """raw opened for writing, or None and why not (e.g. another process holds the file)."""
    try:
        return RawDatabase(raw_path(data_dir)), None
    except duckdb.Error as exc:
        return None, f"cannot open {raw_path(data_dir)} for writing: {exc}"


PHASES = ("extract", "normalize", "load")


def phase_seconds(pipeline: dlt.Pipeline) -> dict[str, float]:
    """Seconds of each of dlt's phases in the pipeline's last run (those it reached)."""
    trace = pipeline.last_trace
    spent: dict[str, float] = {}
    for step in trace.steps if trace is not None else ():
        if step.step in PHASES and step.started_at is not None and step.finished_at is not None:
            spent[step.step] = spent.get(step.step, 0.0) + (step.finished_at - step.started_at).total_seconds()
    return {phase: round(spent[phase], 3) for phase in PHASES if phase in spent}


def _known_fields(pipeline: dlt.Pipeline, source: str) -> dict[str, set[str]]:
    resources = pipeline.state.get("sources", {}).get(source, {}).get("resources", {})
    return {name: set(r.get("known_fields", ())) for name, r in resources.items()}


def recover(pipeline: dlt.Pipeline) -> list[str]:
    """Finish or drop what an earlier run left behind; returns what was done, for the summary."""
    done: list[str] = []
    if not pipeline.has_pending_data:
        return done
    try:
        pipeline.normalize()
        pipeline.load()
        done.append("loaded a package left by an interrupted run")
    except PipelineStepFailed as exc:
        # restores local state and schemas to before the package, so its rows are fetched again
        pipeline.abort_packages()
        done.append(f"dropped a package that cannot load ({exc.step}: {exc.exception}); its rows will be refetched")
    return done


def build_source(source: str, endpoint: Endpoint | None, client: CountingClient):
    module = importlib.import_module(f"pipelines.sources.{source}")
    kwargs = {"client": client}
    if endpoint is not None and endpoint.base_url:
        kwargs["base_url"] = endpoint.base_url
    if endpoint is not None and endpoint.token:
        kwargs[module.TOKEN_ARGUMENT] = endpoint.token
    return module.source(**kwargs)


def run_source(
    data_dir: Path,
    source: str,
    endpoint: Endpoint | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    stats: RequestStats | None = None,
    raw: RawDatabase | None = None,
) -> SourceSummary:
    """One source into raw, extracted then loaded. ``raw``: the ingest's open raw database (:func:`run_ingest`);
    without it the source opens raw for itself and closes it when done."""
    return extract_source(data_dir, source, endpoint, progress=progress, stats=stats, raw=raw).load()


def extract_source(
    data_dir: Path,
    source: str,
    endpoint: Endpoint | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    stats: RequestStats | None = None,
    raw: RawDatabase | None = None,
) -> Extracted:
    """The first half of :func:`run_source`: a package left by an interrupted run loaded, then the source's API read
    into a new package. Its :meth:`Extracted.load` does the rest, here or in another thread (:func:`run_ingest`)."""
    quiet_dlt()
    summary = SourceSummary(source)
    started = time.perf_counter()
    stats = stats or RequestStats()
    own = raw is None
    if own:
        raw, summary.error = _open_raw(data_dir)
        if raw is None:
            return Extracted(summary, extract_seconds=time.perf_counter() - started)
    extracted = Extracted(summary, raw=raw, own_raw=own)
    extracted.pipeline = pipeline = make_pipeline(data_dir, source, raw)
    stop_progress = _progress_thread(source, stats, started, progress)
    try:
        summary.recovered = recover(pipeline)
        extracted.before = raw.table_counts(f"raw_{source}")
        extracted.fields_before = _known_fields(pipeline, source)
        # what `pipeline.run` does first: the state restored from raw when the local one is gone
        pipeline.sync_destination()
        planned = build_source(source, endpoint, CountingClient(stats))  # billing lists its events here
        summary.phases["prepare"] = round(time.perf_counter() - started, 3)
        try:
            pipeline.extract(planned, loader_file_format="parquet")
        finally:
            summary.phases.update(phase_seconds(pipeline))
    except PipelineStepFailed as exc:
        _failed(summary, exc)
    except BaseException:
        extracted.close()
        raise
    finally:
        stop_progress()  # the pages are all read: the load says nothing more
        summary.pages, summary.retries = stats.total()
    extracted.extract_seconds = time.perf_counter() - started
    return extracted


@dataclass
class Extracted:
    """A source whose API was read into a package: :meth:`load` normalizes and loads it, and completes the summary.
    A failed extraction (``summary.error``) loads nothing."""

    summary: SourceSummary
    raw: RawDatabase | None = None
    own_raw: bool = False
    pipeline: dlt.Pipeline | None = None
    before: dict[str, int] = field(default_factory=dict)
    fields_before: dict[str, set[str]] = field(default_factory=dict)
    extract_seconds: float = 0.0  # the API read, and a package left behind loaded first

    def load(self) -> SourceSummary:
        """Normalize and load the package into raw, then count what changed. ``summary.seconds``: the extraction's
        seconds plus this call's (not the time between them, when the load waited for its turn)."""
        clock = time.perf_counter()
        summary, pipeline = self.summary, self.pipeline
        try:
            if summary.ok and pipeline is not None:
                self._load(summary, pipeline)
        except PipelineStepFailed as exc:
            _failed(summary, exc)
        finally:
            self.close()
            summary.seconds = self.extract_seconds + time.perf_counter() - clock
        return summary

    def _load(self, summary: SourceSummary, pipeline: dlt.Pipeline) -> None:
        assert self.raw is not None
        try:
            normalized = pipeline.normalize()
            pipeline.load()
        finally:  # the phases that ran, also when one failed
            summary.phases.update(phase_seconds(pipeline))
        after = self.raw.table_counts(f"raw_{summary.source}")
        loaded = normalized.row_counts if normalized else {}
        for table in sorted(set(loaded) | set(after)):
            if table.startswith("_dlt"):
                continue
            rows = loaded.get(table, 0)
            new = max(after.get(table, 0) - self.before.get(table, 0), 0)
            if table == QUARANTINE_TABLE:
                summary.quarantined = new
            summary.tables.append(TableSummary(table, rows, new, max(rows - new, 0)))
        fields_after = _known_fields(pipeline, summary.source)
        for resource, fields in sorted(fields_after.items()):
            if self.fields_before.get(resource):  # on a resource's first load every field is new: not drift
                summary.new_fields += [f"{resource}.{f}" for f in sorted(fields - self.fields_before[resource])]

    def close(self) -> None:
        """Close raw if the source opened it (idempotent)."""
        if self.own_raw and self.raw is not None:
            self.raw.close()
            self.raw = None


def _failed(summary: SourceSummary, exc: PipelineStepFailed) -> None:
    summary.error = f"{exc.step} failed: {exc.exception}"
    if isinstance(exc.exception, SignalReceivedException):
        # dlt holds SIGTERM / SIGINT while it normalizes and loads, lets the running jobs finish, then fails
        # the step with it: the run is still asked to stop
        request_stop(exc.exception.signal_code)
    if stop_requested():  # whatever dlt made of the signal ("generator already executing"), say what it was
        summary.error = f"{exc.step} stopped: the run was asked to stop ({stop_signal_name()})"


class _PayloadHintNotice(logging.Filter):
    """Drops dlt's warning that ``payload`` arrives as Arrow text while hinted JSON: that override is the
    design (see raw_tables), so the warning on every page would only hide real ones."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "when merging arrow schema with dlt schema" not in record.getMessage()


def quiet_dlt() -> None:
    """No telemetry (there is no network to send it to, and q2c sends nothing anywhere), no known noise."""
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    dlt_logger = logging.getLogger("dlt")
    if not any(isinstance(f, _PayloadHintNotice) for f in dlt_logger.filters):
        dlt_logger.addFilter(_PayloadHintNotice())


def run_ingest(
    data_dir: Path,
    sources: Sequence[str] = INGEST_ORDER,
    endpoints: dict[str, Endpoint] | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    raw: RawDatabase | None = None,
) -> list[SourceSummary]:
    """The sources one after another (in ``INGEST_ORDER``) into raw, through one open connection (``raw``, else
    opened here and closed at the end). Each source's load runs beside the next source's extraction (see
    ``raw_database``); the last one's in the foreground when raw is closed here, beside the caller otherwise."""
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ValueError(f"unknown source(s) {unknown}; expected some of {list(SOURCES)}")
    sources = ingest_order(sources)
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    quiet_dlt()
    summaries = []
    own = raw is None
    if own:
        raw, error = _open_raw(data_dir)
        if raw is None:  # nothing can load: each source says why
            return [SourceSummary(source, error=error) for source in sources]
    try:
        loading: Beside[SourceSummary] | None = None
        for source in sources:
            raise_if_stopped()  # asked to stop (SIGTERM, Ctrl-C): no further source starts
            endpoint = (endpoints or {}).get(source)
            extracted = extract_traced(data_dir, source, endpoint, progress=progress, raw=raw)
            if loading is not None:
                summaries.append(loading.result())
            loading = load(extracted, raw, beside=not own or source != sources[-1])
        if loading is not None:
            summaries.append(loading.result())
    finally:
        if own:
            raw.close()
    return summaries


def extract_traced(
    data_dir: Path,
    source: str,
    endpoint: Endpoint | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    raw: RawDatabase,
) -> Extracted:
    """:func:`extract_source`, its requests written out when ``Q2C_TRACE_REQUESTS`` asks for them."""
    trace_dir = os.environ.get(TRACE_REQUESTS_ENV) or None
    stats = RequestStats(keep_requests=trace_dir is not None)
    extracted = extract_source(data_dir, source, endpoint, progress=progress, stats=stats, raw=raw)
    if trace_dir is not None:
        write_request_trace(Path(trace_dir) / f"{source}.jsonl", stats)
    return extracted


def load(extracted: Extracted, raw: RawDatabase, *, beside: bool) -> Beside[SourceSummary]:
    """The extracted source's load: in a thread beside the caller (the load before it waited for first), or here,
    after the load beside has ended; either way its summary comes from the returned :class:`Beside`."""
    if beside:
        return raw.load_beside(extracted.load)
    raw.wait_beside()
    return Beside.done(extracted.load())


def write_request_trace(path: Path, stats: RequestStats) -> None:
    """The answered requests ``stats`` kept, one JSON object a line (see ``Q2C_TRACE_REQUESTS`` above)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for method, url, headers, body in stats.requests or []:
            text = None if body is None else body.decode("utf-8", errors="replace")
            sent = {k: v for k, v in headers.items() if not _CREDENTIAL_HEADER.search(k)}
            out.write(json.dumps({"method": method, "url": url, "headers": sent, "body": text}) + "\n")


def _progress_thread(
    source: str, stats: RequestStats, started: float, progress: Callable[[str], None] | None
) -> Callable[[], None]:
    if progress is None:
        return lambda: None
    stop = threading.Event()

    def report() -> None:
        while not stop.wait(2.0):
            pages, retries = stats.total()
            progress(f"{source}: {pages:,} pages, {retries:,} retries, {time.perf_counter() - started:,.0f}s")

    thread = threading.Thread(target=report, daemon=True)
    thread.start()

    def close() -> None:
        stop.set()
        thread.join()

    return close
