"""bench.measure: the kernel's peak RSS of a child process, and the peak seen during each named phase."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.measure import run_measured

# holds ~200 MB for a moment, announces the phase it is in through a file, then frees it
CHILD = """
import pathlib, sys, time
phase = pathlib.Path(sys.argv[1])
phase.write_text("small"); time.sleep(0.6)
phase.write_text("big"); block = bytearray(200 * 2**20); block[::4096] = b"x" * len(block[::4096]); time.sleep(0.8)
del block; phase.write_text("small again"); time.sleep(0.6)
sys.exit(3)
"""


def test_peak_rss_exit_code_and_phase_peaks(tmp_path: Path) -> None:
    phase_file = tmp_path / "phase"

    def phase() -> str | None:
        return phase_file.read_text() if phase_file.exists() else None

    started = time.perf_counter()
    m = run_measured([sys.executable, "-c", CHILD, str(phase_file)], phase=phase, log_path=tmp_path / "log")
    assert m.returncode == 3
    assert 1.5 < m.seconds <= time.perf_counter() - started
    assert m.peak_rss_mb >= 200  # the kernel's figure for the whole process
    assert m.phase_peak_rss_mb["big"] >= 200
    assert m.phase_peak_rss_mb["small"] < 100
    assert set(m.phase_peak_rss_mb) <= {"small", "big", "small again"}
