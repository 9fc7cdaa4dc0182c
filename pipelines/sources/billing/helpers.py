"""What the declarative config cannot say about Stripe: cursor paging, the run plan (backfill or events),
the newest state of each object from its events, and child rows (lines, items) written with their parent.

A run is one of two kinds, decided before anything is extracted (:func:`plan_run`):

- **backfill** (first run, or the events cursor fell out of Stripe's 30-day event window): the newest event
  is recorded as the cursor *first*, then every collection is listed in full (declarative ``rest_api``
  resources with :class:`StripePaginator`). Rows get ``_q2c_state_version`` = the cursor's second
  × VERSION_SLOTS − 1, i.e. older than any event from that second on.
- **events**: ``/v1/events`` is read from the cursor (minus a small overlap) and, per object, the newest
  state is applied: events are deduplicated by id, grouped by object, and ordered by (created, the state's
  place in its second, event id) — within one second the ``previous_attributes`` chain tells which state
  follows which, and the event type's lifecycle rank (created < updated < other < deleted) breaks what is
  left. A state is written only if its version is newer than the row's version in raw, so late, repeated
  or reordered deliveries never overwrite a newer state.

Balance transactions have no events and never change: they load incrementally on ``created`` everywhere.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import dlt
from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.extract.items import DataItemWithMeta
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from dlt.sources.rest_api import rest_api_resources

from pipelines.sources.billing import settings
from pipelines.sources.billing.settings import Collection
from pipelines.sources.raw_tables import RawTable, emit, resource_hints, track_fields

logger = logging.getLogger(__name__)

SOURCE = settings.SOURCE_NAME


# -- HTTP ----------------------------------------------------------------------------------------------


def cache_json(response: Any, *args: Any, **kwargs: Any) -> Any:
    """A response hook: the body is parsed once however often it is read (data selector, then paginator)."""
    parse = response.json
    cached: list[Any] = []

    def json_once(**kw: Any) -> Any:
        if not cached:
            cached.append(parse(**kw))
        return cached[0]

    response.json = json_once
    return response


class StripePaginator(BasePaginator):
    """Stripe's cursor paging: the next page starts after this page's last id, while ``has_more`` is true."""

    def __init__(self) -> None:
        super().__init__()
        self._last_id: str | None = None

    def init_request(self, request: Any) -> None:
        request.register_hook("response", cache_json)

    def update_state(self, response: Any, data: list[Any] | None = None) -> None:
        self._last_id = data[-1]["id"] if data else None
        self._has_next_page = bool(response.json().get("has_more")) and self._last_id is not None

    def update_request(self, request: Any) -> None:
        request.params["starting_after"] = self._last_id


class StripeApiError(RuntimeError):
    pass


class StripeApi:
    """Requests the declarative config does not make, on the run's counting, retrying session."""

    def __init__(self, base_url: str, api_key: str, api_version: str, session: Any) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.headers = {"Authorization": f"Bearer {api_key}", "Stripe-Version": api_version}

    def get(self, path: str, params: dict[str, Any]) -> dict:
        response = self.session.get(self.base_url + path, params=params, headers=self.headers)
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except Exception:  # any unparseable body: report the status and text
                message = response.text[:200]
            raise StripeApiError(f"GET {path} → {response.status_code}: {message}")
        return response.json()

    def pages(self, path: str, params: dict[str, Any] | None = None, starting_after: str | None = None):
        """Every page of a list (newest first), as lists of objects."""
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


def rest_api_config(api: StripeApi, api_key: str, api_version: str, resources: list[dict]) -> dict:
    return {
        "client": {
            "base_url": api.base_url,
            "headers": {"Stripe-Version": api_version},
            "auth": {"type": "bearer", "token": api_key},
            "session": api.session,
        },
        "resource_defaults": {
            "primary_key": "id",
            "selected": False,  # pages feed the transformers that write raw rows (Arrow, quarantine)
            "parallelized": True,
            "endpoint": {"data_selector": "data", "params": {"limit": settings.PAGE_LIMIT}},
        },
        "resources": resources,
    }


