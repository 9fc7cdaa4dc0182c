"""How the CRM's typed raw columns read their values from HubSpot objects (getters for :class:`Column`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipelines.sources.raw_tables import BadValueError


def property_value(name: str) -> Callable[[dict], Any]:
    """A property's value as sent; HubSpot sends a cleared property as ``""`` or null, both mean no value."""

    def read(obj: dict) -> Any:
        value = (obj.get("properties") or {}).get(name)
        return None if value == "" else value

    return read


def to_object_id(row: dict) -> Any:
    """v4 sends ``toObjectId`` as a JSON integer; ids are text in raw. Anything else is left to be set aside."""
    value = row.get("toObjectId")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def association_type_ids(row: dict) -> str | None:
    """The association type ids of one pair, ascending and ``;``-joined (e.g. ``"5;341"``: primary + unlabeled)."""
    ids = set()
    for item in row.get("associationTypes") or []:
        type_id = item.get("typeId") if isinstance(item, dict) else None
        if isinstance(type_id, bool) or not isinstance(type_id, int):
            raise BadValueError(f"expected an integer typeId, got {type_id!r}")
        ids.add(type_id)
    return ";".join(str(i) for i in sorted(ids)) or None
