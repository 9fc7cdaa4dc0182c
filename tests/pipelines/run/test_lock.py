"""The run lock: refused at once while held, named holder, gone with the process that held it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from pipelines.run.lock import LOCK_FILE, LockHeldError, RunLock
from tests.pipelines.run.served import REPO

HOLD = """
import sys, time
from pathlib import Path
from pipelines.run.lock import RunLock
RunLock(Path(sys.argv[1]), "held-by-child").acquire()
print("locked", flush=True)
time.sleep(120)
"""


def test_second_lock_is_refused_at_once_and_names_the_holder(tmp_path):
    with RunLock(tmp_path, "first"):
        started = time.perf_counter()
        with pytest.raises(LockHeldError) as refused:
            RunLock(tmp_path, "second").acquire()
        assert time.perf_counter() - started < 1
        assert refused.value.holder["run_id"] == "first"
        assert refused.value.holder["pid"] == os.getpid()
        assert "first" in str(refused.value)
    # released: the next run gets it
    with RunLock(tmp_path, "third"):
        pass


def test_a_refused_attempt_leaves_the_holders_note_alone(tmp_path):
    with RunLock(tmp_path, "first"):
        with pytest.raises(LockHeldError):
            RunLock(tmp_path, "second").acquire()
        assert '"first"' in (tmp_path / LOCK_FILE).read_text()


def test_the_lock_dies_with_a_killed_holder(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(LockHeldError) as refused:
            RunLock(tmp_path, "mine").acquire()
        assert refused.value.holder["pid"] == child.pid
        child.send_signal(signal.SIGKILL)  # no cleanup runs: only the kernel can release it
        child.wait(timeout=10)
        with RunLock(tmp_path, "mine"):
            assert '"mine"' in (tmp_path / LOCK_FILE).read_text()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
