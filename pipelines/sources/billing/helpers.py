"""Stripe paging, the run plan (backfill or events) and the resources that write raw rows.

A run is one of two kinds, decided before anything is extracted (:func:`plan_run`):

- **backfill** (first run, or the events cursor fell out of Stripe's 30-day event window): the newest event
  is recorded as the cursor *first*, then every collection is listed in full. Rows get
  ``_q2c_state_version`` = the cursor's second × VERSION_SLOTS − 1: older than any event from that second on.
- **events**: ``/v1/events`` is read from the cursor (minus a small overlap); per object the newest state
  (:mod:`.event_order`) is written if it is newer than the version raw holds.

Every row a run writes carries the run's ``_q2c_load_seq`` (:func:`load_seq`, decided with the plan).

Balance transactions have no events and never change: they load incrementally on ``created`` in both.

Why not ``rest_api`` resources: they yield one item per page, and dlt recomputes an Arrow item's table
schema for every item (≈ 2.5 ms each: the M backfill's extract took 23 s with one Arrow table per page,
16 s with 5,000-row tables), so each resource here pages itself (same Stripe semantics: ``limit`` /
``starting_after`` / ``has_more``) and yields a few large Arrow tables. The endpoints and their parameters
stay declared as data in :mod:`.settings`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import dlt
import orjson
import pyarrow as pa
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from pipelines.sources.billing import listing, settings
from pipelines.sources.billing.event_order import ObjectState, is_event, latest_states
from pipelines.sources.billing.settings import Collection
from pipelines.sources.http_client import CountingClient
from pipelines.sources.load_seq import next_load_seq, now_us
from pipelines.sources.raw_lookup import query_raw
from pipelines.sources.raw_tables import (
    QUARANTINE_HINTS,
    Extra,
    RawTable,
    resource_hints,
    table_hints,
    to_rows,
    track_fields,
)

logger = logging.getLogger(__name__)

SOURCE = settings.SOURCE_NAME


# -- HTTP ----------------------------------------------------------------------------------------------


class StripeApiError(RuntimeError):
    pass


class StripeApi:
    """Stripe's list and retrieve requests, on the run's counting, retrying session."""

    def __init__(self, base_url: str, api_key: str, api_version: str, session: Any) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key, self.api_version = api_key, api_version
        self.session = session
        self.headers = {"Authorization": f"Bearer {api_key}", "Stripe-Version": api_version}

    def get(self, path: str, params: dict[str, Any]) -> dict:
        response = self.session.get(self.base_url + path, params=params, headers=self.headers)
        if response.status_code >= 400:
            try:
                message = orjson.loads(response.content)["error"]["message"]
            except Exception:  # any unparseable body: report the status and the text
                message = response.text[:200]
            raise StripeApiError(f"GET {path} → {response.status_code}: {message}")
        return orjson.loads(response.content)

    def pages(
        self, path: str, params: dict[str, Any] | None = None, starting_after: str | None = None
    ) -> Iterator[list[dict]]:
        """Every page of a list (newest first): ``limit`` 100, the next page ``starting_after`` this page's
        last id, while ``has_more``."""
        query = {"limit": settings.PAGE_LIMIT, **(params or {})}
        while True:
            if starting_after:
                query["starting_after"] = starting_after
            body = self.get(path, query)
            data = body.get("data") or []
            yield data
            if not body.get("has_more") or not data:
                return
            starting_after = data[-1]["id"]


# -- writing rows in large Arrow tables ------------------------------------------------------------------


class Batches:
    """Turns a resource's pages into raw rows and hands them to dlt as a few large Arrow tables per raw table
    (what :func:`~pipelines.sources.raw_tables.emit` does per page); set-aside rows go out at once.

    Tables named in ``append`` (empty in raw when the run was planned), and those of immutable objects
    (``settings.INSERT_ABSENT``), are written with ``append``: each key once per run (the first listed is kept,
    as a merge would keep one), and the load inserts only keys the table does not hold
    (:mod:`pipelines.ingest.destination`), so a load repeated after a crash adds nothing.
    Every row gets the run's ``load_seq``.

    Each table goes out in tables of exactly ``rows`` rows (the rest waits for the next rows, or for :meth:`close`):
    with ``rows`` a divisor of DuckDB's row group, dlt's files of a row group's rows then hold whole row groups,
    which DuckDB writes compressed at once instead of through its log (``pipelines/ingest/runner.py``).
    """

    def __init__(self, load_seq: int, rows: int | None = None, append: frozenset[str] = frozenset()) -> None:
        self.load_seq = load_seq
        self.rows = rows or settings.BATCH_ROWS
        self.append = append
        self._parts: dict[str, list[pa.Table]] = defaultdict(list)
        self._counts: dict[str, int] = defaultdict(int)
        self._tables: dict[str, RawTable] = {}
        self._keys: dict[str, set[str]] = defaultdict(set)

    def add(self, table: RawTable, objects: Sequence[Any], extra: Extra = None) -> Iterator[Any]:
        yield from self.add_rows(table, *to_rows(SOURCE, table, objects, extra))

    def add_rows(self, table: RawTable, rows: pa.Table | None, bad: list[dict]) -> Iterator[Any]:
        """Rows already converted (by a worker process, :mod:`.listing`) and those it set aside."""
        if bad:
            yield dlt.mark.with_hints(bad, QUARANTINE_HINTS, create_table_variant=True)
        if rows is None:
            return
        if table.name in self.append or table.write_disposition == settings.INSERT_ABSENT:
            rows = self._first_of_each_key(table, rows)
        self._tables[table.name] = table
        self._parts[table.name].append(rows)
        self._counts[table.name] += rows.num_rows
        if self._counts[table.name] >= self.rows:
            yield from self._slices(table.name, keep_rest=True)

    def close(self) -> Iterator[Any]:
        for name in [n for n, parts in self._parts.items() if parts]:
            yield from self._slices(name, keep_rest=False)

    def _first_of_each_key(self, table: RawTable, rows: pa.Table) -> pa.Table:
        (key,) = table.primary_key  # billing tables are keyed by the Stripe id alone
        seen = self._keys[table.name]
        ids = rows.column(key).to_pylist()
        keep = []
        for i in ids:
            keep.append(i not in seen)
            seen.add(i)
        return rows if all(keep) else rows.filter(pa.array(keep))

    def _slices(self, name: str, *, keep_rest: bool) -> Iterator[Any]:
        """The table's waiting rows in tables of ``rows`` rows; what is left under that waits (``keep_rest``) or goes
        out as the last, shorter one."""
        whole = pa.concat_tables(self._parts.pop(name))
        handed = whole.num_rows - whole.num_rows % self.rows if keep_rest else whole.num_rows
        for start in range(0, handed, self.rows):
            yield self._hinted(name, whole.slice(start, self.rows))
        self._counts[name] = whole.num_rows - handed
        if self._counts[name]:
            self._parts[name].append(whole.slice(handed))

    def _hinted(self, name: str, rows: pa.Table) -> Any:
        column = rows.schema.get_field_index(settings.LOAD_SEQ)
        if column >= 0:  # one value for the whole run: set once per table handed over, not per row
            seq = pa.repeat(pa.scalar(self.load_seq, pa.int64()), rows.num_rows)
            rows = rows.set_column(column, rows.schema.field(column), seq)
        hints = table_hints(self._tables[name])
        if name in self.append:
            hints["write_disposition"] = "append"
        return dlt.mark.with_hints(rows, dlt.mark.make_hints(**hints), create_table_variant=True)


# -- the run plan ----------------------------------------------------------------------------------------


def _cursor_of(events: Iterable[dict]) -> dict | None:
    newest = max(((e["created"], e["id"]) for e in events if is_event(e)), default=None)
    return None if newest is None else {"created": newest[0], "id": newest[1]}


@dataclass
class RunPlan:
    """What this run does, decided before extraction starts."""

    backfill: bool
    reason: str
    cursor: dict | None  # the events cursor this run starts from (backfill: recorded before listing anything)
    seen: frozenset[str] = frozenset()  # events already loaded (ids within the overlap before the cursor)
    events: list[dict] = field(default_factory=list)  # events mode: all listed since the cursor − overlap
    backfill_more: str | None = None  # backfill: the events list goes on after this id
    load_seq: int = 0  # every row this run writes carries it (see load_seq())
    # backfill: the tables raw holds no row of (read before extraction), written with an idempotent append
    # instead of a merge (see Batches)
    append: frozenset[str] = frozenset()
    # events mode: per table, the objects whose newest state is newer than raw's, and per child table what
    # raw holds for their parents (read before extraction: the destination is not read while extracting)
    changes: dict[str, list[ObjectState]] = field(default_factory=dict)
    held_children: dict[str, dict[str, dict[str, tuple]]] = field(default_factory=dict)

    @property
    def backfill_version(self) -> int:
        return self.cursor["created"] * settings.VERSION_SLOTS - 1 if self.cursor else 0


def plan_run(api: StripeApi, events_state: dict) -> RunPlan:
    plan = _plan_run(api, events_state)
    plan.load_seq = load_seq(now_us())
    return plan


def _plan_run(api: StripeApi, events_state: dict) -> RunPlan:
    cursor = events_state.get("cursor")
    if cursor:
        since = cursor["created"] - settings.EVENTS_OVERLAP_SECONDS
        listed = list_events_since(api, since)
        if any(isinstance(e, dict) and e.get("id") == cursor["id"] for e in listed):
            seen = frozenset(events_state.get("seen", ()))
            plan = RunPlan(False, "events since the cursor", cursor, seen, listed)
            plan.changes = _newer_than_raw(latest_states(listed, seen))
            for c in settings.COLLECTIONS:
                if c.child is not None and plan.changes.get(c.table.name):
                    parents = [s.obj["id"] for s in plan.changes[c.table.name]]
                    plan.held_children[c.child.name] = _raw_children(c.child, _parent_column(c), parents)
            return plan
        reason = (
            f"backfill: the events cursor ({cursor['id']} at {cursor['created']}) is no longer in Stripe's 30-day "
            "event window, so changes since then can only be read from the collections"
        )
        logger.warning(reason)
    else:
        reason = "backfill: first run"
    first = api.get(settings.EVENTS_PATH, {"limit": settings.PAGE_LIMIT})
    data = first.get("data") or []
    more = data[-1]["id"] if first.get("has_more") and data else None
    return RunPlan(True, reason, _cursor_of(data), events=data, backfill_more=more, append=_empty_tables())


def list_events_since(api: StripeApi, since: int) -> list[dict]:
    """Every event created at ``since`` or later, read by ``settings.EVENT_LIST_WORKERS`` threads.

    One list is a chain of pages, each after the last one's id: at L an incremental run's 872 pages took 7 s one
    after another. So a list whose first page says there is more is cut in two by ``created``: the part older
    than the middle of what is left is a list of its own, and the newer part pages on after the page's last
    event (``starting_after`` within the narrower range: nothing is read twice). Each part is cut again the same
    way, so where events are dense the parts get narrow, and a part within one second pages on as a chain. A
    part whose rest would fill only a few pages at the density of its last page pages on too (cutting it would
    mostly add requests for half-empty pages). A run with nothing new asks once."""
    found: list[dict] = []
    with ThreadPoolExecutor(settings.EVENT_LIST_WORKERS) as pool:
        running = {pool.submit(_events_part, api, since, None, None)}
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                events, parts = future.result()
                found += events
                running |= {pool.submit(_events_part, api, *part) for part in parts}
    return found


def _events_part(
    api: StripeApi, start: int, end: int | None, after: str | None
) -> tuple[list[dict], list[tuple[int, int | None, str | None]]]:
    """One page of the events created in [start, end) (after ``after``), and the parts left to read."""
    params: dict[str, Any] = {"limit": settings.PAGE_LIMIT, "created[gte]": start}
    if end is not None:
        params["created[lt]"] = end
    if after is not None:
        params["starting_after"] = after
    body = api.get(settings.EVENTS_PATH, params)
    data = body.get("data") or []
    if not body.get("has_more") or not data:
        return data, []
    last = data[-1]
    if not (isinstance(last, dict) and isinstance(last.get("id"), str)):
        raise StripeApiError(f"GET {settings.EVENTS_PATH}: a page ends with {str(last)[:200]}: no id to page on from")
    oldest, newest = last.get("created"), data[0].get("created") if isinstance(data[0], dict) else None
    if not all(isinstance(t, int) and not isinstance(t, bool) for t in (oldest, newest)) or not start < oldest:
        return data, [(start, end, last["id"])]  # what is left is within one second (or cannot be cut): page on
    # as dense as this page, what is left would fill this many pages: a short rest is cheaper paged on than cut
    left_pages = (oldest - start) / max(1, newest - oldest + 1)
    if left_pages <= settings.EVENT_PAGES_NOT_CUT:
        return data, [(start, end, last["id"])]
    middle = (start + oldest + 1) // 2  # start < middle <= oldest: the page's last event is in the newer part
    return data, [(middle, oldest + 1, last["id"]), (start, middle, None)]


def failed_run(error: Exception) -> Any:
    """A resource that raises ``error`` when extracted, so a failure before extraction ends the run the way
    an extraction failure does (the runner reports it in the summary)."""

    @dlt.resource(name="events", **resource_hints(settings.EVENTS))
    def events() -> Iterator[Any]:
        raise error
        yield

    return events


# -- raw lookups (before extraction: the destination is read, never written, by the source) ---------------


def _billing_tables() -> list[RawTable]:
    tables = [c.table for c in settings.COLLECTIONS] + [c.child for c in settings.COLLECTIONS if c.child]
    return [*tables, settings.EVENTS, settings.BALANCE_TRANSACTIONS]


def load_seq(now: int) -> int:
    """This run's ``_q2c_load_seq`` (:func:`pipelines.sources.load_seq.next_load_seq` over the billing tables)."""
    return next_load_seq((t.name for t in _billing_tables()), now)


