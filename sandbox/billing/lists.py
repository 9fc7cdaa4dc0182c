"""Stripe's list semantics: ``limit`` 1–100 (default 10), ``starting_after`` / ``ending_before`` cursors,
``has_more``, ``url``, newest first by ``created`` (insertion order breaks ties), ``created`` as an integer or
``created[gt|gte|lt|lte]``, equality / IN / not-equal filters, and ``expand[]`` on ``data.*``.

Pages are found by index range scans on the store's tables (sort key + seq as the keyset), never by
scanning objects in Python, so the L scenario (1M invoices) pages as fast as the S one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sandbox.billing.errors import invalid_param, no_such
from sandbox.billing.storage import COLLECTIONS, BillingStore, collection_of
from sandbox.fixtures import dumps

MAX_LIMIT = 100
DEFAULT_LIMIT = 10
RANGE_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


@dataclass
class ListQuery:
    limit: int = DEFAULT_LIMIT
    starting_after: str | None = None
    ending_before: str | None = None
    created: list[tuple[str, int]] = field(default_factory=list)
    expand: list[str] = field(default_factory=list)


def parse_int(value: Any, param: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise invalid_param(param, f"Invalid integer: {value}", code="parameter_invalid_integer") from None


def parse_expand(params: dict[str, Any]) -> list[str]:
    expand = params.get("expand") or []
    if isinstance(expand, str):
        expand = [expand]
    if isinstance(expand, dict):  # expand[0]=… parsed before list conversion
        expand = list(expand.values())
    return [str(e) for e in expand]


def parse_list_query(params: dict[str, Any]) -> ListQuery:
    """Validate the common list parameters as Stripe does (400 ``invalid_request_error`` naming the param)."""
    q = ListQuery(expand=parse_expand(params))
    if "limit" in params:
        q.limit = parse_int(params["limit"], "limit")
        if q.limit < 1:
            raise invalid_param("limit", "This value must be greater than or equal to 1.", "parameter_invalid_integer")
        if q.limit > MAX_LIMIT:
            raise invalid_param(
                "limit",
                f"This value must be less than or equal to {MAX_LIMIT} (it currently is '{q.limit}').",
                "parameter_invalid_integer",
            )
    q.starting_after = params.get("starting_after") or None
    q.ending_before = params.get("ending_before") or None
    if q.starting_after and q.ending_before:
        raise invalid_param(
            "ending_before", "You may only specify one of these parameters: ending_before, starting_after."
        )
    created = params.get("created")
    if isinstance(created, dict):
        for key, value in created.items():
            if key not in RANGE_OPS:
                raise invalid_param(
                    f"created[{key}]", f"Received unknown parameter: created[{key}]", "parameter_unknown"
                )
            q.created.append((RANGE_OPS[key], parse_int(value, f"created[{key}]")))
    elif created not in (None, ""):
        q.created.append(("=", parse_int(created, "created")))
    return q


@dataclass
class Filter:
    """One condition on an indexed field: ``=`` (value), ``in`` (list), ``!=`` (value) or ``is null``."""

    path: str
    op: str
    value: Any = None


def _column(path: str, sort: str) -> str:
    # mirrors sandbox.store's column naming: the sort field is sort_key, others f_<path with __>
    if path == sort:
        return "sort_key"
    return "f_" + path.replace(".", "__")


def page(
    store: BillingStore,
    collection: str,
    q: ListQuery,
    filters: list[Filter],
    *,
    ranges: list[tuple[str, int]] = (),  # type: ignore[assignment]
) -> tuple[list[str], bool]:
    """One page of raw JSON bodies, newest first, and whether more follow in that direction."""
    meta = COLLECTIONS[collection]
    conds: list[str] = []
    params: list[Any] = []
    for f in filters:
        col = _column(f.path, meta.sort)
        if f.op == "=":
            conds.append(f"{col} = ?")
            params.append(int(f.value) if isinstance(f.value, bool) else f.value)
        elif f.op == "!=":
            conds.append(f"({col} IS NULL OR {col} != ?)")
            params.append(f.value)
        elif f.op == "in":
            conds.append(f"{col} IN ({', '.join('?' for _ in f.value)})")
            params.extend(f.value)
        elif f.op == "is null":
            conds.append(f"{col} IS NULL")
        elif f.op == "not null":
            conds.append(f"{col} IS NOT NULL")
    for op, value in [*q.created, *ranges]:
        conds.append(f"sort_key {op} ?")
        params.append(value)
    reverse = False
    for cursor, param in ((q.starting_after, "starting_after"), (q.ending_before, "ending_before")):
        if not cursor:
            continue
        pos = store.docs.position(collection, cursor)
        if pos is None:
            raise no_such(meta.noun, cursor, param)
        if param == "starting_after":
            conds.append("(sort_key, seq) < (?, ?)")
        else:
            conds.append("(sort_key, seq) > (?, ?)")
            reverse = True  # read towards the newest, then flip back to list order
        params += [pos[0], pos[1]]
    direction = "ASC" if reverse else "DESC"
    sql = f'SELECT body FROM "{collection}"'
    if conds:
        sql += " WHERE " + " AND ".join(conds)
    sql += f" ORDER BY sort_key {direction}, seq {direction} LIMIT ?"
    rows = [r[0] for r in store.docs.conn().execute(sql, [*params, q.limit + 1])]
    has_more = len(rows) > q.limit
    rows = rows[: q.limit]
    if reverse:
        rows.reverse()
    return rows, has_more


# -- expansion ------------------------------------------------------------------------------------------


def expand_object(store: BillingStore, obj: dict, paths: list[str]) -> dict:
    """Replace referenced ids along each dotted path with the referenced objects, as ``expand[]`` does."""
    for path in paths:
        _expand_path(store, obj, path.split("."), path)
    return obj


def _expand_path(store: BillingStore, node: Any, parts: list[str], full: str) -> None:
    if not parts or node is None:
        return
    if isinstance(node, list):
        for item in node:
            _expand_path(store, item, parts, full)
        return
    if not isinstance(node, dict):
        return
    key, rest = parts[0], parts[1:]
    if key not in node:
        raise invalid_param("expand", f"This property cannot be expanded ({full}).")
    value = node[key]
    if isinstance(value, str):
        target = collection_of(value)
        if target is None:
            raise invalid_param("expand", f"This property cannot be expanded ({full}).")
        found = store.get(target, value)
        if found is not None:
            node[key] = found
            value = found
    elif isinstance(value, dict) and value.get("object") == "list" and rest:
        value = value.get("data")  # e.g. lines.data.price_details…: step into list data implicitly
        if rest[0] == "data":
            rest = rest[1:]
    elif not rest and value is not None and not (isinstance(value, dict) and "id" in value):
        raise invalid_param("expand", f"This property cannot be expanded ({full}).")
    _expand_path(store, value, rest, full)


def list_body(store: BillingStore, rows: list[str], has_more: bool, url: str, expand: list[str]) -> str:
    """The list object's JSON text; without expansion the stored bodies are spliced in as they are."""
    if expand:
        data_paths = []
        for path in expand:
            if not path.startswith("data."):
                raise invalid_param("expand", f"This property cannot be expanded ({path}).")
            data_paths.append(path[len("data.") :])
        rows = [dumps(expand_object(store, json.loads(r), data_paths)) for r in rows]
    more = "true" if has_more else "false"
    return f'{{"data":[{",".join(rows)}],"has_more":{more},"object":"list","url":{json.dumps(url)}}}'