# -- the run plan ----------------------------------------------------------------------------------------


def _cursor_of(events: Iterable[dict]) -> dict | None:
    newest = max(((e["created"], e["id"]) for e in events if _is_event(e)), default=None)
    return None if newest is None else {"created": newest[0], "id": newest[1]}


def _is_event(e: Any) -> bool:
    return (
        isinstance(e, dict)
        and isinstance(e.get("id"), str)
        and isinstance(e.get("created"), int)
        and isinstance(e.get("type"), str)
        and isinstance((e.get("data") or {}).get("object"), dict)
    )


@dataclass
class RunPlan:
    """What this run does, decided before extraction starts."""

    backfill: bool
    reason: str
    cursor: dict | None  # the events cursor this run starts from (backfill: recorded before listing anything)
    seen: frozenset[str] = frozenset()  # events already loaded (ids within the overlap before the cursor)
    events: list[dict] = field(default_factory=list)  # events mode: all listed since the cursor − overlap
    backfill_more: str | None = None  # backfill: the events list goes on after this id
    # events mode: per table, the objects whose newest state is newer than raw's, and per child table what
    # raw holds for their parents (read before extraction: the destination is not read while extracting)
    changes: dict[str, list[ObjectState]] = field(default_factory=dict)
    held_children: dict[str, dict[str, dict[str, tuple]]] = field(default_factory=dict)

    @property
    def backfill_version(self) -> int:
        return self.cursor["created"] * settings.VERSION_SLOTS - 1 if self.cursor else 0


def plan_run(api: StripeApi, events_state: dict) -> RunPlan:
    cursor = events_state.get("cursor")
    if cursor:
        since = cursor["created"] - settings.EVENTS_OVERLAP_SECONDS
        listed = [e for page in api.pages(settings.EVENTS_PATH, {"created[gte]": since}) for e in page]
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
    return RunPlan(True, reason, _cursor_of(data), events=data, backfill_more=more)


# -- newest state per object -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectState:
    obj: dict
    version: int
    deleted: bool


def event_rank(event_type: str) -> int:
    if event_type.endswith(".created"):
        return settings.EVENT_RANK_CREATED
    if event_type.endswith(".deleted") and event_type not in settings.NOT_A_DELETION:
        return settings.EVENT_RANK_DELETED
    if event_type.endswith(".updated"):
        return settings.EVENT_RANK_UPDATED
    return settings.EVENT_RANK_OTHER


def _matches(obj: Any, previous: dict) -> bool:
    """Whether ``obj`` has the old values an update's ``previous_attributes`` lists (nested objects partially)."""
    if not isinstance(obj, dict):
        return False
    for key, old in previous.items():
        value = obj.get(key)
        if isinstance(old, dict) and isinstance(value, dict) and old.get("object") != "list":
            if not _matches(value, old):
                return False
        elif value != old:
            return False
    return True


def order_states(events: Sequence[dict]) -> list[tuple[dict, int]]:
    """Events about one object within one second → (event, place of its state), 0 = the oldest state.

    The same events in any delivery order give the same places. A state S follows state R when an update
    to S lists R's values as its ``previous_attributes``; what that chain leaves open goes by the highest
    lifecycle rank among the state's events, then the highest event id.
    """
    states: dict[str, list[dict]] = defaultdict(list)
    key_of: dict[str, str] = {}
    for e in events:
        key = json.dumps(e["data"]["object"], sort_keys=True)
        states[key].append(e)
        key_of[e["id"]] = key
    keys = sorted(states)
    if len(keys) == 1:
        return [(e, 0) for e in events]
    edges = sorted(
        {
            (other, key)
            for key in keys
            for e in states[key]
            if isinstance(e["data"].get("previous_attributes"), dict) and e["data"]["previous_attributes"]
            for other in keys
            if other != key and _matches(states[other][0]["data"]["object"], e["data"]["previous_attributes"])
        }
    )
    depth = dict.fromkeys(keys, 0)
    for _ in range(len(keys)):  # longest path; bounded, so a cycle (A → B → A) cannot loop
        changed = False
        for before, after in edges:
            if depth[before] + 1 > depth[after] and depth[before] + 1 < len(keys):
                depth[after] = depth[before] + 1
                changed = True
        if not changed:
            break
    ordered = sorted(
        keys, key=lambda k: (depth[k], max(event_rank(e["type"]) for e in states[k]), max(e["id"] for e in states[k]))
    )
    place = {k: i for i, k in enumerate(ordered)}
    return [(e, place[key_of[e["id"]]]) for e in events]