def _empty_tables() -> frozenset[str]:
    """The billing tables raw holds no row of (or has no table for): a backfill may append to them."""
    tables = _billing_tables()
    empty = set()
    with dlt.current.pipeline().sql_client() as client:
        for table in tables:
            try:
                holds = client.execute_sql(f"select 1 from {client.make_qualified_table_name(table.name)} limit 1")
            except DatabaseUndefinedRelation:
                holds = None  # no such table (or dataset) yet
            if not holds:
                empty.add(table.name)
    return frozenset(empty)


def _newer_than_raw(latest: dict[str, dict[str, ObjectState]]) -> dict[str, list[ObjectState]]:
    changes: dict[str, list[ObjectState]] = {}
    for table, states in latest.items():
        ids = sorted(states)
        rows = query_raw("select id, _q2c_state_version from {table} where id in ({ids})", table, ids)
        held = {r[0]: r[1] for r in rows}
        # a state not newer than raw's is a late or repeated event: never written over a newer one
        changes[table] = [states[i] for i in ids if held.get(i) is None or states[i].version > held[i]]
    return changes


def _raw_children(child: RawTable, parent_column: str, parent_ids: Sequence[str]) -> dict[str, dict[str, tuple]]:
    """parent id → child id → (payload, deleted) as raw holds them."""
    rows = query_raw(
        f"select {parent_column}, id, payload, deleted from {{table}} where {parent_column} in ({{ids}})",
        child.name,
        parent_ids,
    )
    found: dict[str, dict[str, tuple]] = defaultdict(dict)
    for parent_id, child_id, payload, deleted in rows:
        found[parent_id][child_id] = (orjson.loads(payload) if isinstance(payload, str) else payload, deleted)
    return found


