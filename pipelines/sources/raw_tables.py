"""How API objects become raw rows: typed key columns plus the whole object as JSON.

Every raw table holds a few typed columns that keys, joins and incremental cursors need (ids, timestamps,
money in the source's exact form) and ``payload``: the object exactly as the API returned it. Staging
models read the rest from ``payload``, so a field the vendor adds lands without a schema change (and is
reported), and the load path stays columnar (Arrow → Parquet), which is what makes ingest fast.

A row whose typed column does not have the declared type (an id that is not a string, money that is not
an integer in minor units, a timestamp that does not parse) is not loaded into its table: it goes to the
``_q2c_quarantine`` table with the reason and its payload, and the run goes on.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Context, Decimal, InvalidOperation
from enum import StrEnum
from types import NoneType
from typing import Any

import dlt
import orjson
import pyarrow as pa
import pyarrow.compute as pc

QUARANTINE_TABLE = "_q2c_quarantine"


class Kind(StrEnum):
    ID = "id"  # a string identifier (never a number: ids are not quantities)
    TEXT = "text"
    MINOR_UNITS = "minor_units"  # integer money in the currency's minor unit (Stripe)
    DECIMAL = "decimal"  # exact decimal money (NetSuite), given as a string or an integer
    INTEGER = "integer"
    BOOLEAN = "boolean"
    UNIX_SECONDS = "unix_seconds"  # Stripe's timestamps
    TIMESTAMP = "timestamp"  # ISO-8601 text (HubSpot, NetSuite), stored as UTC
    DATE = "date"


ARROW_TYPES: dict[Kind, pa.DataType] = {
    Kind.ID: pa.string(),
    Kind.TEXT: pa.string(),
    Kind.MINOR_UNITS: pa.int64(),
    Kind.DECIMAL: pa.decimal128(38, 9),
    Kind.INTEGER: pa.int64(),
    Kind.BOOLEAN: pa.bool_(),
    Kind.UNIX_SECONDS: pa.timestamp("us", tz="UTC"),
    Kind.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    Kind.DATE: pa.date32(),
}


class BadValueError(ValueError):
    """A value that does not have its column's declared type; the message is the reason kept."""


def _convert(kind: Kind, value: Any) -> Any:
    if value is None:
        return None
    if kind in (Kind.ID, Kind.TEXT):
        if not isinstance(value, str):
            raise BadValueError(f"expected text, got {type(value).__name__} {value!r}")
        return value
    if kind in (Kind.MINOR_UNITS, Kind.INTEGER):
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadValueError(f"expected an integer, got {type(value).__name__} {value!r}")
        return value
    if kind is Kind.DECIMAL:
        if type(value) is str and _PLAIN_DECIMAL.fullmatch(value):
            return Decimal(value)  # fits DECIMAL(38, 9) by its shape: no exactness check to make
        if isinstance(value, bool | float):
            # a float here means the exact value is already lost upstream
            raise BadValueError(f"expected an exact decimal (string or integer), got float {value!r}")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise BadValueError(f"expected a decimal, got {value!r}") from None
        return _fits_decimal_column(number, value)
    if kind is Kind.BOOLEAN:
        if isinstance(value, bool):
            return value
        if value in ("true", "false", "T", "F"):
            return value in ("true", "T")
        raise BadValueError(f"expected a boolean, got {value!r}")
    if kind is Kind.UNIX_SECONDS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadValueError(f"expected unix seconds, got {type(value).__name__} {value!r}")
        return datetime.fromtimestamp(value, tz=UTC)
    if kind is Kind.TIMESTAMP:
        if not isinstance(value, str) or not value:
            raise BadValueError(f"expected an ISO-8601 timestamp, got {value!r}")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise BadValueError(f"expected an ISO-8601 timestamp, got {value!r}") from None
        if parsed.tzinfo is None:
            raise BadValueError(f"timestamp without a zone: {value!r}")
        return parsed.astimezone(UTC)
    if kind is Kind.DATE:
        if type(value) is str and _ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)  # what strptime gives for this shape, ~10x faster
            except ValueError:
                pass  # e.g. 2024-02-30: strptime's own error below
        try:
            return datetime.strptime(value, "%Y-%m-%d").date()
        except (TypeError, ValueError):
            raise BadValueError(f"expected a YYYY-MM-DD date, got {value!r}") from None
    raise AssertionError(kind)


