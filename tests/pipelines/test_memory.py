"""Freed memory goes back to the system: what a thread allocated and freed stays resident until asked for."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from pipelines.memory import give_back, rss_mb

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RSS and malloc_trim are Linux's")


def test_memory_a_thread_freed_goes_back_to_the_system():
    kept: list[bytes] = []

    def allocate_then_free() -> None:
        # 1 KB objects come from glibc's malloc, in this thread's arena; one in 64 stays alive, so the arena cannot
        # shrink by itself from the top
        blocks = [bytes(1024) for _ in range(300_000)]
        kept.extend(blocks[::64])
        del blocks

    worker = threading.Thread(target=allocate_then_free)
    worker.start()
    worker.join()
    before, after = give_back()
    assert before is not None and after is not None
    assert before - after > 100, (before, after)  # of the 290 MB freed
    assert after == pytest.approx(rss_mb(), abs=20)


def test_rss_of_another_process_and_of_none():
    assert rss_mb(os.getppid()) is not None
    assert rss_mb(2**22 + 1) is None  # above Linux's largest pid: no such process