# -- children: lines and items, written with their parent's state -----------------------------------------


def _parent_column(collection: Collection) -> str:
    assert collection.child is not None
    return next(
        name
        for name in collection.child.extra_columns
        if name not in settings.STATE_COLUMNS and name not in settings.LOAD_COLUMNS
    )


def _embedded(collection: Collection, parent: dict) -> dict:
    value = parent.get(collection.child_list or "")
    return value if isinstance(value, dict) else {}


def _children(api: StripeApi, collection: Collection, parent: dict) -> list[dict]:
    """All of a parent's lines or items: the embedded page, then the rest from the list endpoint."""
    embedded = _embedded(collection, parent)
    children = list(embedded.get("data") or [])
    if embedded.get("has_more") and collection.child_path:
        if collection.child_parent_param:  # subscription items: a filtered list, read whole
            path, params, after = collection.child_path, {collection.child_parent_param: parent["id"]}, None
            children = []
        else:
            path, params = collection.child_path.format(id=parent["id"]), {}
            after = children[-1]["id"] if children else None
        for page in api.pages(path, params, starting_after=after):
            children += page
    return children


def _fetch_children(api: StripeApi, collection: Collection, parents: Sequence[dict]) -> dict[str, list[dict]]:
    """Children of a page of parents; only parents with more than the embedded page make requests."""
    found = {p["id"]: list(_embedded(collection, p).get("data") or []) for p in parents}
    more = [p for p in parents if _embedded(collection, p).get("has_more")]
    if more:
        with ThreadPoolExecutor(min(settings.LINE_FETCH_WORKERS, len(more))) as pool:
            for parent, children in zip(more, pool.map(lambda p: _children(api, collection, p), more), strict=True):
                found[parent["id"]] = children
    return found