def _fits_decimal_column(number: Decimal, value: Any) -> Decimal:
    """The value itself when DECIMAL(38, 9) holds it exactly; NaN, infinities and lost digits are bad values
    (Arrow would otherwise fail the whole page instead of this one row)."""
    if not number.is_finite():
        raise BadValueError(f"expected a finite decimal, got {value!r}")
    if number != number.quantize(_DECIMAL_QUANTUM, context=_WIDE) or number.adjusted() >= 38 - 9:
        raise BadValueError(f"{value!r} does not fit DECIMAL(38, 9) exactly")
    return number


_DECIMAL_QUANTUM = Decimal("1e-9")
# text DECIMAL(38, 9) holds exactly as written (at most 29 integer and 9 fraction digits): the usual value
_PLAIN_DECIMAL = re.compile(r"-?[0-9]{1,29}(?:\.[0-9]{1,9})?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WIDE = Context(prec=200)


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    path: str | None = None  # dotted path in the object; defaults to the column name
    getter: Callable[[dict], Any] | None = None  # for values a path cannot reach

    def read(self, obj: dict) -> Any:
        if self.getter is not None:
            return self.getter(obj)
        value: Any = obj
        for part in (self.path or self.name).split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        if isinstance(value, dict) and "id" in value:
            value = value["id"]  # an expanded reference is keyed by its id
        return value


@dataclass(frozen=True)
class RawTable:
    """A raw table: its name, primary key, typed columns and how it is written."""

    name: str
    columns: Sequence[Column]
    primary_key: Sequence[str] = ("id",)
    write_disposition: str = "merge"
    merge_key: Sequence[str] | None = None
    why: str = ""  # the reason for the key and disposition, for the source README and the reader
    extra_columns: dict[str, Kind] = field(default_factory=dict)  # filled in by the source, not read from objects
    # further dlt column hints by column name, e.g. {"deleted": {"hard_delete": True}}
    column_hints: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def arrow_schema(self) -> pa.Schema:
        # nullability matches the dlt hints, so dlt has nothing to reconcile
        fields = [pa.field(c.name, ARROW_TYPES[c.kind], c.name not in self.primary_key) for c in self.columns]
        fields += [
            pa.field(name, ARROW_TYPES[kind], name not in self.primary_key) for name, kind in self.extra_columns.items()
        ]
        fields.append(pa.field("payload", pa.string(), False))
        return pa.schema(fields)

    def dlt_columns(self) -> dict[str, dict]:
        """Column hints: exact types, and ``payload`` as JSON."""
        hints: dict[str, dict] = {}
        for name, kind in [(c.name, c.kind) for c in self.columns] + list(self.extra_columns.items()):
            hint: dict[str, Any] = {"data_type": _DLT_TYPES[kind], "nullable": name not in self.primary_key}
            if kind is Kind.DECIMAL:
                hint.update(precision=38, scale=9)
            hint.update(self.column_hints.get(name, {}))
            hints[name] = hint
        hints["payload"] = {"data_type": "json", "nullable": False}
        return hints


_DLT_TYPES = {
    Kind.ID: "text",
    Kind.TEXT: "text",
    Kind.MINOR_UNITS: "bigint",
    Kind.DECIMAL: "decimal",
    Kind.INTEGER: "bigint",
    Kind.BOOLEAN: "bool",
    Kind.UNIX_SECONDS: "timestamp",
    Kind.TIMESTAMP: "timestamp",
    Kind.DATE: "date",
}


def quarantine_row(source: str, table: str, obj: Any, reason: str) -> dict:
    """A set-aside row; its id hashes what was set aside, so a rerun does not set it aside twice."""
    record_id = obj.get("id") if isinstance(obj, dict) else None
    payload = json.dumps(obj, sort_keys=True, default=str)
    digest = hashlib.blake2b(f"{source}|{table}|{reason}|{payload}".encode(), digest_size=16).hexdigest()
    return {
        "quarantine_id": digest,
        "source": source,
        "table_name": table,
        "record_id": None if record_id is None else str(record_id),
        "reason": reason,
        "payload": payload,
    }


def _json_text(obj: Any) -> str:
    """Compact JSON text of an object (orjson: ~8x faster than json, the largest cost of a page otherwise)."""
    try:
        return orjson.dumps(obj).decode()
    except TypeError:  # what orjson cannot write (an integer beyond 64 bits) json can
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _json_bytes(obj: Any) -> bytes:
    """:func:`_json_text` as UTF-8 bytes (what Arrow stores; orjson writes bytes, so no decode per object)."""
    try:
        return orjson.dumps(obj)
    except TypeError:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _payload_array(objects: list) -> pa.Array:
    """The objects' JSON texts as one Arrow string column, built from their bytes joined once: ``pa.array``
    of the decoded strings copied and re-validated every text (a large share of a page's cost)."""
    parts = [_json_bytes(o) for o in objects]
    ends = list(itertools.accumulate(map(len, parts)))
    data = pa.py_buffer(b"".join(parts))
    if not ends or ends[-1] < 2**31:  # the usual page: 32-bit offsets, so no cast (a copy of every text)
        offsets = array("i", [0])
        offsets.extend(ends)
        return pa.StringArray.from_buffers(len(parts), pa.py_buffer(offsets), data)
    offsets = array("q", [0])
    offsets.extend(ends)
    return pa.LargeStringArray.from_buffers(len(parts), pa.py_buffer(offsets), data).cast(pa.string())


Extra = dict[str, Any] | Callable[[dict], dict[str, Any]] | None


_UNIX_US_MIN, _UNIX_US_MAX = -62135596800, 253402300799  # what datetime.fromtimestamp accepts (years 1..9999)
_TYPE_CHECKED = {Kind.ID: str, Kind.TEXT: str}
_TEXT_OR_NONE = {str, NoneType}
_INT_OR_NONE = {int, NoneType}  # bool is its own type here: never taken for an integer


def _reader(col: Column) -> Callable[[dict], Any]:
    """``col.read`` with the dotted path split once (to_rows calls it for every row and column)."""
    if col.getter is not None:
        return col.getter
    parts = tuple((col.path or col.name).split("."))
    if len(parts) == 1:
        key = parts[0]

        def read_one(obj: dict) -> Any:
            value = obj.get(key)
            if isinstance(value, dict) and "id" in value:
                return value["id"]
            return value

        return read_one
    return col.read


@dataclass(frozen=True)
class _Plan:
    schema: pa.Schema
    readers: list[tuple[str, Kind, Callable[[dict], Any]]]
    unix_columns: list[str]
    top_keys: dict[str, str]  # column → its top-level key, for columns read straight from the object


_PLANS: dict[int, tuple[RawTable, _Plan]] = {}


def _plan(table: RawTable) -> _Plan:
    cached = _PLANS.get(id(table))
    if cached is not None and cached[0] is table:
        return cached[1]
    plan = _Plan(
        table.arrow_schema,
        [(c.name, c.kind, _reader(c)) for c in table.columns],
        [c.name for c in table.columns if c.kind is Kind.UNIX_SECONDS],
        {c.name: c.path or c.name for c in table.columns if c.getter is None and "." not in (c.path or c.name)},
    )
    _PLANS[id(table)] = (table, plan)
    return plan


def _read_value(kind: Kind, value: Any) -> Any:
    """``_convert``, except unix seconds stay integers (converted per column, see :func:`to_rows`)."""
    if value is None:
        return None
    text_type = _TYPE_CHECKED.get(kind)
    if text_type is not None:
        if type(value) is not text_type and not isinstance(value, text_type):
            raise BadValueError(f"expected text, got {type(value).__name__} {value!r}")
        return value
    if kind is Kind.UNIX_SECONDS:
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadValueError(f"expected unix seconds, got {type(value).__name__} {value!r}")
        if not _UNIX_US_MIN <= value <= _UNIX_US_MAX:
            datetime.fromtimestamp(value, tz=UTC)  # raises what it raised before (out of range)
        return value
    return _convert(kind, value)


def to_rows(
    source: str, table: RawTable, objects: Iterable[dict], extra: Extra = None
) -> tuple[pa.Table | None, list[dict]]:
    """One page of API objects → (an Arrow table of good rows, quarantine rows).

    ``extra`` fills the table's ``extra_columns``: one dict for every row, or a function of the object.
    Unix-second columns are collected as integers and converted to timestamps per column (a datetime per
    value was a large share of a page's cost).
    """
    plan = _plan(table)
    objects = objects if isinstance(objects, list) else list(objects)
    at_once = _columns_at_once(table, plan, objects, extra)
    if at_once is not None:
        return _arrow(plan, at_once), []
    columns: dict[str, list] = {f.name: [] for f in plan.schema}
    payloads = columns["payload"]
    bad: list[dict] = []
    primary_key = table.primary_key
    extra_names = list(table.extra_columns)
    key_index = {name: i for i, (name, _, _) in enumerate(plan.readers)}
    fixed_extra = None if callable(extra) else [(extra or {}).get(name) for name in extra_names]
    for obj in objects:
        if not isinstance(obj, dict):
            bad.append(quarantine_row(source, table.name, obj, "not a JSON object"))
            continue
        try:
            values = []
            for name, kind, read in plan.readers:
                try:
                    values.append(_read_value(kind, read(obj)))
                except BadValueError as exc:
                    raise BadValueError(f"{name}: {exc}") from None
            for key in primary_key:
                if key in key_index and values[key_index[key]] is None:
                    raise BadValueError(f"{key}: primary key is missing")
        except BadValueError as exc:
            bad.append(quarantine_row(source, table.name, obj, str(exc)))
            continue
        for (name, _, _), value in zip(plan.readers, values, strict=True):
            columns[name].append(value)
        if fixed_extra is None:
            row_extra = extra(obj) or {}  # type: ignore[operator]
            for name in extra_names:
                columns[name].append(row_extra.get(name))
        else:
            for name, value in zip(extra_names, fixed_extra, strict=True):
                columns[name].append(value)
        payloads.append(_json_text(obj))
    if not payloads:
        return None, bad
    return _arrow(plan, columns), bad


def _columns_at_once(table: RawTable, plan: _Plan, objects: list, extra: Extra) -> dict[str, Any] | None:
    """The page column by column when every value is of its declared type (the usual page: about 3x faster
    than row by row); None when any object or value is not, and the page goes row by row (the rows set
    aside, with their reasons)."""
    # the checks look at each column's set of value types (built in C) rather than at every value in Python
    if not objects or set(map(type, objects)) != {dict}:
        return None
    columns: dict[str, list] = {}
    for name, kind, read in plan.readers:
        key = plan.top_keys.get(name)
        if key is None:
            values = [read(o) for o in objects]
        else:  # what `read` does, without a call per value (a large share of a page's cost)
            values = [o.get(key) for o in objects]
            if dict in set(map(type, values)):
                values = [v["id"] if isinstance(v, dict) and "id" in v else v for v in values]
        types = set(map(type, values))
        if kind in _TYPE_CHECKED:
            if not types <= _TEXT_OR_NONE:
                return None
        elif kind in (Kind.MINOR_UNITS, Kind.INTEGER):
            if not types <= _INT_OR_NONE:
                return None
        elif kind is Kind.UNIX_SECONDS:
            if not types <= _INT_OR_NONE:
                return None
            seconds = [v for v in values if v is not None] if NoneType in types else values
            if seconds and not (min(seconds) >= _UNIX_US_MIN and max(seconds) <= _UNIX_US_MAX):
                return None
        else:
            vector = _text_column(kind, values) if types <= _TEXT_OR_NONE else None
            if vector is not None:
                if name in table.primary_key and vector.null_count:
                    return None
                columns[name] = vector
                continue
            try:
                values = [_convert(kind, v) for v in values]
            except BadValueError:
                return None
        if name in table.primary_key and None in values:
            return None
        columns[name] = values
    names = list(table.extra_columns)
    if callable(extra):
        extras = [extra(o) or {} for o in objects]
        for name in names:
            columns[name] = [e.get(name) for e in extras]
    else:
        for name in names:
            columns[name] = [(extra or {}).get(name)] * len(objects)
    columns["payload"] = _payload_array(objects)
    return columns


# Text shapes that Arrow's cast reads exactly as :func:`_convert` reads them (RE2 syntax): a text column whose
# every value has its kind's shape is converted by one cast in C instead of a Python call per value
_TEXT_SHAPES = {
    Kind.DECIMAL: r"^-?[0-9]{1,29}(\.[0-9]{1,9})?$",  # what DECIMAL(38, 9) holds exactly
    Kind.DATE: r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}$",
    Kind.TIMESTAMP: (
        r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})$"
    ),
    Kind.BOOLEAN: r"^(true|false|T|F)$",
}
_TRUE_TEXTS = pa.array(["true", "T"])


