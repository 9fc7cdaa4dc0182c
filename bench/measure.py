"""A command run as its own process and measured: wall seconds, exit code, peak RSS (the kernel's own figure,
from ``wait4``), and the peak RSS seen during each named phase when the caller can say which phase is running.

The kernel's ``ru_maxrss`` is exact for the whole process. Per phase, a sampler reads ``VmRSS`` from ``/proc``
every ``interval`` seconds, so a spike shorter than the interval can be missed there (never in the total).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.memory import rss_mb


@dataclass
class Measured:
    command: list[str]
    returncode: int
    seconds: float
    peak_rss_mb: float
    phase_peak_rss_mb: dict[str, float] = field(default_factory=dict)


def run_measured(
    command: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
    phase: Callable[[], str | None] | None = None,
    interval: float = 0.25,
) -> Measured:
    """Runs ``command`` to its end; its stdout and stderr go to ``log_path`` (else are discarded)."""
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 — closed below
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(list(command), env=env, stdout=log, stderr=subprocess.STDOUT)
        peaks: dict[str, float] = {}
        done = threading.Event()

        def sample() -> None:
            while not done.wait(interval):
                rss = rss_mb(proc.pid)
                name = phase() if phase else None
                if rss is not None and name:
                    peaks[name] = max(peaks.get(name, 0.0), rss)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log_path:
            log.close()
    return Measured(list(command), proc.returncode, seconds, usage.ru_maxrss / 1024, peaks)