def latest_states(events: Iterable[dict], seen: frozenset[str] = frozenset()) -> dict[str, dict[str, ObjectState]]:
    """table → object id → the newest state among ``events`` (skipped when its event was applied before)."""
    tables = {c.object_type: c.table.name for c in settings.COLLECTIONS}
    by_object: dict[str, dict[int, dict[str, dict]]] = defaultdict(lambda: defaultdict(dict))
    for e in events:
        if not _is_event(e):
            continue  # the events table sets it aside with its reason
        obj = e["data"]["object"]
        if obj.get("object") in tables and isinstance(obj.get("id"), str):
            by_object[obj["id"]][e["created"]][e["id"]] = e  # keyed by id: duplicates collapse
    result: dict[str, dict[str, ObjectState]] = defaultdict(dict)
    for object_id, seconds in by_object.items():
        second = max(seconds)
        ranked = order_states(sorted(seconds[second].values(), key=lambda e: e["id"]))
        last, place = max(ranked, key=lambda p: (p[1], event_rank(p[0]["type"]), p[0]["id"]))
        if last["id"] in seen:
            continue  # the newest state was applied by an earlier run (or was in its backfill)
        obj = last["data"]["object"]
        version = second * settings.VERSION_SLOTS + min(place, settings.VERSION_SLOTS - 1)
        deleted = event_rank(last["type"]) == settings.EVENT_RANK_DELETED
        result[tables[obj["object"]]][object_id] = ObjectState(obj, version, deleted)
    return result


# -- raw lookups (the destination is read, never written, during extraction) ------------------------------


def _query_raw(sql_template: str, table: str, ids: Sequence[str]) -> list[tuple]:
    if not ids:
        return []
    pipeline = dlt.current.pipeline()
    rows: list[tuple] = []
    try:
        with pipeline.sql_client() as client:
            qualified = client.make_qualified_table_name(table)
            for start in range(0, len(ids), 1000):
                chunk = list(ids[start : start + 1000])
                placeholders = ", ".join(["%s"] * len(chunk))
                rows += client.execute_sql(sql_template.format(table=qualified, ids=placeholders), *chunk) or []
    except DatabaseUndefinedRelation:
        pass  # no such table yet (nothing of its kind loaded): nothing in raw to compare with
    return rows


def _newer_than_raw(latest: dict[str, dict[str, ObjectState]]) -> dict[str, list[ObjectState]]:
    changes: dict[str, list[ObjectState]] = {}
    for table, states in latest.items():
        ids = sorted(states)
        rows = _query_raw("select id, _q2c_state_version from {table} where id in ({ids})", table, ids)
        held = {r[0]: r[1] for r in rows}
        changes[table] = [
            states[i] for i in ids if held.get(i) is None or states[i].version > held[i]
        ]  # not newer than raw: a late or repeated event
    return changes


def _raw_children(child: RawTable, parent_column: str, parent_ids: Sequence[str]) -> dict[str, dict[str, tuple]]:
    """parent id → child id → (payload, deleted) as raw holds them."""
    rows = _query_raw(
        f"select {parent_column}, id, payload, deleted from {{table}} where {parent_column} in ({{ids}})",
        child.name,
        parent_ids,
    )
    found: dict[str, dict[str, tuple]] = defaultdict(dict)
    for parent_id, child_id, payload, deleted in rows:
        found[parent_id][child_id] = (json.loads(payload) if isinstance(payload, str) else payload, deleted)
    return found