def child_rows(
    api: StripeApi,
    collection: Collection,
    parents: Sequence[dict],
    state_of: Callable[[str], tuple[bool, int]],
    held: dict[str, dict[str, tuple]] | None = None,
) -> tuple[list[dict], Callable[[dict], dict]]:
    """Child rows of ``parents`` with their parent's state (the objects, and their extra columns). Given what
    raw holds (``held``), children that did not change are left out, and those the parent no longer lists
    are written again, deleted."""
    parent_column = _parent_column(collection)
    good = [p for p in parents if isinstance(p, dict) and isinstance(p.get("id"), str)]
    current = _fetch_children(api, collection, good)
    rows: list[dict] = []
    extra: dict[int, dict] = {}
    for parent in good:
        deleted, version = state_of(parent["id"])
        before = (held or {}).get(parent["id"], {})
        listed = [c for c in current[parent["id"]] if isinstance(c, dict)]
        ids = {c.get("id") for c in listed}
        gone = [payload for child_id, (payload, _) in sorted(before.items()) if child_id not in ids]
        for c, is_deleted in [(c, deleted) for c in listed] + [(c, True) for c in gone]:
            if before.get(c.get("id")) == (c, is_deleted):
                continue  # unchanged: the row stays as it is
            rows.append(c)
            extra[id(c)] = {parent_column: parent["id"], "deleted": is_deleted, "_q2c_state_version": version}
    return rows, lambda o: extra[id(o)]


