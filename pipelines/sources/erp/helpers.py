"""What the declarative ``rest_api`` form cannot say for NetSuite: SuiteQL keyset windows, the change
detection of each table, the id reconciliation that finds deletions, and lines replaced per transaction.

Shape of the source: a *change reader* per table (an unselected dlt resource) yields :class:`Changes`
batches (rows that changed, ids that vanished); *writers* (dlt transformers, one per raw table) turn a
batch into raw rows through :func:`~pipelines.sources.raw_tables.emit`, and tombstones into hard deletes.
The transaction reader feeds three writers: headers, lines and payment links, so the lines of exactly the
transactions that changed are read again (one IN-list query per page of 1,000 transactions).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dlt
import orjson
from dlt.common import logger
from dlt.sources.helpers.requests import Session
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator, OffsetPaginator

from pipelines.sources.erp import settings
from pipelines.sources.erp.id_set import IdSet
from pipelines.sources.erp.settings import SuiteQLTable
from pipelines.sources.load_seq import LOAD_SEQ
from pipelines.sources.raw_tables import Column, Kind, RawTable, emit, resource_hints, track_fields

_LOCAL_TS = "%Y-%m-%d %H:%M:%S"  # what TO_CHAR(..., settings.TIMESTAMP_FORMAT) gives
_LOCAL_TS_SHAPE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", re.ASCII)
_UTC_KEYS = {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu", "GMT", "Etc/GMT"}


# -- SuiteQL over HTTP ----------------------------------------------------------------------------------------
class KeysetPaginator(BasePaginator):
    """Pages a SuiteQL query by a keyset instead of offsets (SuiteQL refuses offsets from 100,000 on).

    Every request asks for ``offset=0``; the query of the next page is rebuilt from the key of the last row
    received (``query_after(None)`` is the first page), so page N costs what page 1 costs.
    """

    def __init__(self, query_after: Callable[[tuple | None], str], key_of: Callable[[dict], tuple], limit: int):
        super().__init__()
        self.query_after = query_after
        self.key_of = key_of
        self.limit = limit
        self.last_key: tuple | None = None

    def init_request(self, request: Any) -> None:
        request.params = {**(request.params or {}), "limit": self.limit, "offset": 0}
        request.json = {"q": self.query_after(None)}

    def update_state(self, response: Any, data: list[Any] | None = None) -> None:
        if not data or not response.json().get("hasMore"):
            self._has_next_page = False
            return
        self.last_key = self.key_of(data[-1])

    def update_request(self, request: Any) -> None:
        if self._has_next_page:
            request.json = {"q": self.query_after(self.last_key)}


class _RESTClient(RESTClient):
    def extract_response(self, response: Any, data_selector: Any) -> list[Any]:
        # orjson: the same values as ``response.json()`` in about a third of the time (a page is 1,000 rows)
        body = orjson.loads(response.content)
        response.json = lambda **_: body  # the paginator reads ``hasMore`` from the same body: parse it once
        return super().extract_response(response, data_selector)


class SuiteQL:
    """SuiteQL queries (``Prefer: transient``) and record-API reads through the run's counting session."""

    def __init__(self, base_url: str, token: str, session: Session, timezone: str, page_size: int):
        self.window_rows = page_size * settings.WINDOW_PAGES
        self.base_url = base_url.rstrip("/")
        self.rest = _RESTClient(
            base_url=self.base_url,
            headers={"Prefer": "transient", "Accept": "application/json"},
            auth=BearerTokenAuth(token),
            session=session,
            data_selector="items",
        )
        self.zone = ZoneInfo(timezone)
        self.zone_is_utc = self.zone.utcoffset(datetime(2000, 1, 1)) == timedelta(0) and self.zone.key in _UTC_KEYS
        self.page_size = page_size
        # every request holds a slot: however many readers run at once, NetSuite never sees more than this
        self.slots = threading.BoundedSemaphore(settings.MAX_IN_FLIGHT)

    def _paced(self, pages: Iterator[Any]) -> Iterator[list[dict]]:
        """Each page's request holds one of the ``MAX_IN_FLIGHT`` slots (NetSuite's concurrency limit)."""
        while True:
            with self.slots:
                page = next(pages, None)
            if page is None:
                return
            yield list(page)

    def keyset_pages(self, query_after: Callable[[tuple | None], str], key_of: Callable[[dict], tuple]):
        paginator = KeysetPaginator(query_after, key_of, self.page_size)
        yield from self._paced(self.rest.paginate(settings.SUITEQL_PATH, method="POST", json={}, paginator=paginator))

    def offset_pages(self, query: str) -> Iterator[list[dict]]:
        """For bounded results only (children of one page of transactions): far below the 100,000 cap."""
        paginator = OffsetPaginator(limit=self.page_size, total_path=None, has_more_path="hasMore")
        yield from self._paced(
            self.rest.paginate(settings.SUITEQL_PATH, method="POST", json={"q": query}, paginator=paginator)
        )

    def one(self, query: str) -> dict:
        with self.slots:
            response = self.rest.post(settings.SUITEQL_PATH, json={"q": query}, params={"limit": 1, "offset": 0})
        response.raise_for_status()
        items = response.json().get("items") or []
        return items[0] if items else {}

    def sublist(self, record_type: str, record_id: str, sublist: str) -> list[dict] | None:
        """A record's sublist lines; None when the account does not serve that sublist."""
        with self.slots:
            response = self.rest.get(f"{settings.RECORD_PATH}/{record_type}/{record_id}/{sublist}")
        if response.status_code in (400, 404):
            return None
        response.raise_for_status()
        return response.json().get("items") or []

    def utc_iso(self, local: Any) -> Any:
        """TO_CHAR text in the user's zone → ISO-8601 UTC; anything else is left for the row check to refuse."""
        if not isinstance(local, str):
            return local
        try:
            if _LOCAL_TS_SHAPE.fullmatch(local):  # TO_CHAR's shape: C-speed parse, same result as strptime
                moment = datetime.fromisoformat(local)
            else:
                moment = datetime.strptime(local, _LOCAL_TS)
                local = moment.strftime(_LOCAL_TS)
        except ValueError:
            return local
        if self.zone_is_utc:  # the common case (and the recommended setup): no conversion to make
            return f"{local[:10]}T{local[11:]}Z"
        return moment.replace(tzinfo=self.zone).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_base_url(base_url: str | None, account_id: str | None) -> str:
    """The configured base URL; without one, the real host of ``account_id`` (``123_SB1`` → ``123-sb1``)."""
    if base_url:
        return base_url
    if account_id:
        return settings.REAL_HOST.format(account=account_id.lower().replace("_", "-"))
    return settings.DEFAULT_BASE_URL


