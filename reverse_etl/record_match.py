"""Does a record found in the ERP hold what q2c sent? Used when a create's outcome was unknown.

A crash can fall between writing ``in_flight`` and sending the request, so a record found by external id
afterwards is q2c's only if it carries the payload: otherwise someone else created it and it is not ours to
overwrite. Compared: the payload's plain fields, references given by id, and each sublist's line count and
lines' plain fields (NetSuite adds computed fields; those are ignored). References by external id are
skipped: the ERP stores the id they resolved to.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def _same_scalar(sent: Any, found: Any) -> bool:
    if isinstance(sent, bool) or isinstance(found, bool):
        return sent == found
    if isinstance(sent, int | float | Decimal) or isinstance(found, int | float | Decimal):
        try:
            return Decimal(str(sent)) == Decimal(str(found))
        except (InvalidOperation, TypeError):
            return False
    return sent == found


def _same_fields(sent: dict[str, Any], found: dict[str, Any]) -> bool:
    for name, value in sent.items():
        if isinstance(value, dict):
            if "items" in value:
                sent_lines = value.get("items") or []
                found_value = found.get(name)
                found_lines = (found_value or {}).get("items") if isinstance(found_value, dict) else None
                if found_lines is None or len(found_lines) != len(sent_lines):
                    return False
                if not all(_same_fields(s, f) for s, f in zip(sent_lines, found_lines, strict=True)):
                    return False
            elif "id" in value:
                ref = found.get(name)
                if not isinstance(ref, dict) or str(ref.get("id")) != str(value["id"]):
                    return False
            continue  # {"externalId": ...}: resolved to an id by the ERP
        if isinstance(value, list) or value is None:
            continue
        if not _same_scalar(value, found.get(name)):
            return False
    return True


def holds_payload(record: dict[str, Any], payload: dict[str, Any]) -> bool:
    """True when ``record`` (GET with ``expandSubResources=true``) carries everything ``payload`` sent."""
    return _same_fields(payload, record)
