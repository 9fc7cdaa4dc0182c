"""What ``q2c run`` tells the scheduler (documented in the README's "Exit codes")."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    # a step (ingest, build, snapshot, push) failed; later steps did not run; the next run retries
    STEP_FAILED = 1
    # bad flags, an unusable data folder or credentials refused: retrying will not help until a person acts.
    # 2 is also what click returns for a usage error, which is the same kind of problem.
    CONFIG_ERROR = 2
    # every step succeeded, but open exceptions at or above --fail-on-severity remain
    EXCEPTIONS_AT_SEVERITY = 3
    # another run holds the lock; nothing was done (75 is EX_TEMPFAIL: "try again later")
    LOCK_HELD = 75

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    ExitCode.OK: "every step succeeded",
    ExitCode.STEP_FAILED: "a step failed (the log names it); later steps were skipped",
    ExitCode.CONFIG_ERROR: "configuration error: bad option, unusable data folder or credentials refused",
    ExitCode.EXCEPTIONS_AT_SEVERITY: "the run succeeded but open exceptions at or above --fail-on-severity remain",
    ExitCode.LOCK_HELD: "another q2c run holds the lock on this data folder; nothing was done",
}