# -- resources ---------------------------------------------------------------------------------------------


def backfill_resources(api: StripeApi, plan: RunPlan, client: CountingClient, workers: int) -> list[Any]:
    """Every collection listed in full (:func:`.listing.list_collection`): by ``workers`` worker processes, as one
    resource; with no workers, one resource per collection in the run's own threads, in parallel.

    Either way the rows go to each collection's tables, and each collection's fields to the state of the resource
    named after its table (where the per-collection resources keep them), so a later run and the drift report
    read them in the same place."""
    jobs = [
        listing.ListingJob(
            table=name,
            base_url=api.base_url,
            api_key=api.api_key,
            api_version=api.api_version,
            version=plan.backfill_version,
            max_attempts=client.max_attempts,
            timeout=client.timeout,
            keep_requests=client.stats.keeps_requests,
        )
        for name in listing.backfill_order()
    ]
    tables = {t.name: t for t in _billing_tables()}

    def written(messages: Iterable[listing.Message]) -> Iterator[Any]:
        batches = Batches(plan.load_seq, append=plan.append)
        for message in messages:
            if isinstance(message, listing.Rows):
                yield from batches.add_rows(tables[message.table], message.rows, [])
            elif isinstance(message, listing.SetAside):
                yield dlt.mark.with_hints(message.rows, QUARANTINE_HINTS, create_table_variant=True)
            elif isinstance(message, listing.Requests):
                client.stats.add(message.pages, message.retries, message.requests)
            elif isinstance(message, listing.Listed):
                state = dlt.current.source_state().setdefault("resources", {}).setdefault(message.table, {})
                known = set(state.get("known_fields", ()))
                if not message.fields <= known:
                    state["known_fields"] = sorted(known | message.fields)
        yield from batches.close()

    def resource(name: str, messages: Callable[[], Iterable[listing.Message]], **hints: Any) -> Any:
        @dlt.resource(name=name, parallelized=True, **hints)
        def listed() -> Iterator[Any]:
            yield from written(messages())

        return listed

    if workers > 0:
        return [resource("listing", lambda: listing.list_in_workers(jobs, workers))]
    return [
        resource(job.table, lambda job=job: listing.list_collection(job), **resource_hints(tables[job.table]))
        for job in jobs
    ]


def event_state_resources(api: StripeApi, plan: RunPlan) -> list[Any]:
    """Every collection brought up to date from the events the plan read."""
    return [_event_state_resource(api, c, plan) for c in settings.COLLECTIONS]