def _text_column(kind: Kind, values: list) -> pa.Array | None:
    """``values`` (texts and nulls) converted to ``kind``'s Arrow type by a cast, or None when any value is
    not of the plain shape (or the cast refuses it, e.g. 2024-02-30): then the caller converts per value,
    with the reasons."""
    shape = _TEXT_SHAPES.get(kind)
    if shape is None:
        return None
    texts = pa.array(values, pa.string())
    if pc.all(pc.match_substring_regex(texts, shape)).as_py() is False:
        return None
    if kind is Kind.BOOLEAN:
        return pc.if_else(pc.is_null(texts), pa.scalar(None, pa.bool_()), pc.is_in(texts, value_set=_TRUE_TEXTS))
    try:
        return texts.cast(ARROW_TYPES[kind])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _arrow(plan: _Plan, columns: dict[str, list]) -> pa.Table:
    arrays = {}
    for f in plan.schema:
        if f.name in plan.unix_columns:
            seconds = pa.array(columns[f.name], pa.int64())
            arrays[f.name] = pc.multiply(seconds, 1_000_000).cast(f.type)
        elif isinstance(columns[f.name], pa.Array):
            arrays[f.name] = columns[f.name]
        else:
            arrays[f.name] = pa.array(columns[f.name], f.type)
    return pa.table(arrays, schema=plan.schema)


