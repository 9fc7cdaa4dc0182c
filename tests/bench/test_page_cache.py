"""bench.page_cache: how much of a file the page cache holds, and dropping it, on a real file."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from bench.page_cache import drop, erp_store_files, resident, resident_bytes

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mincore and fadvise as Linux has them")


def _on_tmpfs(path) -> bool:
    """tmpfs keeps a file's pages as its storage: nothing there can be dropped from the page cache."""
    mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()]
    best = max((m for m in mounts if str(path).startswith(m[1])), key=lambda m: len(m[1]), default=None)
    return best is not None and best[2] == "tmpfs"


def test_a_file_read_is_cached_and_dropping_it_empties_the_cache_of_it(tmp_path) -> None:
    if _on_tmpfs(tmp_path):
        pytest.skip("the test folder is on tmpfs")
    path = tmp_path / "store.sqlite"
    path.write_bytes(os.urandom(8 << 20))
    path.read_bytes()
    cached, size = resident_bytes(path)
    assert size == 8 << 20 and cached > size // 2
    drop([path])
    assert resident_bytes(path)[0] < size // 8
    assert path.read_bytes()[:1]  # nothing lost: only the cache was dropped
    assert resident([path, tmp_path / "gone.sqlite"])["size_mb"] == 8.0  # a missing file counts as nothing


def test_the_erp_store_is_found_without_its_shared_memory_file(tmp_path) -> None:
    folder = tmp_path / "sandbox" / "erp"
    folder.mkdir(parents=True)
    for name in ("erp-1.sqlite", "erp-1.sqlite-wal", "erp-1.sqlite-shm", "billing-1.sqlite"):
        (folder / name).write_bytes(b"x")
    assert [p.name for p in erp_store_files(tmp_path / "sandbox")] == ["erp-1.sqlite", "erp-1.sqlite-wal"]
    assert resident([])["fraction"] is None
