"""Memory the process has freed, given back to the system before the build.

The ingest frees most of what it used, but the allocators keep freed memory for later: glibc's malloc in the arenas
of the threads that allocated (the ingest's request and load threads), Arrow's memory pool (the Parquet dlt writes and
the tables the sources build). The build that follows in the same process allocates mostly inside DuckDB, from other
threads, and reused little of that: on L, the full run's build reached 4,092 MB of RSS in the process that had
ingested, against 2,782 MB for the same build in a fresh process. Given back after the ingest (the seventeenth L
cycle): 1,693 MB resident became 1,071 MB, and the build's peak was 3,407 MB.

:func:`give_back` asks each allocator to return what it holds free; it never frees a live object.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from pathlib import Path


def rss_mb(pid: int | str = "self") -> float | None:
    """The resident memory of process ``pid`` (this one by default) now, in MB; None where there is no ``/proc``
    or the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return None


def give_back() -> tuple[float | None, float | None]:
    """Return the memory the allocators hold free to the system; RSS in MB before and after (None: not Linux)."""
    before = rss_mb()
    gc.collect()
    arrow = sys.modules.get("pyarrow")  # only if something loaded it: importing it here would cost memory
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    _malloc_trim()
    return before, rss_mb()


def _malloc_trim() -> None:
    """glibc's ``malloc_trim(0)``: every arena's free memory back to the system (other C libraries have none)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library the process already has loaded
    except (OSError, AttributeError):  # musl and others: no malloc_trim
        return
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)
