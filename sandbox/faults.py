"""Deterministic fault injection: the same seed and the same requests give the same faults.

A request's fate depends on the seed, a key describing the request (method, path, query) and how many
times that same request has been seen, never on wall time or thread scheduling. So a client that retries
eventually gets through (every profile lets the Nth attempt pass), and a test can replay a failure.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum


class FaultKind(StrEnum):
    RATE_LIMITED = "rate_limited"  # 429 in the vendor's shape, Retry-After where the vendor sends it
    SERVER_ERROR = "server_error"  # 500/502/503
    SLOW = "slow"  # the response comes, late
    DROP = "drop"  # the connection closes before any response
    LOST_RESPONSE = "lost_response"  # writes only: committed, then the connection closes


@dataclass(frozen=True)
class Profile:
    name: str
    rates: dict[FaultKind, float]
    # attempts at the same request beyond this always succeed, so bounded retries always get through
    max_faulted_attempts: int
    slow_seconds: float = 0.0
    retry_after_seconds: int = 1
    # billing events: share delivered twice, share delivered out of order
    duplicate_event_rate: float = 0.0
    reorder_event_rate: float = 0.0


PROFILES: dict[str, Profile] = {
    "none": Profile("none", {}, 0),
    "flaky": Profile(
        "flaky",
        {
            FaultKind.RATE_LIMITED: 0.05,
            FaultKind.SERVER_ERROR: 0.03,
            FaultKind.SLOW: 0.02,
            FaultKind.DROP: 0.02,
            FaultKind.LOST_RESPONSE: 0.03,
        },
        max_faulted_attempts=2,
        slow_seconds=0.3,
        duplicate_event_rate=0.05,
        reorder_event_rate=0.05,
    ),
    "hostile": Profile(
        "hostile",
        {
            FaultKind.RATE_LIMITED: 0.15,
            FaultKind.SERVER_ERROR: 0.08,
            FaultKind.SLOW: 0.04,
            FaultKind.DROP: 0.06,
            FaultKind.LOST_RESPONSE: 0.10,
        },
        max_faulted_attempts=4,
        slow_seconds=1.0,
        duplicate_event_rate=0.15,
        reorder_event_rate=0.20,
    ),
}


def _unit(seed: int, *parts: object) -> float:
    """A deterministic number in [0, 1) from the seed and parts."""
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


class FaultPlan:
    def __init__(self, profile: str | Profile = "none", seed: int = 0) -> None:
        if isinstance(profile, str):
            if profile not in PROFILES:
                raise ValueError(f"unknown fault profile {profile!r}; expected one of {sorted(PROFILES)}")
            profile = PROFILES[profile]
        self.profile = profile
        self.seed = seed
        self._seen: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.injected: Counter[FaultKind] = Counter()

    @property
    def active(self) -> bool:
        return bool(self.profile.rates)

    def decide(self, key: str, *, is_write: bool) -> FaultKind | None:
        """The fault for this attempt at the request ``key``, or None to serve it normally."""
        if not self.active:
            return None
        with self._lock:
            self._seen[key] += 1
            attempt = self._seen[key]
        if attempt > self.profile.max_faulted_attempts:
            return None
        roll = _unit(self.seed, key, attempt)
        edge = 0.0
        for kind in FaultKind:
            rate = self.profile.rates.get(kind, 0.0)
            if kind is FaultKind.LOST_RESPONSE and not is_write:
                continue
            edge += rate
            if roll < edge:
                with self._lock:
                    self.injected[kind] += 1
                return kind
        return None

    def chance(self, rate: float, *parts: object) -> bool:
        """A deterministic yes/no with probability ``rate`` for the given parts (e.g. an event id)."""
        return rate > 0 and _unit(self.seed, "chance", *parts) < rate
