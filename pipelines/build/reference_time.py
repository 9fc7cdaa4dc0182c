"""The reconciliation's reference time (``q2c_now``): always an ISO-8601 UTC timestamp ending in Z."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(value: datetime | str | None = None) -> str:
    """``value`` (a datetime or ISO string; naive means UTC) as ``YYYY-MM-DDTHH:MM:SSZ``; None → now."""
    if value is None:
        moment = datetime.now(UTC)
    elif isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(value.strip())
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
