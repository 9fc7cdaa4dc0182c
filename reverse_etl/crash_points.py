"""Test hook: kill the push with SIGKILL at a named point, to prove the ledger survives any crash.

``Q2C_PUSH_KILL_AT=after_response:7`` kills the process the 7th time any worker reaches ``after_response``
(the ERP has answered, the ledger does not know yet). Read when a push starts, never at import; unset in
normal runs, where :func:`reached` costs one attribute check.
"""

from __future__ import annotations

import os
import signal
import threading

ENV_VAR = "Q2C_PUSH_KILL_AT"
# after_in_flight: ledger says in_flight, nothing sent yet · after_response: ERP answered, ledger not written
# after_ledger: the outcome is recorded
POINTS = ("after_in_flight", "after_response", "after_ledger")


class CrashPoints:
    def __init__(self, spec: str | None) -> None:
        self.point: str | None = None
        self.nth = 0
        if spec:
            point, _, nth = spec.partition(":")
            if point not in POINTS or not nth.isdigit():
                raise ValueError(f"{ENV_VAR}={spec!r}: expected one of {POINTS} and ':N'")
            self.point, self.nth = point, int(nth)
        self._seen = 0
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> CrashPoints:
        return cls(os.environ.get(ENV_VAR))

    def reached(self, point: str) -> None:
        if self.point != point:
            return
        with self._lock:
            self._seen += 1
            if self._seen == self.nth:
                os.kill(os.getpid(), signal.SIGKILL)
