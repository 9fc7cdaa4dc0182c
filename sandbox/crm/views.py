"""What every CRM route shares: object-type names in URLs, the ``properties`` parameter, and projection.

HubSpot accepts an object type by name (``companies``), singular (``company``) or id (``0-2``); returns only
the requested properties (plus the id, create and last-modified dates), or the type's defaults when none are
requested; and accepts ``properties`` repeated, comma-joined, or both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.crm.objects import DEFAULT_PROPERTIES, LAST_MODIFIED_PROPERTY, OBJECT_TYPE_IDS, V3_ASSOCIATION_NAMES
from sandbox.crm.properties import PropertyCatalog
from sandbox.crm.records import CrmRecords

_ALIASES: dict[str, str] = {}
for _name, _type_id in OBJECT_TYPE_IDS.items():
    _ALIASES[_name] = _name
    _ALIASES[_type_id] = _name
    _ALIASES[_name.rstrip("s") if _name != "companies" else "company"] = _name
_ALIASES["line_item"] = "line_items"
_ALIASES["lineitems"] = "line_items"
_ALIASES["lineitem"] = "line_items"


def object_type(segment: str) -> str | None:
    """The canonical plural name for a URL segment, or None if the sandbox does not serve that type."""
    return _ALIASES.get(segment.lower())


def split_names(values: Iterable[str]) -> list[str]:
    """``properties=a,b&properties=c`` → ``["a", "b", "c"]`` (order kept, duplicates dropped)."""
    names: list[str] = []
    for value in values:
        for part in str(value).split(","):
            part = part.strip()
            if part and part not in names:
                names.append(part)
    return names


def project(
    obj: dict,
    object_type_name: str,
    requested: list[str] | None,
    catalog: PropertyCatalog,
) -> dict:
    """The object as a read returns it: requested properties (known ones, null when unset) or the defaults."""
    props = obj.get("properties") or {}
    if requested:
        always = ("createdate", LAST_MODIFIED_PROPERTY[object_type_name], "hs_object_id")
        known = [n for n in requested if catalog.get(object_type_name, n) is not None or n in props]
        names = sorted(set(known) | set(always))
    else:
        names = sorted(DEFAULT_PROPERTIES[object_type_name])
    out: dict[str, Any] = {
        "id": obj["id"],
        "properties": {n: props.get(n) for n in names},
        "createdAt": obj["createdAt"],
        "updatedAt": obj["updatedAt"],
        "archived": obj.get("archived", False),
    }
    if obj.get("archivedAt"):
        out["archivedAt"] = obj["archivedAt"]
    return out


def with_associations(out: dict, records: CrmRecords, object_type_name: str, to_types: list[str]) -> dict:
    """Add v3's ``associations`` block (``{"companies": {"results": [{"id", "type"}]}}``) for each type asked."""
    block: dict[str, Any] = {}
    for to_type in to_types:
        rows, _ = records.associations(object_type_name, int(out["id"]), to_type)
        results = [
            {"id": str(to_id), "type": V3_ASSOCIATION_NAMES.get(int(t["typeId"]), str(t["typeId"]))}
            for to_id, types in rows
            for t in types
        ]
        if results:
            block[to_type] = {"results": results}
    if block:
        out["associations"] = block
    return out


def association_types_requested(values: Iterable[str]) -> tuple[list[str], list[str]]:
    """(served types, unknown names) from an ``associations`` parameter."""
    served: list[str] = []
    unknown: list[str] = []
    for name in split_names(values):
        canonical = object_type(name)
        if canonical is None:
            unknown.append(name)
        elif canonical not in served:
            served.append(canonical)
    return served, unknown
