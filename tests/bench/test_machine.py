"""bench.machine: the kernel's I/O wait and pressure counters, read as deltas over a span."""

from __future__ import annotations

import os
import sys

import pytest

from bench.machine import counters, since


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the counters are Linux's /proc")
def test_a_span_with_durable_writes_gets_non_negative_figures_for_each_counter(tmp_path) -> None:
    before = counters()
    assert "iowait" in before and before["iowait"] >= 0
    path = tmp_path / "written"
    with path.open("wb") as out:
        for _ in range(8):
            out.write(os.urandom(1 << 20))
            out.flush()
            os.fsync(out.fileno())
    grown = since(before)
    assert set(grown) == set(before)  # the same counters, each a delta
    assert all(value >= 0 for value in grown.values()), grown
