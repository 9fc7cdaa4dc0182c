"""Events: one for every state change made through the API, and their delivery on ``/v1/events``.

Stripe keeps events listable for 30 days; older ones are neither listed nor retrievable. Under the flaky and
hostile fault profiles, delivery misbehaves deterministically for the seed, the way webhook consumers see it:
an event may be delivered again at the top of the next page (duplicate) and neighbouring events within a
page may be swapped (out of order). The last event of a page never moves, so cursor paging loses nothing.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.billing import objects
from sandbox.billing.service import Billing, Ctx

RETENTION_SECONDS = 30 * 86400


def previous_attributes(old: dict, new: dict) -> dict:
    """Old values of the fields that changed; nested objects keep only their changed sub-fields, as Stripe."""
    prev: dict[str, Any] = {}
    for key, old_value in old.items():
        new_value = new.get(key)
        if old_value == new_value:
            continue
        if isinstance(old_value, dict) and isinstance(new_value, dict) and old_value.get("object") != "list":
            prev[key] = previous_attributes(old_value, new_value)
        else:
            prev[key] = old_value
    return prev


def emit(billing: Billing, ctx: Ctx | None, type_: str, obj: dict, previous: dict | None = None) -> dict:
    """Record one event about ``obj`` (its served form) at the sandbox's now."""
    event = objects.event(
        id=billing.new_id("evt"),
        created=billing.now(),
        type=type_,
        object=obj,
        previous_attributes=previous,
        request_id=ctx.request_id if ctx else None,
        idempotency_key=ctx.idempotency_key if ctx else None,
    )
    billing.store.put("events", event)
    return event


def emit_updated(billing: Billing, ctx: Ctx | None, type_: str, old: dict, new: dict) -> dict | None:
    """A ``*.updated`` event carrying ``previous_attributes``; none when nothing changed."""
    prev = previous_attributes(old, new)
    if not prev:
        return None
    return emit(billing, ctx, type_, new, prev)


def window_start(billing: Billing) -> int:
    return billing.now() - RETENTION_SECONDS


def deliver(billing: Billing, rows: list[str], starting_after: str | None) -> list[str]:
    """Apply the fault profile's duplicate and out-of-order delivery to one page of event bodies."""
    profile = billing.faults.profile
    if not rows or (profile.duplicate_event_rate <= 0 and profile.reorder_event_rate <= 0):
        return rows
    rows = list(rows)
    ids = [json.loads(r)["id"] for r in rows]
    i = 0
    while i < len(rows) - 2:  # never the last pair: the last id is the client's next cursor
        if billing.faults.chance(profile.reorder_event_rate, "event-reorder", ids[i]):
            rows[i], rows[i + 1] = rows[i + 1], rows[i]
            ids[i], ids[i + 1] = ids[i + 1], ids[i]
            i += 2
            continue
        i += 1
    if starting_after and billing.faults.chance(profile.duplicate_event_rate, "event-duplicate", starting_after):
        again = billing.store.get_raw("events", starting_after)
        if again is not None:
            rows.insert(0, again)
    return rows