# -- queries ----------------------------------------------------------------------------------------------------
def select_list(spec: SuiteQLTable) -> str:
    """``a.*`` plus every date/timestamp column through TO_CHAR as ``q2c_<column>``."""
    parts = [f"{spec.alias}.*"]
    for name, kind in spec.columns:
        if kind is Kind.TIMESTAMP:
            parts.append(f"TO_CHAR({spec.alias}.{name}, '{settings.TIMESTAMP_FORMAT}') AS q2c_{name}")
        elif kind is Kind.DATE:
            parts.append(f"TO_CHAR({spec.alias}.{name}, '{settings.DATE_FORMAT}') AS q2c_{name}")
    return ", ".join(parts)


def _ts(text: str) -> str:
    datetime.strptime(text, _LOCAL_TS)  # a cursor goes into query text: only ever a well-formed timestamp
    return f"TO_TIMESTAMP('{text}', '{settings.TIMESTAMP_FORMAT}')"


def _int(value: Any) -> int:
    """An id or key from SuiteQL text; refuses anything but digits (it goes into query text)."""
    text = str(value)
    if not text.isdigit():
        raise ValueError(f"not a NetSuite internal id: {value!r}")
    return int(text)


def id_list(ids: Iterable[str]) -> str:
    return ", ".join(str(_int(i)) for i in ids)


def query_by_id(spec: SuiteQLTable, last: tuple | None, where: str | None = None) -> str:
    a = spec.alias
    conditions = [where] if where else []
    if last is not None:
        conditions.append(f"{a}.id > {_int(last[0])}")
    clause = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {select_list(spec)} FROM {spec.sql_table} {a}{clause} ORDER BY {a}.id"


