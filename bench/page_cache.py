"""How much of a file the kernel's page cache holds, and dropping it from there (Linux).

The ERP sandbox writes each record under one lock, so a page of its store read from disk stalls every request: at L its
pace moved by a quarter with how much of the store was cached. The push's ceiling must not compare a push on a cold
store with a bare client on the store the push just warmed, so the cycle measures how much of the ERP's store is cached
before each side (:func:`resident`) and starts each side with it dropped (:func:`drop`). Neither needs privileges:
``mincore`` on a read-only mapping and ``posix_fadvise(DONTNEED)`` after a sync, which leaves pages still mapped by a
process (SQLite's ``-shm``) alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import os
from collections.abc import Iterable
from pathlib import Path

_PAGE = mmap.PAGESIZE
_libc = None


def _c() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
        _libc = libc
    return _libc


def resident_bytes(path: Path) -> tuple[int, int]:
    """(bytes of ``path`` in the page cache, the file's size); (0, 0) when it is gone or empty."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return 0, 0
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return 0, 0
        libc = _c()
        addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), f"mmap {path}")
        try:
            pages = (size + _PAGE - 1) // _PAGE
            vec = ctypes.create_string_buffer(pages)
            if libc.mincore(addr, size, vec) != 0:
                raise OSError(ctypes.get_errno(), f"mincore {path}")
            cached = sum(b & 1 for b in vec.raw)
        finally:
            libc.munmap(addr, size)
        return min(cached * _PAGE, size), size
    finally:
        os.close(fd)


def resident(paths: Iterable[Path]) -> dict:
    """The page cache's share of ``paths`` together: {"cached_mb", "size_mb", "fraction"}."""
    cached = size = 0
    for path in paths:
        c, s = resident_bytes(path)
        cached, size = cached + c, size + s
    return {"cached_mb": round(cached / 2**20, 1), "size_mb": round(size / 2**20, 1),
            "fraction": round(cached / size, 3) if size else None}  # fmt: skip


def drop(paths: Iterable[Path]) -> None:
    """Each file written out and its pages dropped from the page cache (pages a process maps stay)."""
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def erp_store_files(sandbox_dir: Path) -> list[Path]:
    """The served ERP sandbox's SQLite store under ``sandbox_dir`` (the database and its write-ahead log)."""
    return sorted(p for p in Path(sandbox_dir).rglob("erp-*.sqlite*") if not p.name.endswith("-shm"))
