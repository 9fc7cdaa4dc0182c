"""Compile a CRM search request (``filterGroups``, ``sorts``, ``query``) into SQL over :mod:`sandbox.crm.records`.

Filter groups are ORed, filters inside a group ANDed, as in HubSpot. The last-modified time, the create
date and the record id map to indexed columns, so the usual incremental query ("modified since T, oldest
first") is an index range scan; any other property is read from the JSON body. Each property compares by
its type: datetimes as instants (epoch ms or ISO-8601 accepted), numbers numerically, strings and
enumerations case-insensitively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.crm.objects import LAST_MODIFIED_PROPERTY
from sandbox.crm.properties import PropertyCatalog
from sandbox.crm.records import iso_to_ms

_PROPERTY_NAME = re.compile(r"[A-Za-z0-9_]+")  # property names are interpolated into SQL: allow nothing else
MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 10
MAX_FILTERS = 25

# free-text ``query`` searches these (HubSpot's default searchable properties, simplified)
QUERY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "companies": ("name", "domain"),
    "contacts": ("email", "firstname", "lastname"),
    "deals": ("dealname",),
    "products": ("name", "hs_sku"),
    "line_items": ("name",),
}


class SearchError(ValueError):
    """A request HubSpot would refuse with 400 VALIDATION_ERROR."""


@dataclass
class CompiledSearch:
    where: str
    params: list[Any] = field(default_factory=list)
    order: str = "id ASC"


@dataclass(frozen=True)
class _Column:
    sql: str  # expression giving the comparable value
    raw: str  # expression giving the stored value (for HAS_PROPERTY)
    kind: str  # datetime | number | string


def _column(catalog: PropertyCatalog, object_type: str, name: str) -> _Column:
    if not _PROPERTY_NAME.fullmatch(name):
        raise SearchError(f'Property "{name}" does not exist on object type {object_type}')
    if name == "hs_object_id":
        return _Column("id", "id", "number")
    if name == "createdate":
        return _Column("created_ms", "created_ms", "datetime")
    if name == LAST_MODIFIED_PROPERTY[object_type]:
        return _Column("lastmod_ms", "lastmod_ms", "datetime")
    definition = catalog.get(object_type, name)
    if definition is None:
        raise SearchError(f'Property "{name}" does not exist on object type {object_type}')
    raw = f"json_extract(body, '$.properties.\"{name}\"')"
    if definition.type in ("datetime", "date"):
        return _Column(f"hs_ms({raw})", raw, "datetime")
    if definition.type == "number":
        return _Column(f"CAST({raw} AS REAL)", raw, "number")
    return _Column(f"lower({raw})", raw, "string")


def _value(column: _Column, value: Any, name: str) -> Any:
    if value is None:
        raise SearchError(f"A value is required to filter on {name}")
    text = str(value).strip()
    if column.kind == "datetime":
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            return iso_to_ms(text)
        except ValueError:
            raise SearchError(f"{text} is not a valid datetime value for {name}") from None
    if column.kind == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise SearchError(f"{text} is not a valid number for {name}") from None
        return int(number) if column.sql == "id" else float(number)  # compared only, never summed
    return text.lower()


def _filter_sql(catalog: PropertyCatalog, object_type: str, flt: dict, params: list[Any]) -> str:
    name = flt.get("propertyName")
    operator = str(flt.get("operator") or "").upper()
    if not name:
        raise SearchError("filter is missing propertyName")
    col = _column(catalog, object_type, str(name))
    if operator == "HAS_PROPERTY":
        return f"({col.raw} IS NOT NULL AND {col.raw} != '')"
    if operator == "NOT_HAS_PROPERTY":
        return f"({col.raw} IS NULL OR {col.raw} = '')"
    if operator in ("EQ", "NEQ", "LT", "LTE", "GT", "GTE"):
        params.append(_value(col, flt.get("value"), name))
        sql_op = {"EQ": "=", "NEQ": "!=", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}[operator]
        if operator == "NEQ":  # a record without the property is "not equal" too
            return f"({col.sql} IS NULL OR {col.sql} != ?)"
        return f"{col.sql} {sql_op} ?"
    if operator == "BETWEEN":
        params.append(_value(col, flt.get("value"), name))
        params.append(_value(col, flt.get("highValue"), name))
        return f"({col.sql} >= ? AND {col.sql} <= ?)"
    if operator in ("IN", "NOT_IN"):
        values = flt.get("values")
        if not isinstance(values, list) or not values:
            raise SearchError(f"operator {operator} needs a non-empty values list")
        params.extend(_value(col, v, name) for v in values)
        marks = ", ".join("?" for _ in values)
        if operator == "IN":
            return f"{col.sql} IN ({marks})"
        return f"({col.sql} IS NULL OR {col.sql} NOT IN ({marks}))"
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(flt.get("value") or "").lower().replace("*", "%")
        params.append(f"%{token}%")
        like = f"lower({col.raw}) LIKE ?"
        return like if operator == "CONTAINS_TOKEN" else f"({col.raw} IS NULL OR NOT {like})"
    raise SearchError(f"Unsupported filter operator {operator or '(none)'}")


def compile_search(catalog: PropertyCatalog, object_type: str, body: dict) -> CompiledSearch:
    groups = body.get("filterGroups") or []
    if not isinstance(groups, list):
        raise SearchError("filterGroups must be a list")
    if len(groups) > MAX_FILTER_GROUPS:
        raise SearchError(f"Too many filter groups ({len(groups)}); the maximum is {MAX_FILTER_GROUPS}")
    total_filters = 0
    params: list[Any] = []
    group_sql: list[str] = []
    for group in groups:
        filters = (group or {}).get("filters") or []
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise SearchError(f"Too many filters in a group ({len(filters)}); the maximum is {MAX_FILTERS_PER_GROUP}")
        total_filters += len(filters)
        if filters:
            group_sql.append("(" + " AND ".join(_filter_sql(catalog, object_type, f, params) for f in filters) + ")")
    if total_filters > MAX_FILTERS:
        raise SearchError(f"Too many filters ({total_filters}); the maximum is {MAX_FILTERS}")
    where = " OR ".join(group_sql) if group_sql else "1"
    query = body.get("query")
    if query:
        likes = [f"lower(json_extract(body, '$.properties.\"{p}\"')) LIKE ?" for p in QUERY_PROPERTIES[object_type]]
        params.extend(f"%{str(query).lower()}%" for _ in likes)
        where = f"({where}) AND ({' OR '.join(likes)})"
    return CompiledSearch(where=where, params=params, order=_order(catalog, object_type, body.get("sorts") or []))


def _order(catalog: PropertyCatalog, object_type: str, sorts: list) -> str:
    if not sorts:
        return "id ASC"
    if len(sorts) > 1:
        raise SearchError("Only one sort is supported")
    sort = sorts[0]
    if isinstance(sort, str):  # the older "-createdate" / "createdate" string form
        name, direction = sort.lstrip("-"), "DESCENDING" if sort.startswith("-") else "ASCENDING"
    else:
        name, direction = sort.get("propertyName"), str(sort.get("direction") or "ASCENDING").upper()
    if direction not in ("ASCENDING", "DESCENDING"):
        raise SearchError(f"Unknown sort direction {direction}")
    col = _column(catalog, object_type, str(name))
    sql_dir = "ASC" if direction == "ASCENDING" else "DESC"
    return f"{col.sql} {sql_dir}, id ASC" if col.sql != "id" else f"id {sql_dir}"