def query_modified(spec: SuiteQLTable, since: str | None, until: str, last: tuple | None) -> str:
    """The rows modified in [since, until] after the keyset ``last`` = (lastmodified text, id), in order."""
    a = spec.alias
    conditions = [f"{a}.lastmodifieddate <= {_ts(until)}"]
    if since is not None:
        conditions.append(f"{a}.lastmodifieddate >= {_ts(since)}")
    if last is not None:
        when, ident = last
        conditions.append(
            f"({a}.lastmodifieddate > {_ts(when)} OR ({a}.lastmodifieddate = {_ts(when)} AND {a}.id > {_int(ident)}))"
        )
    return (
        f"SELECT {select_list(spec)} FROM {spec.sql_table} {a} WHERE {' AND '.join(conditions)}"
        f" ORDER BY {a}.lastmodifieddate, {a}.id"
    )


def query_children(spec: SuiteQLTable, parent_column: str, parent_ids: Sequence[str], last: tuple | None) -> str:
    a = spec.alias
    conditions = [f"{a}.{parent_column} IN ({id_list(parent_ids)})"]
    if last is not None and spec.order_key == ("uniquekey",):
        conditions.append(f"{a}.uniquekey > {_int(last[0])}")
    order = ", ".join(f"{a}.{c}" for c in spec.order_key)
    return f"SELECT {select_list(spec)} FROM {spec.sql_table} {a} WHERE {' AND '.join(conditions)} ORDER BY {order}"


# -- raw tables -------------------------------------------------------------------------------------------------
def _integer_or_text(name: str) -> Callable[[dict], Any]:
    def read(obj: dict) -> Any:
        value = obj.get(name)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        return value  # not an integer: the row check sets it aside with the reason

    return read


def _joined(parts: tuple[str, ...]) -> Callable[[dict], Any]:
    return lambda obj: ":".join("" if obj.get(p) is None else str(obj[p]) for p in parts)


def raw_table(spec: SuiteQLTable) -> RawTable:
    columns = []
    for name, kind in spec.columns:
        if name in spec.computed:
            columns.append(Column(name, kind, getter=_joined(spec.computed[name])))
        elif kind in (Kind.TIMESTAMP, Kind.DATE):
            columns.append(Column(name, kind, path=f"q2c_{name}"))
        elif kind is Kind.INTEGER:
            columns.append(Column(name, kind, getter=_integer_or_text(name)))
        else:
            columns.append(Column(name, kind))
    return DeletableRawTable(
        spec.name,
        columns,
        primary_key=spec.primary_key,
        write_disposition=spec.write_disposition,
        merge_key=spec.merge_key,
        why=spec.why,
        extra_columns={settings.DELETED_FLAG: Kind.BOOLEAN, LOAD_SEQ: Kind.INTEGER},
    )


@dataclass(frozen=True)
class DeletableRawTable(RawTable):
    """A raw table whose ``_q2c_deleted`` column is dlt's ``hard_delete`` hint: a row flagged with it is not
    inserted; it deletes the rows with its primary key (and, under a merge key, every row of that key)."""

    def dlt_columns(self) -> dict[str, dict]:
        hints = super().dlt_columns()
        hints[settings.DELETED_FLAG]["hard_delete"] = True
        return hints