# -- resources ---------------------------------------------------------------------------------------------


def _parent_column(collection: Collection) -> str:
    assert collection.child is not None
    return next(name for name in collection.child.extra_columns if name not in settings.STATE_COLUMNS)


def _with_table(items: Iterable[Any], table: RawTable) -> Iterator[Any]:
    """Route emitted Arrow rows to ``table`` (a child of the resource's own table); quarantine rows as marked."""
    hints = dlt.mark.make_hints(**resource_hints(table))
    for item in items:
        yield item if isinstance(item, DataItemWithMeta) else dlt.mark.with_hints(item, hints)


def _children(api: StripeApi, collection: Collection, parent: dict) -> list[dict]:
    """All of a parent's lines or items: the embedded page, then the rest from the list endpoint."""
    embedded = parent.get(collection.child_list or "") or {}
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
    more = [p for p in parents if ((p.get(collection.child_list or "") or {}).get("has_more"))]
    found = {p["id"]: list(((p.get(collection.child_list or "") or {}).get("data")) or []) for p in parents}
    if more:
        with ThreadPoolExecutor(min(settings.LINE_FETCH_WORKERS, len(more))) as pool:
            for parent, children in zip(more, pool.map(lambda p: _children(api, collection, p), more), strict=True):
                found[parent["id"]] = children
    return found


def _emit_children(
    api: StripeApi,
    collection: Collection,
    parents: Sequence[dict],
    state_of: Callable[[str], tuple[bool, int]],
    previous: dict[str, dict[str, tuple]] | None = None,
) -> Iterator[Any]:
    """Child rows of ``parents`` with their parent's state. Given what raw holds (``previous``), children
    that did not change are not written again, and those the parent no longer lists are written deleted."""
    child = collection.child
    assert child is not None
    parent_column = _parent_column(collection)
    good = [p for p in parents if isinstance(p, dict) and isinstance(p.get("id"), str)]
    current = _fetch_children(api, collection, good)
    rows: list[dict] = []
    extra: dict[int, dict] = {}
    for parent in good:
        deleted, version = state_of(parent["id"])
        held = (previous or {}).get(parent["id"], {})
        listed = [c for c in current[parent["id"]] if isinstance(c, dict)]
        ids = {c.get("id") for c in listed}
        gone = [payload for child_id, (payload, _) in sorted(held.items()) if child_id not in ids]
        for c, is_deleted in [(c, deleted) for c in listed] + [(c, True) for c in gone]:
            if held.get(c.get("id")) == (c, is_deleted):
                continue  # unchanged: the row stays as it is
            rows.append(c)
            extra[id(c)] = {parent_column: parent["id"], "deleted": is_deleted, "_q2c_state_version": version}
    if rows:
        yield from _with_table(emit(SOURCE, child, rows, extra=lambda o: extra[id(o)]), child)


def backfill_resources(api: StripeApi, api_key: str, api_version: str, plan: RunPlan) -> list[Any]:
    """Every collection listed in full: declarative list resources, each feeding a transformer that writes
    its pages (and their lines or items) as raw rows."""
    config = rest_api_config(
        api,
        api_key,
        api_version,
        [
            {
                "name": f"{c.table.name}_pages",
                "endpoint": {
                    "path": c.path,
                    "params": dict(c.params),
                    "paginator": StripePaginator(),
                },
            }
            for c in settings.COLLECTIONS
        ],
    )
    pages = {r.name: r for r in rest_api_resources(config)}
    state = {"deleted": False, "_q2c_state_version": plan.backfill_version}
    return [_backfill_transformer(api, c, pages[f"{c.table.name}_pages"], state) for c in settings.COLLECTIONS]


def _backfill_transformer(api: StripeApi, collection: Collection, pages: Any, state: dict) -> Any:
    @dlt.transformer(data_from=pages, name=collection.table.name, **resource_hints(collection.table))
    def rows(page: list[dict]) -> Iterator[Any]:
        track_fields(page)
        yield from emit(SOURCE, collection.table, page, extra=state)
        if collection.child is not None:
            version = state["_q2c_state_version"]
            yield from _emit_children(api, collection, page, lambda _id: (False, version))

    return rows


