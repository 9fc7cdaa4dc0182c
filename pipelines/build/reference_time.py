"""The reconciliation's reference time (``q2c_now``): always an ISO-8601 UTC timestamp ending in Z."""

from __future__ import annotations

import os
from datetime import UTC, datetime

NOW_VARIABLE = "Q2C_NOW"
"""Environment variable that fixes the reference time when no --now is given: a sandbox's clock, or a past
day being reconciled again. Unset, the reference time is the wall clock."""


def iso_utc(value: datetime | str | None = None) -> str:
    """``value`` (a datetime or ISO string; naive means UTC) as ``YYYY-MM-DDTHH:MM:SSZ``; None → $Q2C_NOW, else now."""
    if value is None:
        value = os.environ.get(NOW_VARIABLE) or None
    if value is None:
        moment = datetime.now(UTC)
    elif isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(value.strip())
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
