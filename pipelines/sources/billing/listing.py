"""The backfill's listing in worker processes: each collection paged, parsed and turned into Arrow rows outside
the run's process, which only hands the rows to dlt.

Why: a backfill is bound by the client's CPU, and that CPU is Python's (reading the responses, parsing the JSON,
building the rows), so threads in one process share one core. At M, listing in-process took 11.7 s of extract for
5.7 s of a bare client's replay; the sandbox used 3 s of CPU in that time. Each worker process pages one
collection at a time (Stripe's pages are a chain: the next starts after this one's last id), largest collections
first (``settings.BACKFILL_ORDER``), so two workers end at about the same time.

A worker sends, per collection: its rows in tables of ``settings.BATCH_ROWS`` (its own ``to_rows``: the same code
and checks as in-process), the rows set aside with their reasons, what its requests did (answered pages, retried
attempts, and the requests themselves when the run keeps them), and at the end the top-level fields it saw. An
error in a worker (an API error, a request that ran out of retries) ends the collection and fails the run with
that message, as it would in-process. Workers are started with ``spawn`` (the run's process has threads and an
open database) and end when their pipe closes: the run ended, or its process died.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

import pyarrow as pa

from pipelines.sources.billing import settings
from pipelines.sources.http_client import CountingClient, RequestStats
from pipelines.sources.raw_tables import to_rows

JOIN_SECONDS = 10  # a worker told to stop (its pipe closed) has this long to exit before it is killed


@dataclass(frozen=True)
class ListingJob:
    """One collection to list in full, and how to reach the API (what a worker needs; sent over its pipe)."""

    table: str  # the collection's table name (settings.COLLECTIONS)
    base_url: str
    api_key: str
    api_version: str
    version: int  # the backfill's _q2c_state_version
    max_attempts: int
    timeout: float
    keep_requests: bool  # send the answered requests themselves (the benchmark replays them)


class ListingError(RuntimeError):
    """A worker failed its collection (the message says which and why) or died."""


@dataclass
class Rows:
    table: str
    rows: pa.Table


@dataclass
class SetAside:
    table: str
    rows: list[dict]


@dataclass
class Requests:
    pages: Counter[str]
    retries: Counter[str]
    requests: list[tuple[str, str, dict[str, str], bytes | None]] | None


@dataclass
class Listed:
    table: str
    fields: frozenset[str]  # the top-level fields of the collection's objects


Message = Rows | SetAside | Requests | Listed


def collection(table: str) -> settings.Collection:
    return next(c for c in settings.COLLECTIONS if c.table.name == table)


def backfill_order() -> list[str]:
    """Every collection's table, those named in ``settings.BACKFILL_ORDER`` first, in that order."""
    first = [t for t in settings.BACKFILL_ORDER if any(c.table.name == t for c in settings.COLLECTIONS)]
    return first + [c.table.name for c in settings.COLLECTIONS if c.table.name not in first]


def list_in_workers(jobs: list[ListingJob], workers: int) -> Iterator[Message]:
    """The messages of ``jobs`` as the workers send them (collections interleaved), ``workers`` processes
    listing one collection each at a time, in the order given. Raises :class:`ListingError` for the first job
    that fails; the workers are stopped when the iterator ends, fails or is closed."""
    context = multiprocessing.get_context("spawn")
    pending = deque(jobs)
    started: list[tuple[Any, Connection]] = []
    busy: dict[Connection, ListingJob] = {}
    try:
        for _ in range(max(1, min(workers, len(jobs)))):
            ours, theirs = context.Pipe()
            process = context.Process(target=serve, args=(theirs,), name="q2c-billing-listing", daemon=True)
            process.start()
            theirs.close()
            started.append((process, ours))
            if pending:
                job = pending.popleft()
                ours.send(job)
                busy[ours] = job
        while busy:
            for conn in wait(list(busy)):
                assert isinstance(conn, Connection)
                job = busy[conn]
                try:
                    message = conn.recv()
                except (EOFError, OSError):
                    raise ListingError(
                        f"the worker listing {job.table} ended without finishing it (a script that runs the ingest"
                        " starts workers by importing its main module again: guard its entry point with"
                        " `if __name__ == '__main__':`, or set sources.billing.listing_workers = 0)"
                    ) from None
                if isinstance(message, ListingError):
                    raise message
                yield message
                if isinstance(message, Listed):
                    del busy[conn]
                    if pending:
                        busy[conn] = pending.popleft()
                        conn.send(busy[conn])
    finally:
        for _, conn in started:
            conn.close()  # the worker's next receive or send fails, and it exits
        for process, _ in started:
            process.join(JOIN_SECONDS if not busy else 0)
            if process.is_alive():
                process.kill()  # still listing (the run failed or was closed): nothing it does is wanted now
                process.join()


# -- in the worker process -------------------------------------------------------------------------------


def serve(conn: Connection) -> None:
    """A worker's loop: list each job received until the pipe closes (the run ended, or its process died)."""
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        messages = list_collection(job)
        while True:
            try:
                message: Message | ListingError | None = next(messages, None)
            except Exception as exc:  # any failure fails the collection; the run reports it
                detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                message = ListingError(f"listing {job.table}: {detail}")
            if message is None:
                break
            try:
                conn.send(message)
            except OSError:  # the pipe closed: nobody wants the rest
                return
            if isinstance(message, ListingError):
                break


def list_collection(job: ListingJob) -> Iterator[Message]:
    """One collection listed in full, as messages: in a worker process, or in one of the run's threads when it
    lists without workers (``listing_workers = 0``)."""
    from pipelines.sources.billing import helpers  # here, not at the top: helpers imports this module

    found = collection(job.table)
    stats = RequestStats(keep_requests=job.keep_requests)
    client = CountingClient(stats, max_attempts=job.max_attempts, timeout=job.timeout)
    api = helpers.StripeApi(job.base_url, job.api_key, job.api_version, client.session)
    state = {"deleted": False, "_q2c_state_version": job.version}
    child_state = (False, job.version)
    parts: dict[str, list[pa.Table]] = defaultdict(list)
    counts: Counter[str] = Counter()
    fields: set[str] = set()

    def add(table: Any, objects: Any, extra: Any) -> Iterator[Message]:
        rows, bad = to_rows(helpers.SOURCE, table, objects, extra)
        if bad:
            yield SetAside(table.name, bad)
        if rows is not None and rows.num_rows:
            parts[table.name].append(rows)
            counts[table.name] += rows.num_rows
            if counts[table.name] >= settings.BATCH_ROWS:
                yield flush(table.name)

    def flush(name: str) -> Rows:
        counts[name] = 0
        return Rows(name, pa.concat_tables(parts.pop(name)))

    for page in api.pages(found.path, dict(found.params)):
        fields.update(*(o.keys() for o in page if isinstance(o, dict)))
        yield from add(found.table, page, state)
        if found.child is not None:
            yield from add(found.child, *helpers.child_rows(api, found, page, lambda _: child_state))
        yield Requests(*stats.drain())
    for name in [n for n, p in parts.items() if p]:
        yield flush(name)
    yield Requests(*stats.drain())
    yield Listed(job.table, frozenset(fields))