QUARANTINE_HINTS = dlt.mark.make_hints(
    table_name=QUARANTINE_TABLE,
    primary_key="quarantine_id",
    write_disposition="merge",  # the same bad row seen again is the same quarantine entry
    columns={
        "quarantine_id": {"data_type": "text", "nullable": False},
        "source": {"data_type": "text", "nullable": False},
        "table_name": {"data_type": "text", "nullable": False},
        "record_id": {"data_type": "text"},
        "reason": {"data_type": "text", "nullable": False},
        "payload": {"data_type": "json", "nullable": False},
    },
)


def emit(source: str, table: RawTable, objects: Iterable[dict], extra: Extra = None):
    """Yield what one page becomes: the good rows (to ``table``) and the set-aside rows (to the quarantine).

    Both go out as dlt table variants carrying their own complete hints. A variant starts from a copy of
    the resource's hints, so the resource itself holds only the table name and disposition
    (:func:`resource_hints`): were its columns and keys on the resource, the quarantine table would inherit
    them (a non-nullable ``id``, a merge key it has no column for) and every load with a bad row would fail;
    and a variant-less ``with_hints`` would re-point the whole resource at the quarantine table.
    """
    rows, bad = to_rows(source, table, objects, extra)
    if rows is not None:
        yield dlt.mark.with_hints(rows, dlt.mark.make_hints(**table_hints(table)), create_table_variant=True)
    if bad:
        yield dlt.mark.with_hints(bad, QUARANTINE_HINTS, create_table_variant=True)


