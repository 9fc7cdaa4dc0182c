"""One run per data folder: an exclusive ``fcntl`` lock on ``<data>/run.lock``.

The kernel drops the lock when the holding process dies (however it dies), so a crashed run never leaves a
stale lock behind. The file's content (pid, run id, start time) only names the holder in the refusal message;
the lock itself is the only truth.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

LOCK_FILE = "run.lock"


class LockHeldError(RuntimeError):
    """Another process holds the run lock; ``holder`` is what it wrote there (may be empty)."""

    def __init__(self, path: Path, holder: dict[str, object]) -> None:
        self.path = path
        self.holder = holder
        who = ", ".join(f"{k} {v}" for k, v in holder.items()) or "an unknown process"
        super().__init__(f"another q2c run holds {path} ({who}); not starting")


class RunLock:
    """``with RunLock(data_dir, run_id):`` — raises :class:`LockHeldError` at once, never waits."""

    def __init__(self, data_dir: Path, run_id: str) -> None:
        self.path = Path(data_dir) / LOCK_FILE
        self.run_id = run_id
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        # no O_TRUNC: a refused process must not wipe the holder's note
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise LockHeldError(self.path, holder) from None
        note = {"pid": os.getpid(), "run_id": self.run_id, "since": datetime.now(UTC).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(note).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _read_holder(fd: int) -> dict[str, object]:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