def event_state_resources(api: StripeApi, plan: RunPlan) -> list[Any]:
    """Every collection brought up to date from the events read by the plan."""
    return [_event_state_resource(api, c, plan) for c in settings.COLLECTIONS]


def _event_state_resource(api: StripeApi, collection: Collection, plan: RunPlan) -> Any:
    @dlt.resource(name=collection.table.name, parallelized=True, **resource_hints(collection.table))
    def newest_states() -> Iterator[Any]:
        changes = plan.changes.get(collection.table.name, [])
        if not changes:
            return
        objects = [c.obj for c in changes]
        track_fields(objects)
        by_id = {c.obj["id"]: c for c in changes}
        for start in range(0, len(changes), settings.PAGE_LIMIT):
            chunk = changes[start : start + settings.PAGE_LIMIT]
            yield from emit(
                SOURCE,
                collection.table,
                [c.obj for c in chunk],
                extra=lambda o: {"deleted": by_id[o["id"]].deleted, "_q2c_state_version": by_id[o["id"]].version},
            )
            if collection.child is not None:
                yield from _emit_children(
                    api,
                    collection,
                    [c.obj for c in chunk],
                    lambda i: (by_id[i].deleted, by_id[i].version),
                    plan.held_children.get(collection.child.name, {}),
                )

    return newest_states


def events_resource(api: StripeApi, plan: RunPlan) -> Any:
    """The events themselves (audit, payment sync lag), and the cursor the next run starts from."""

    @dlt.resource(name="events", parallelized=True, **resource_hints(settings.EVENTS))
    def events() -> Iterator[Any]:
        state = dlt.current.resource_state()
        listed: dict[str, int] = {}  # every event read this run (already loaded ones too): id → created
        pages: Iterable[list[dict]] = [plan.events]
        if plan.backfill and plan.backfill_more:
            pages = _chain([plan.events], api.pages(settings.EVENTS_PATH, starting_after=plan.backfill_more))
        for page in pages:
            fresh = []
            for e in page:
                key = e.get("id") if isinstance(e, dict) else None
                if not isinstance(key, str):
                    fresh.append(e)  # set aside by emit, with its reason
                    continue
                if key in listed or key in plan.seen:
                    continue  # a repeated delivery, or loaded by an earlier run
                listed[key] = e.get("created") if isinstance(e.get("created"), int) else 0
                fresh.append(e)
            for e in page:
                if isinstance(e, dict) and isinstance(e.get("id"), str) and isinstance(e.get("created"), int):
                    listed.setdefault(e["id"], e["created"])
            if fresh:
                track_fields(fresh)
                yield from emit(SOURCE, settings.EVENTS, fresh)
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


def _chain(*iterables: Iterable[Any]) -> Iterator[Any]:
    for it in iterables:
        yield from it


def balance_transactions_resources(api: StripeApi, api_key: str, api_version: str) -> list[Any]:
    """Balance transactions: immutable and without events, so incremental on ``created`` (declarative)."""
    config = rest_api_config(
        api,
        api_key,
        api_version,
        [
            {
                "name": "balance_transactions_pages",
                "endpoint": {
                    "path": settings.BALANCE_TRANSACTIONS_PATH,
                    "paginator": StripePaginator(),
                    "params": {
                        # gte, not gt: a transaction created later in the last second seen is not lost; the
                        # ones already seen in that second are skipped by dlt's incremental (by primary key)
                        "created[gte]": {"type": "incremental", "cursor_path": "created", "initial_value": 0},
                    },
                },
            }
        ],
    )
    (pages,) = rest_api_resources(config)
    table = settings.BALANCE_TRANSACTIONS

    @dlt.transformer(data_from=pages, name=table.name, **resource_hints(table))
    def balance_transactions(page: list[dict]) -> Iterator[Any]:
        track_fields(page)
        yield from emit(SOURCE, table, page)

    return [balance_transactions]
