"""A stored record as the REST GET serves it: ``links`` on the record and its references, sublists
collapsed to links unless ``expandSubResources=true``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.erp.records import REFERENCE_TYPES, SUBLISTS

RECORD_PATH = "/services/rest/record/v1"


def self_link(href: str) -> list[dict[str, str]]:
    return [{"rel": "self", "href": href}]


def record_url(base: str, record_type: str, record_id: str) -> str:
    return f"{base}{RECORD_PATH}/{record_type}/{record_id}"


def _ref_with_links(base: str, field: str, value: Any, owner_type: str) -> Any:
    if not (isinstance(value, Mapping) and "id" in value and set(value) <= {"id", "refName", "links"}):
        return value
    target = REFERENCE_TYPES.get(field)
    if field in ("parent", "subsidiary") and target is None:
        target = owner_type
    if target is None:
        return dict(value)
    return {"links": self_link(record_url(base, target, str(value["id"]))), **value}


def _line(base: str, line: Mapping[str, Any], owner_type: str) -> dict:
    return {k: _ref_with_links(base, k, v, owner_type) for k, v in line.items()}


def render_record(base: str, record_type: str, record: Mapping[str, Any], *, expand: bool) -> dict:
    url = record_url(base, record_type, str(record["id"]))
    out: dict[str, Any] = {"links": self_link(url)}
    sublists = SUBLISTS.get(record_type, ())
    for key, value in record.items():
        if key in sublists:
            if expand:
                out[key] = {
                    "links": self_link(f"{url}/{key}"),
                    "items": [_line(base, line, record_type) for line in value.get("items", [])],
                    "totalResults": len(value.get("items", [])),
                }
            else:
                out[key] = {"links": self_link(f"{url}/{key}")}
        else:
            out[key] = _ref_with_links(base, key, value, record_type)
    return out


def render_sublist(base: str, record_type: str, record: Mapping[str, Any], sublist: str) -> dict:
    url = f"{record_url(base, record_type, str(record['id']))}/{sublist}"
    lines = (record.get(sublist) or {}).get("items", [])
    return {
        "links": self_link(url),
        "items": [_line(base, line, record_type) for line in lines],
        "totalResults": len(lines),
        "count": len(lines),
        "hasMore": False,
        "offset": 0,
    }