def digest(row: dict) -> str:
    text = json.dumps(row, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def clean(row: dict) -> dict:
    """A SuiteQL item without its (empty) ``links``: the payload is the data, not the envelope."""
    out = dict(row)  # a copy in C, then one key removed: what a comprehension over every key gives, faster
    out.pop("links", None)
    return out


_TIMESTAMP_KEYS: dict[str, tuple[str, ...]] = {}


def _timestamp_keys(spec: SuiteQLTable) -> tuple[str, ...]:
    """The ``q2c_<column>`` keys holding a TO_CHAR timestamp of ``spec`` (worked out once per table)."""
    keys = _TIMESTAMP_KEYS.get(spec.name)
    if keys is None:
        keys = _TIMESTAMP_KEYS[spec.name] = tuple(f"q2c_{n}" for n, kind in spec.columns if kind is Kind.TIMESTAMP)
    return keys


def with_utc_timestamps(sq: SuiteQL, spec: SuiteQLTable, row: dict) -> dict:
    """A cleaned row with its TO_CHAR timestamps in UTC (changed in place, and returned)."""
    for key in _timestamp_keys(spec):
        if key in row:
            row[key] = sq.utc_iso(row[key])
    return row


def normalize(sq: SuiteQL, spec: SuiteQLTable, row: dict) -> dict:
    return with_utc_timestamps(sq, spec, clean(row))


# -- change batches -------------------------------------------------------------------------------------------
@dataclass
class Changes:
    """What a change reader found: rows new or changed since the last run, and ids that vanished."""

    rows: list[dict] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    # child table → its pages for each ``IN_LIST_MAX`` chunk of these rows, already being read by the reader
    # (see ``read_incremental``)
    children: dict[str, list[Future]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def changed_ids(self) -> list[str]:
        return [str(r["id"]) for r in self.rows if r.get("id") is not None]


def read_reference(sq: SuiteQL, spec: SuiteQLTable) -> Iterator[Changes]:
    """A whole small table, keyset-paged by id; only rows whose content changed, and ids gone since."""
    state = dlt.current.resource_state()
    before: dict[str, str] = state.get("digests", {})
    seen: dict[str, str] = {}
    changes = Changes()
    for page in sq.keyset_pages(lambda last: query_by_id(spec, last), lambda row: (row["id"],)):
        for row in page:
            row = clean(row)
            key = str(row.get("id"))
            seen[key] = digest(row)
            if before.get(key) != seen[key]:
                changes.rows.append(normalize(sq, spec, row))
    changes.deleted = sorted(set(before) - set(seen), key=_sort_id)
    state["digests"] = seen
    if changes.rows or changes.deleted:
        yield changes


def _sort_id(value: str) -> tuple[int, str]:
    return (int(value), "") if value.isdigit() else (0, value)


def read_incremental(
    sq: SuiteQL, spec: SuiteQLTable, children: Sequence[tuple[SuiteQLTable, str]] = ()
) -> Iterator[Changes]:
    """Rows modified since the cursor, in (lastmodifieddate, id) order, then the id reconciliation.

    1. Probe (one request): COUNT, SUM and MAX of id, MAX(lastmodifieddate) = the upper end of this run's
       range (a record modified while the run reads is read once, by the next run), and how many rows the
       range holds.
    2. Read [cursor, upper end]: in one keyset-paged query when it holds few rows, else in windows of whole
       days of at most ``window_rows`` rows each (planned from a per-day count), because every page of a
       keyset query costs what sorting its whole range costs. Rows at the cursor's second were partly seen
       last run: one whose content digest is the one remembered is skipped, so an unchanged run writes
       nothing, and one changed within that same second is still read.
    3. The ids read so far (kept as an id set) must have SuiteQL's count and sum. When they do not, read all
       ids: those gone were deleted in NetSuite (hard-deleted here), those never seen (a record committed late
       with an older lastmodifieddate) are read now.

    ``children`` (lines and links of transactions): each batch's child rows start being read as the batch is
    handed on (``Changes.children``), so those requests overlap the writing of the batch and its successors.
    """
    state = dlt.current.resource_state()
    a = spec.alias
    since: str | None = state.get("cursor")
    in_range = f"CASE WHEN {a}.lastmodifieddate >= {_ts(since)} THEN 1 ELSE 0 END" if since else "1"
    probe = sq.one(
        f"SELECT COUNT(*) AS n, SUM({a}.id) AS s, MAX({a}.id) AS m, SUM({in_range}) AS w, "
        f"TO_CHAR(MAX({a}.lastmodifieddate), '{settings.TIMESTAMP_FORMAT}') AS u FROM {spec.sql_table} {a}"
    )
    known = IdSet.from_state(state.get("id_ranges"))
    until = probe.get("u")
    if until and (since is None or until >= since):
        with ThreadPoolExecutor(settings.CHILD_WORKERS, thread_name_prefix=f"erp-{spec.name}-children") as pool:
            yield from _read_range(sq, spec, since, until, int(probe.get("w", "0")), children, pool, state, known)
    expected = (int(probe.get("n", "0")), int(probe.get("s", "0")))
    if (known.count, known.total) != expected:
        yield from _reconcile_ids(sq, spec, known, int(probe.get("m", "0")))
    state["id_ranges"] = known.to_state()


def _read_range(
    sq: SuiteQL,
    spec: SuiteQLTable,
    since: str | None,
    until: str,
    rows_in_range: int,
    children: Sequence[tuple[SuiteQLTable, str]],
    pool: ThreadPoolExecutor,
    state: dict,
    known: IdSet,
) -> Iterator[Changes]:
    seen_at_cursor: dict[str, str] = state.get("boundary", {})
    cursor, boundary = since, dict(seen_at_cursor)
    at_cursor: dict[str, dict] = {}  # rows at the newest second so far, digested once per page (not per row)
    changes = Changes()
    for page in _window_pages(sq, spec, _windows(sq, spec, since, until, rows_in_range)):
        for row in page:
            row = clean(row)
            key, when = str(row.get("id")), row.get("q2c_lastmodifieddate")
            if not (when == since and key in seen_at_cursor and seen_at_cursor[key] == digest(row)):
                changes.rows.append(with_utc_timestamps(sq, spec, dict(row)))
            if when != cursor:
                cursor, boundary, at_cursor = when, {}, {}
            at_cursor[key] = row
        boundary.update((key, digest(row)) for key, row in at_cursor.items())
        at_cursor.clear()
        known.add(r["id"] for r in page if "id" in r)
        state.update(cursor=cursor, boundary=boundary)  # the ids go to state when the reader has read them all
        if len(changes.rows) >= settings.BATCH_ROWS:
            yield _with_children(changes, children, sq, pool)
            changes = Changes()
    if changes.rows:
        yield _with_children(changes, children, sq, pool)


def _with_children(
    changes: Changes, children: Sequence[tuple[SuiteQLTable, str]], sq: SuiteQL, pool: ThreadPoolExecutor
) -> Changes:
    """``changes``, its child rows already being read (one IN-list query per ``IN_LIST_MAX`` parents), so
    those requests overlap the writing of this batch and its successors."""
    parents = changes.changed_ids
    for child, parent_column in children:
        changes.children[child.name] = [
            pool.submit(_all_pages, sq, child, parent_column, parents[start : start + settings.IN_LIST_MAX])
            for start in range(0, len(parents), settings.IN_LIST_MAX)
        ]
    return changes


def _window_pages(sq: SuiteQL, spec: SuiteQLTable, windows: list[tuple]) -> Iterator[list[dict]]:
    """The pages of every window, in window order; up to ``WINDOW_WORKERS`` windows are read ahead at once.

    Windows are disjoint ranges of whole days, so reading them side by side changes nothing but the time;
    the caller still sees the pages in (lastmodifieddate, id) order, so the cursor advances as before.
    """

    def read(lower: str | None, upper: str) -> list[list[dict]]:
        return list(
            sq.keyset_pages(
                lambda last: query_modified(spec, lower, upper, last),
                lambda row: (row["q2c_lastmodifieddate"], row["id"]),
            )
        )

    if len(windows) == 1:
        yield from read(*windows[0])
        return
    pending: deque[Future] = deque()
    ahead = iter(windows)
    with ThreadPoolExecutor(settings.WINDOW_WORKERS, thread_name_prefix=f"erp-{spec.name}") as pool:
        try:
            for window in ahead:
                pending.append(pool.submit(read, *window))
                if len(pending) >= settings.WINDOW_WORKERS:
                    break
            while pending:
                pages = pending.popleft().result()
                for window in ahead:  # keep the pool busy while the caller works on this window
                    pending.append(pool.submit(read, *window))
                    break
                yield from pages
        finally:
            for future in pending:
                future.cancel()


def _windows(sq: SuiteQL, spec: SuiteQLTable, since: str | None, until: str, rows: int) -> list[tuple]:
    """[since, until] as consecutive (lower, upper) ranges of whole days holding at most ``window_rows`` rows
    each (a busier day is a window of its own)."""
    if rows <= sq.window_rows:
        return [(since, until)]
    a, day = spec.alias, f"TO_CHAR({spec.alias}.lastmodifieddate, '{settings.DATE_FORMAT}')"

    def per_day(last: tuple | None) -> str:  # keyset on the day too: years of days exceed no cap either
        start = since if last is None else f"{date.fromisoformat(last[0]) + timedelta(days=1)} 00:00:00"
        lower = f" AND {a}.lastmodifieddate >= {_ts(start)}" if start else ""
        return (
            f"SELECT {day} AS day, COUNT(*) AS n FROM {spec.sql_table} {a}"
            f" WHERE {a}.lastmodifieddate <= {_ts(until)}{lower} GROUP BY {day} ORDER BY {day}"
        )

    days = [(r["day"], int(r["n"])) for page in sq.keyset_pages(per_day, lambda r: (r["day"],)) for r in page]
    groups: list[list[str]] = []
    count = 0
    for name, n in days:
        if not groups or count + n > sq.window_rows:
            groups.append([])
            count = 0
        groups[-1].append(name)
        count += n
    windows = [(f"{g[0]} 00:00:00", f"{g[-1]} 23:59:59") for g in groups]
    if not windows:
        return [(since, until)]
    windows[0] = (since, windows[0][1])
    windows[-1] = (windows[-1][0], until)
    return windows


def _reconcile_ids(sq: SuiteQL, spec: SuiteQLTable, known: IdSet, max_id: int) -> Iterator[Changes]:
    """All ids, keyset-paged: known ones absent were deleted; ones up to the probe's MAX(id) never read are
    read now (higher ones were created after the probe, and the next run's window has them)."""
    a = spec.alias
    present: set[int] = set()
    for page in sq.keyset_pages(
        lambda last: (
            f"SELECT {a}.id FROM {spec.sql_table} {a}"
            + (f" WHERE {a}.id > {_int(last[0])}" if last else "")
            + f" ORDER BY {a}.id"
        ),
        lambda row: (row["id"],),
    ):
        present.update(_int(r["id"]) for r in page)
    deleted = [str(i) for i in known.ids() if i not in present]
    missing = sorted(i for i in present.difference(known.ids()) if i <= max_id)
    logger.info(f"erp {spec.name}: id reconciliation found {len(deleted)} deleted, {len(missing)} unread")
    for start in range(0, len(missing), settings.IN_LIST_MAX):
        chunk = [str(i) for i in missing[start : start + settings.IN_LIST_MAX]]
        rows = [
            normalize(sq, spec, row)
            for page in sq.keyset_pages(
                lambda last, chunk=chunk: query_by_id(spec, last, f"{a}.id IN ({id_list(chunk)})"),
                lambda row: (row["id"],),
            )
            for row in page
        ]
        known.add(chunk)
        if rows:
            yield Changes(rows=rows)
    if deleted:
        known.remove(deleted)
        yield Changes(deleted=deleted)


# -- writers (dlt transformers) -------------------------------------------------------------------------------
def _tombstones(table: RawTable, key_column: str, ids: Iterable[str]) -> list[dict]:
    """Rows that only carry a key and the hard-delete flag: dlt deletes the rows matching that key."""
    others = [k for k in table.primary_key if k != key_column]
    return [{**{k: f"deleted:{i}" for k in others}, key_column: i} for i in ids]


def _emit_tombstones(table: RawTable, key_column: str, ids: Sequence[str], seq: int):
    if ids:
        tombstones = _tombstones(table, key_column, ids)
        yield from emit(settings.SOURCE, table, tombstones, {settings.DELETED_FLAG: True, LOAD_SEQ: seq})


def table_writer(spec: SuiteQLTable, seq: int):
    """The transformer writing a change reader's rows to its own raw table, and its deletions; every row carries the
    run's ``_q2c_load_seq`` (``seq``)."""
    table = raw_table(spec)

    def write(changes: Changes):
        if changes.rows:
            track_fields(changes.rows)
            yield from emit(settings.SOURCE, table, changes.rows, {LOAD_SEQ: seq})
        yield from _emit_tombstones(table, "id", changes.deleted, seq)

    return dlt.transformer(write, name=spec.name, **resource_hints(table))


def child_pages(sq: SuiteQL, spec: SuiteQLTable, parent_column: str, parents: Sequence[str]) -> Iterator[list[dict]]:
    """All rows of a child table (lines, links) of up to ``IN_LIST_MAX`` parents."""
    if spec.order_key == ("uniquekey",):
        return sq.keyset_pages(
            lambda last: query_children(spec, parent_column, parents, last), lambda row: (row["uniquekey"],)
        )
    return sq.offset_pages(query_children(spec, parent_column, parents, None))


def _all_pages(sq: SuiteQL, spec: SuiteQLTable, parent_column: str, parents: Sequence[str]) -> list[list[dict]]:
    return list(child_pages(sq, spec, parent_column, parents))


def children_writer(sq: SuiteQL, spec: SuiteQLTable, parent_column: str, seq: int):
    """The transformer replacing, per changed transaction, all its rows in a child table (lines, links).

    The rows read for a parent replace its old rows (delete-insert on the merge key). A parent that had rows
    and now has none (a payment unapplied, a transaction deleted) gets a tombstone on the merge key instead;
    the parents that own rows are kept as an id set in state, so parents that never had any cost nothing.
    """
    table = raw_table(spec)

    def write(changes: Changes):
        # dlt interleaves the calls for consecutive batches: the owners in state are read and written (and the
        # tombstones decided) with no yield in between
        state = dlt.current.resource_state()
        parents = changes.changed_ids
        emptied: list[str] = []
        owners = IdSet.from_state(state.get("owner_ranges"))
        prefetched = changes.children.get(spec.name) or []
        rows: list[dict] = []  # every chunk's rows, written as one table (dlt's cost is per table written)
        for number, start in enumerate(range(0, len(parents), settings.IN_LIST_MAX)):
            chunk = parents[start : start + settings.IN_LIST_MAX]
            if number < len(prefetched):
                pages: Iterable[list[dict]] = prefetched[number].result()  # the reader started it: same query
            else:
                pages = child_pages(sq, spec, parent_column, chunk)
            with_rows: set[str] = set()
            for page in pages:
                page_rows = [normalize(sq, spec, row) for row in page]
                with_rows.update(str(r.get(parent_column)) for r in page_rows)
                rows += page_rows
            emptied += [p for p in chunk if p not in with_rows]
            owners.add(with_rows)
        # a parent left with no rows still has its old ones in raw: a tombstone on the merge key removes them
        gone = [p for p in emptied + changes.deleted if p.isdigit() and owners.contains(int(p))]
        owners.remove(gone)
        state["owner_ranges"] = owners.to_state()
        if rows:
            track_fields(rows)
            yield from emit(settings.SOURCE, table, rows, {LOAD_SEQ: seq})
        yield from _emit_tombstones(table, parent_column, gone, seq)

    return dlt.transformer(write, name=spec.name, **resource_hints(table))


def period_close_writer(sq: SuiteQL, seq: int):
    """Per-subsidiary close of each changed accounting period, from the record API's sublist."""
    table = raw_table(settings.PERIOD_CLOSE)
    spec_sublist = settings.PERIOD_CLOSE_SUBLIST

    def write(changes: Changes):
        emptied: list[str] = []
        rows: list[dict] = []
        for period in changes.changed_ids:
            lines = [_close_row(period, line) for line in sq.sublist("accountingPeriod", period, spec_sublist) or ()]
            rows += lines
            if not lines:
                emptied.append(period)
        if rows:
            track_fields(rows)
            yield from emit(settings.SOURCE, table, rows, {LOAD_SEQ: seq})
        yield from _emit_tombstones(table, "period", emptied + changes.deleted, seq)

    return dlt.transformer(write, name=table.name, **resource_hints(table))


def _close_row(period: str, line: dict) -> dict:
    subsidiary = line.get("subsidiary")
    row = {"period": period, **{k: v for k, v in line.items() if k not in ("links", "subsidiary")}}
    if isinstance(subsidiary, dict):
        row["subsidiary"] = subsidiary.get("id")
        row["subsidiary_name"] = subsidiary.get("refName")
    else:
        row["subsidiary"] = subsidiary
    return row


def change_reader(
    sq: SuiteQL, spec: SuiteQLTable, *, incremental: bool, children: Sequence[tuple[SuiteQLTable, str]] = ()
):
    """``children``: the child tables whose rows the reader starts reading for each batch (incremental only)."""
    changes = read_incremental(sq, spec, children) if incremental else read_reference(sq, spec)
    return dlt.resource(changes, name=f"{spec.name}_changes", selected=False)
