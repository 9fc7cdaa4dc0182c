"""What the declarative ``rest_api`` config cannot say for HubSpot: keyset search, merges and associations.

Changed records (search). HubSpot's search pages by offset and refuses any page starting at or beyond the
10,000th result. Offset paging is also unsafe while records change: a record modified mid-read jumps to the end
of the ``hs_lastmodifieddate`` order, every later record shifts down one place, and the next page skips one.
So every page is a fresh search ``last-modified GTE <the newest timestamp seen so far>``, sorted ascending
(keyset paging on the timestamp): the cap is never reached (a smaller cap only shortens the page) and a shift
cannot skip anything. The records at that timestamp come back on the next page and are dropped by id. If a
whole page shares one timestamp (a bulk import stamps thousands of records with the same millisecond), the
timestamp cannot advance, so that one instant is drained by id instead: ``last-modified EQ T AND hs_object_id
GT <last id>`` sorted by id, each page advancing the id, then the search goes on at ``T + 1 ms``. Every request
advances the timestamp or the id, so no burst loops forever.

Incremental state (per object type, committed with the load package): ``cursor_ms``, the newest last-modified
time loaded; ``recent``, the ids loaded with a last-modified time within ``LOOKBACK_MS`` of it (and that time).
A run searches from ``cursor_ms - LOOKBACK_MS`` (HubSpot's index trails writes) and skips a record whose id and
time are in ``recent``: a run with no changes loads nothing and makes one search request per type.

Merges. The winner of a merge is modified (so searched) and lists every absorbed id in
``hs_merged_object_ids``; the loser leaves lists and search, and a GET of its id answers with the winner. So
merges are derived from winners: ``<type>_merges`` rows (loser -> winner); the loser's last stored row is
re-loaded unchanged except for ``merged_into`` (its payload is read back from the raw table: HubSpot no longer
has it); the loser's associations are cleared (they moved to the winner, which is re-read as changed), and
objects whose stored associations pointed at the loser are re-read (they now point at the winner).

Associations (v4 batch read) are refreshed for each record changed in the run, per associated type; see
``settings.ASSOCIATIONS`` for the write disposition.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
import orjson
from dlt.sources.helpers.requests import Response
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.rest_api import rest_api_resources

from pipelines.sources.crm.settings import (
    ASSOCIATIONS,
    ASSOCIATIONS_BATCH_READ_PATH,
    ASSOCIATIONS_BATCH_SIZE,
    ASSOCIATIONS_WORKERS,
    LIST_PAGE_SIZE,
    LIST_PATH,
    LOOKBACK_MS,
    MERGES_TABLES,
    OBJECTS,
    SEARCH_PAGE_SIZE,
    SEARCH_PATH,
    SOURCE_NAME,
    TABLES,
    CrmObject,
)
from pipelines.sources.raw_lookup import query_raw
from pipelines.sources.raw_tables import coalesced, emit, resource_hints, track_fields

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class CrmApiError(RuntimeError):
    """HubSpot refused a request (after the client's retries): the run stops, its state is not committed."""


def api_client(base_url: str, token: str, session: Any) -> RESTClient:
    return RESTClient(base_url=base_url, auth=BearerTokenAuth(token), session=session)


def with_extra_properties(extra: dict[str, Sequence[str]] | None) -> dict[str, CrmObject]:
    """The object specs, with any properties the configuration adds (``extra_properties``) requested too."""
    if not extra:
        return dict(OBJECTS)
    unknown = sorted(set(extra) - set(OBJECTS))
    if unknown:
        raise ValueError(f"extra_properties names unknown object types {unknown}; expected some of {list(OBJECTS)}")
    out = {}
    for name, spec in OBJECTS.items():
        added = [p for p in extra.get(name, ()) if p not in spec.properties]
        out[name] = replace(spec, properties=(*spec.properties, *added))
    return out


def _json(response: Response, what: str, ok: Iterable[int] = (200,)) -> dict:
    if response.status_code not in tuple(ok):
        raise CrmApiError(f"{what}: HTTP {response.status_code}: {response.text[:500]}")
    try:
        return orjson.loads(response.content)  # what ``response.json()`` gives (HubSpot's ids fit 64 bits), faster
    except orjson.JSONDecodeError:
        return response.json()  # not JSON: the error requests raises for it


def lastmod_ms(obj: dict, prop: str) -> int | None:
    """A record's last-modified time in unix ms (the property search filters on; ``updatedAt`` if absent)."""
    value = (obj.get("properties") or {}).get(prop) or obj.get("updatedAt")
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return (parsed - _EPOCH) // timedelta(milliseconds=1)


def _field_view(objects: Iterable[Any], prefix: str = "") -> list[dict]:
    """Top-level fields and each ``properties.<name>``, so a property that starts arriving is reported."""
    views = []
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        view = {f"{prefix}{k}": None for k in obj if k != "properties"}
        view.update({f"{prefix}properties.{p}": None for p in (obj.get("properties") or {})})
        views.append(view)
    return views


# ---- search -----------------------------------------------------------------------------------------------------


def _search(api: RESTClient, spec: CrmObject, filters: list[dict], sort_by: str) -> tuple[list[dict], bool]:
    body = {
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": sort_by, "direction": "ASCENDING"}],
        "properties": list(spec.properties),
        "limit": SEARCH_PAGE_SIZE,
    }
    data = _json(api.post(SEARCH_PATH.format(object_type=spec.name), json=body), f"search {spec.name}")
    results = data.get("results") or []
    # more results exist exactly when HubSpot offers a next page (a page cut short by the cap offers one too)
    return results, bool(results) and bool((data.get("paging") or {}).get("next"))


def _newest(results: list[dict], prop: str) -> int:
    times = [t for t in (lastmod_ms(o, prop) for o in results) if t is not None]
    if not times:
        raise CrmApiError(f"a search page without any readable {prop}: cannot continue the search after it")
    return max(times)


def search_pages(api: RESTClient, spec: CrmObject, since_ms: int) -> Iterator[list[dict]]:
    """Pages of the records modified at or after ``since_ms``, oldest first (records may repeat across pages)."""
    prop = spec.last_modified
    lower = since_ms
    while True:
        results, more = _search(api, spec, [{"propertyName": prop, "operator": "GTE", "value": str(lower)}], prop)
        yield results
        if not more:
            return
        newest = _newest(results, prop)
        if newest > lower:
            lower = newest  # restart at the newest timestamp seen; its records repeat and are dropped by id
            continue
        yield from _drain_instant(api, spec, lower)  # the whole page shares one timestamp
        lower += 1


def _drain_instant(api: RESTClient, spec: CrmObject, instant_ms: int) -> Iterator[list[dict]]:
    """Every record last modified at exactly ``instant_ms``, paged by id (the id strictly advances)."""
    after: str | None = None
    while True:
        filters = [{"propertyName": spec.last_modified, "operator": "EQ", "value": str(instant_ms)}]
        if after is not None:
            filters.append({"propertyName": "hs_object_id", "operator": "GT", "value": after})
        results, more = _search(api, spec, filters, "hs_object_id")
        yield results
        ids = [int(o["id"]) for o in results if str(o.get("id", "")).isdigit()]
        if not more or not ids or (after is not None and max(ids) <= int(after)):
            return
        after = str(max(ids))


# ---- the per-type resource --------------------------------------------------------------------------------------


def records_resource(api: RESTClient, spec: CrmObject):
    """Changed records of one type, with the merges they reveal and their associations."""
    table = TABLES[spec.name]

    # object types are independent: dlt runs their generators side by side in its extract thread pool
    @dlt.resource(name=spec.name, parallelized=True, **resource_hints(table))
    def records() -> Iterator[Any]:
        yield from coalesced(_changed_records(api, spec))

    return records()


def _changed_records(api: RESTClient, spec: CrmObject) -> Iterator[Any]:
    """What :func:`records_resource` yields, page by page (run inside the resource: its state is the type's)."""
    stored = _stored_state(spec.name)
    cursor: int | None = None
    recent: dict[str, int] = {}
    if stored.get("properties") == list(spec.properties):
        # otherwise this is the first run, or the requested properties changed: (re)read every record
        cursor, recent = stored.get("cursor_ms"), stored.get("recent") or {}
    since = 0 if cursor is None else max(cursor - LOOKBACK_MS, 0)

    seen: dict[str, int] = {}
    changed: list[dict] = []
    associations = AssociationReader(api)
    waiting: dict[str, None] = {}  # changed ids whose associations are not read yet (in order)
    try:
        yield from _search_changes(api, spec, since, recent, seen, changed, associations, waiting)
        # the rest of the changed records' associations, and those that merges call for
        refresh: dict[tuple[str, str], set[str]] = defaultdict(set)  # (from type, to type) -> ids to re-read
        for to_type in spec.associated:
            refresh[(spec.name, to_type)].update(waiting)
        if spec.merges_table and changed:
            yield from _merges(spec, changed, dlt.current.resource_state(), refresh)
        for (from_type, to_type), ids in sorted(refresh.items()):
            associations.start(from_type, to_type, ids)
        yield from associations.rows()
    finally:
        associations.close()

    if seen:
        newest = max(max(seen.values()), cursor or 0)
        kept = {**recent, **seen}
        dlt.current.resource_state().update(
            properties=list(spec.properties),
            cursor_ms=newest,
            recent={k: v for k, v in kept.items() if v >= newest - LOOKBACK_MS},
        )


def _search_changes(
    api: RESTClient,
    spec: CrmObject,
    since: int,
    recent: dict[str, int],
    seen: dict[str, int],
    changed: list[dict],
    associations: AssociationReader,
    waiting: dict[str, None],
) -> Iterator[Any]:
    """The changed records' rows; each full batch of changed ids has its association reads started at once.

    ``seen`` (id → last-modified ms) ends holding at least the ids within ``LOOKBACK_MS`` of the newest time
    seen; ``changed`` only the changed records that name merged ids (the merge winners)."""
    table = TABLES[spec.name]
    started: set[str] = set()  # ids whose association reads are under way
    newest = -1
    prune_at = 2 * _SEEN_KEPT
    for page in search_pages(api, spec, since):
        if page:
            track_fields(_field_view(page))
        fresh = []
        for obj in page:
            key, modified = str(obj.get("id")), lastmod_ms(obj, spec.last_modified)
            if modified is not None:
                if recent.get(key) == modified or seen.get(key, -1) >= modified:
                    continue  # already loaded (an earlier run's lookback, or a repeat in this run)
                seen[key] = modified
                newest = max(newest, modified)
            fresh.append(obj)
        if len(seen) > prune_at:
            # every later search starts at the newest time seen (the keyset), so an id older than the lookback
            # before it can neither repeat in this run nor belong in ``recent``: forget it (memory stays flat)
            for key in [k for k, v in seen.items() if v < newest - LOOKBACK_MS]:
                del seen[key]
            prune_at = max(2 * len(seen), 2 * _SEEN_KEPT)
        if fresh:
            yield from emit(SOURCE_NAME, table, fresh)
            added = [o for o in fresh if isinstance(o.get("id"), str)]
            # only merge winners are needed after the search (see _merges): not every changed record
            changed += [o for o in added if (o.get("properties") or {}).get("hs_merged_object_ids")]
            if spec.associated:
                waiting.update((o["id"], None) for o in added if o["id"] not in started)
                while len(waiting) >= ASSOCIATIONS_BATCH_SIZE:
                    batch = list(waiting)[:ASSOCIATIONS_BATCH_SIZE]
                    for to_type in spec.associated:
                        associations.start(spec.name, to_type, batch)
                    started.update(batch)
                    for i in batch:
                        del waiting[i]


_SEEN_KEPT = 20_000  # ids remembered before the first pruning of ``seen`` (cheap; pruning is amortized)


def _stored_state(resource: str) -> dict:
    """A resource's state as committed, read without creating it: a resource gets state only once it has
    loaded something, so the fields of its first records are its baseline, not drift."""
    return dlt.current.source_state().get("resources", {}).get(resource, {})


# ---- merges ------------------------------------------------------------------------------------------------------


def _merges(
    spec: CrmObject, changed: list[dict], state: dict, refresh: dict[tuple[str, str], set[str]]
) -> Iterator[Any]:
    known: dict[str, str] = state.setdefault("merges", {})
    pairs: dict[str, str] = {}  # loser -> winner, new in this run
    for winner in changed:
        merged = (winner.get("properties") or {}).get("hs_merged_object_ids") or ""
        for loser in filter(None, (x.strip() for x in str(merged).split(";"))):
            if loser != winner["id"] and known.get(loser) != winner["id"]:
                pairs[loser] = winner["id"]
    if not pairs:
        return
    table = MERGES_TABLES[spec.name]
    yield from emit(SOURCE_NAME, table, [{"loser_id": lo, "winner_id": w} for lo, w in sorted(pairs.items())])
    known.update(pairs)

    # the losers' last stored rows, marked as merged (HubSpot itself answers a loser's id with the winner)
    losers = sorted(pairs)
    by_winner: dict[str, list[dict]] = defaultdict(list)
    for loser_id, payload in query_raw("select id, payload from {table} where id in ({ids})", spec.name, losers):
        by_winner[pairs[loser_id]].append(json.loads(payload) if isinstance(payload, str) else payload)
    for winner_id, rows in sorted(by_winner.items()):
        yield from emit(SOURCE_NAME, TABLES[spec.name], rows, extra={"merged_into": winner_id})

    # the losers' associations moved to the winner: clear theirs; objects that pointed at a loser are re-read
    for to_type in spec.associated:
        yield from _association_rows(spec.name, to_type, losers, [])
    pointing = query_raw(
        "select distinct from_type, from_id from {table} where to_type = %s and to_id in ({ids})",
        ASSOCIATIONS.name,
        losers,
        params=[spec.name],
    )
    for from_type, from_id in pointing:
        if from_type in OBJECTS and spec.name in OBJECTS[from_type].associated and from_id not in pairs:
            refresh[(from_type, spec.name)].add(from_id)


# ---- associations ------------------------------------------------------------------------------------------------


AssociationBatch = tuple[str, str, list[str]]  # (from type, to type, up to ASSOCIATIONS_BATCH_SIZE ids)


class AssociationReader:
    """v4 batch reads, ``ASSOCIATIONS_WORKERS`` in flight at once. A batch is started as soon as its ids are
    known (:meth:`start`, while the search goes on); :meth:`rows` hands out the rows in the order started."""

    def __init__(self, api: RESTClient):
        self.api = api
        self.pool = ThreadPoolExecutor(ASSOCIATIONS_WORKERS, thread_name_prefix="crm-associations")
        self.started: list[tuple[AssociationBatch, Future]] = []

    def _read(self, job: AssociationBatch) -> dict:
        from_type, to_type, batch = job
        response = self.api.post(
            ASSOCIATIONS_BATCH_READ_PATH.format(from_type=from_type, to_type=to_type),
            json={"inputs": [{"id": i} for i in batch]},
        )
        return _json(response, f"associations {from_type} -> {to_type}", ok=(200, 207))

    def start(self, from_type: str, to_type: str, ids: Iterable[str]) -> None:
        ordered = sorted(set(ids), key=lambda i: (len(i), i))
        for at in range(0, len(ordered), ASSOCIATIONS_BATCH_SIZE):
            job = (from_type, to_type, ordered[at : at + ASSOCIATIONS_BATCH_SIZE])
            self.started.append((job, self.pool.submit(self._read, job)))

    def rows(self) -> Iterator[Any]:
        try:
            for (from_type, to_type, batch), answer in self.started:
                data = answer.result()
                for err in data.get("errors") or []:
                    if not str(err.get("subCategory", "")).endswith("NO_ASSOCIATIONS_FOUND"):
                        # an error other than "has none" must not clear what is stored: fail, the next run retries
                        raise CrmApiError(f"associations {from_type} -> {to_type}: {err}")
                track_fields(_field_view(data.get("results") or [], prefix="associations."))
                yield from _association_rows(from_type, to_type, batch, data.get("results") or [])
        finally:
            self.close()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _association_rows(from_type: str, to_type: str, ids: list[str], results: list[dict]) -> Iterator[Any]:
    """The refreshed groups' current rows, and a marker for each group that is now empty.

    A group with rows replaces what was stored through the merge key; an empty group has no row to carry the
    key, so it gets a marker row flagged ``deleted`` (dlt's hard delete): it clears the group and is not kept.
    """
    group = {"fromObjectType": from_type, "toObjectType": to_type}
    rows = [
        {**group, "fromObjectId": str((result.get("from") or {}).get("id")), **to}
        for result in results
        for to in result.get("to") or []
    ]
    if rows:
        yield from emit(SOURCE_NAME, ASSOCIATIONS, rows, extra={"deleted": False})
    with_rows = {row["fromObjectId"] for row in rows}
    empty = [i for i in ids if i not in with_rows]
    markers = [{**group, "fromObjectId": i, "toObjectId": "", "associationTypes": []} for i in empty]
    if markers:
        yield from emit(SOURCE_NAME, ASSOCIATIONS, markers, extra={"deleted": True})


# ---- archived records (declarative lists) ------------------------------------------------------------------------


def archived_resources(base_url: str, token: str, session: Any, objects: dict[str, CrmObject]) -> list:
    """Archived records of every type: ``GET /crm/v3/objects/{type}?archived=true`` (search never returns them).

    The list has no modified-since filter, so each run lists them all and loads only those not loaded before
    (id and ``archivedAt`` remembered in the transformer's state).
    """
    pages = rest_api_resources(
        {
            "client": {
                "base_url": base_url,
                "auth": {"type": "bearer", "token": token},
                "session": session,
                "paginator": {"type": "cursor", "cursor_path": "paging.next.after", "cursor_param": "after"},
            },
            "resource_defaults": {"endpoint": {"data_selector": "results"}},
            "resources": [
                {
                    "name": f"{spec.name}_archived_pages",
                    "endpoint": {
                        "path": LIST_PATH.format(object_type=spec.name),
                        "params": {
                            "archived": "true",
                            "limit": LIST_PAGE_SIZE,
                            "properties": ",".join(spec.properties),
                        },
                    },
                }
                for spec in objects.values()
            ],
        }
    )
    by_name = {r.name: r for r in pages}
    return [by_name[f"{spec.name}_archived_pages"] | _archived_transformer(spec) for spec in objects.values()]


def _archived_transformer(spec: CrmObject):
    table = TABLES[spec.name]

    @dlt.transformer(name=f"{spec.name}_archived", **resource_hints(table))
    def archived(page: list[dict]) -> Iterator[Any]:
        if not page:
            return
        known: dict[str, Any] = _stored_state(f"{spec.name}_archived").get("archived", {})
        fresh = [o for o in page if known.get(str(o.get("id"))) != o.get("archivedAt", True)]
        if fresh:
            track_fields(_field_view(fresh))
            yield from emit(SOURCE_NAME, table, fresh)
            state = dlt.current.resource_state().setdefault("archived", {})
            state.update({str(o.get("id")): o.get("archivedAt", True) for o in fresh})

    return archived