def _event_state_resource(api: StripeApi, collection: Collection, plan: RunPlan) -> Any:
    table = collection.table

    @dlt.resource(name=table.name, parallelized=True, **resource_hints(table))
    def newest_states() -> Iterator[Any]:
        changes = plan.changes.get(table.name, [])
        if not changes:
            return
        track_fields([c.obj for c in changes])
        by_id = {c.obj["id"]: c for c in changes}
        state = {i: {"deleted": c.deleted, "_q2c_state_version": c.version} for i, c in by_id.items()}
        batches = Batches(plan.load_seq)
        for start in range(0, len(changes), settings.PAGE_LIMIT):
            objects = [c.obj for c in changes[start : start + settings.PAGE_LIMIT]]
            yield from batches.add(table, objects, lambda o: state[o["id"]])
            if collection.child is not None:
                held = plan.held_children.get(collection.child.name, {})
                children = child_rows(api, collection, objects, lambda i: (by_id[i].deleted, by_id[i].version), held)
                yield from batches.add(collection.child, *children)
        yield from batches.close()

    return newest_states


def events_resource(api: StripeApi, plan: RunPlan) -> Any:
    """The events themselves (audit, payment sync lag), and the cursor the next run starts from."""

    @dlt.resource(name="events", parallelized=True, **resource_hints(settings.EVENTS))
    def events() -> Iterator[Any]:
        state = dlt.current.resource_state()
        listed: dict[str, int] = {}  # every event read this run (already loaded ones too): id → created
        pages: Iterable[list[dict]] = [plan.events]
        if plan.backfill and plan.backfill_more:
            more = api.pages(settings.EVENTS_PATH, starting_after=plan.backfill_more)
            pages = (page for group in ([plan.events], more) for page in group)
        batches = Batches(plan.load_seq, append=plan.append)
        for page in pages:
            fresh = []
            for e in page:
                key = e.get("id") if isinstance(e, dict) else None
                if not isinstance(key, str):
                    fresh.append(e)  # set aside (quarantined) with its reason
                elif key not in listed and key not in plan.seen:  # else: a repeat, or loaded by an earlier run
                    fresh.append(e)
                if isinstance(key, str) and isinstance(e.get("created"), int):
                    listed.setdefault(key, e["created"])
            if fresh:
                track_fields(fresh)
                yield from batches.add(settings.EVENTS, fresh)
        yield from batches.close()
        cursor = plan.cursor
        newest = _cursor_of(plan.events)
        if not plan.backfill and newest and (newest["created"], newest["id"]) > (cursor["created"], cursor["id"]):
            cursor = newest
        if cursor is None:
            return  # no events at all yet: the next run backfills again (there is nothing it could miss)
        # what this run read covers the overlap before the new cursor, so this is the complete set
        floor = cursor["created"] - settings.EVENTS_OVERLAP_SECONDS
        state["cursor"] = cursor
        state["seen"] = sorted(i for i, created in listed.items() if created >= floor)
        state["last_run"] = plan.reason

    return events


def balance_transactions_resource(api: StripeApi, plan: RunPlan) -> Any:
    """Balance transactions: immutable and without events, so incremental on ``created``: ``created[gte]`` the
    last second seen (a transaction created later in that second is not lost), minus the ids already seen in
    that second."""
    table = settings.BALANCE_TRANSACTIONS

    @dlt.resource(name=table.name, parallelized=True, **resource_hints(table))
    def balance_transactions() -> Iterator[Any]:
        state = dlt.current.resource_state()
        last, known = state.get("last_created"), set(state.get("ids_at_last_created", ()))
        params = {} if last is None else {"created[gte]": last}
        newest, at_newest = last, set(known)
        batches = Batches(plan.load_seq, append=plan.append)
        for page in api.pages(settings.BALANCE_TRANSACTIONS_PATH, params):
            fresh = [o for o in page if not (isinstance(o, dict) and o.get("created") == last and o.get("id") in known)]
            for o in fresh:
                created = o.get("created") if isinstance(o, dict) else None
                if not isinstance(created, int) or isinstance(created, bool):
                    continue  # set aside (quarantined); not a cursor value
                if newest is None or created > newest:
                    newest, at_newest = created, set()
                if created == newest:
                    at_newest.add(o.get("id"))
            if fresh:
                track_fields(fresh)
                yield from batches.add(table, fresh)
        yield from batches.close()
        if newest is not None:
            state["last_created"] = newest
            state["ids_at_last_created"] = sorted(i for i in at_newest if isinstance(i, str))

    return balance_transactions
