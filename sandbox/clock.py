"""The sandbox's notion of "now": the scenario's as-of time, advancing with the wall clock.

A generated scenario is frozen at its ``as_of`` instant (so the same seed gives the same folder); a
served sandbox starts there and moves forward in real time, so objects created through the APIs are
newer than everything in the fixtures, as with Stripe's test clocks.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class SandboxClock:
    def __init__(self, as_of: int, *, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._base = int(as_of)
        self._started = time.monotonic()
        self._frozen = frozen

    def now(self) -> int:
        """Unix seconds, UTC."""
        with self._lock:
            if self._frozen:
                return self._base
            return self._base + int(time.monotonic() - self._started)

    def now_ms(self) -> int:
        with self._lock:
            if self._frozen:
                return self._base * 1000
            return self._base * 1000 + int((time.monotonic() - self._started) * 1000)

    def advance(self, seconds: int) -> None:
        """Move the clock forward (tests use this to make time pass deterministically)."""
        with self._lock:
            self._base += int(seconds)

    def now_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)


def parse_iso(value: str) -> int:
    """ISO-8601 (``Z`` or offset) to unix seconds."""
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def to_iso_ms(unix_ms: int) -> str:
    """Unix milliseconds to the ``2026-01-31T12:00:00.000Z`` form HubSpot and NetSuite use."""
    dt = datetime.fromtimestamp(unix_ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{unix_ms % 1000:03d}Z"