COALESCE_ROWS = 5000  # rows per Arrow table handed to dlt by :func:`coalesced`


def coalesced(items: Iterable[Any], rows: int = COALESCE_ROWS) -> Iterator[Any]:
    """What a resource yields through :func:`emit`, with each table's Arrow pages joined into tables of about
    ``rows`` rows: dlt works out a table's schema again for every Arrow table it is given (about 2.5 ms each,
    more than many pages cost to fetch). A table's rows keep their order; anything else (the set-aside rows,
    items that are not Arrow pages) goes on at once."""
    pending: dict[str, list[Any]] = {}
    counts: dict[str, int] = {}
    for item in items:
        meta, data = getattr(item, "meta", None), getattr(item, "data", None)
        hints = getattr(meta, "hints", None)
        variant = getattr(meta, "create_table_variant", False)
        if not (isinstance(data, pa.Table) and isinstance(hints, dict) and variant):
            yield item
            continue
        name = hints["table_name"]
        pending.setdefault(name, []).append(item)
        counts[name] = counts.get(name, 0) + data.num_rows
        if counts[name] >= rows:
            yield from _joined(pending.pop(name))
            counts[name] = 0
    for group in pending.values():
        yield from _joined(group)


def _joined(group: list[Any]) -> Iterator[Any]:
    """One item for a table's pending pages (all made by :func:`emit` for the same table, so the same hints and
    Arrow schema); pages that cannot be joined go on one by one."""
    if len(group) == 1:
        yield group[0]
        return
    try:
        joined = pa.concat_tables([item.data for item in group])
    except pa.ArrowInvalid:
        yield from group
        return
    yield dlt.mark.with_hints(joined, group[0].meta.hints, create_table_variant=True)


def table_hints(table: RawTable) -> dict[str, Any]:
    """The table's complete hints: name, keys, disposition and types (what :func:`emit` sends with each page)."""
    hints: dict[str, Any] = {
        "table_name": table.name,
        "primary_key": list(table.primary_key),
        "write_disposition": table.write_disposition,
        "columns": table.dlt_columns(),
    }
    if table.merge_key:
        hints["merge_key"] = list(table.merge_key)
    return hints


def resource_hints(table: RawTable) -> dict[str, Any]:
    """Keyword arguments for ``dlt.resource`` / ``dlt.transformer``: the table's name and disposition.

    Keys and column types travel with each page that :func:`emit` yields (see there for why not here).
    """
    return {"table_name": table.name, "write_disposition": table.write_disposition}


def track_fields(objects: Sequence[dict]) -> None:
    """Remember the top-level fields seen for the current resource, in its dlt state.

    The state is committed with the load package, so the runner can report fields that appeared in
    this run (schema drift) by comparing the state before and after.
    """
    state = dlt.current.resource_state()
    known = set(state.get("known_fields", ()))
    seen = set().union(*(o.keys() for o in objects if isinstance(o, dict))) if objects else set()
    if not seen <= known:
        state["known_fields"] = sorted(known | seen)
