"""`q2c demo` end to end: the whole cycle twice on a served S scenario, checked against the ground truth."""

from __future__ import annotations

import pytest

from pipelines.demo import run_demo


@pytest.mark.slow
def test_demo_runs_the_whole_cycle_twice_and_finds_the_ground_truth(tmp_path):
    lines: list[str] = []
    assert run_demo(tmp_path / "data", echo=lines.append), "\n".join(lines)
    text = "\n".join(lines)
    assert "Ground truth, first run (before its push): 120 injected, 120 found, 0 missed, 0 extra" in text
    assert "Ground truth, second run: refused pushes: 6 injected, 6 found, 0 missed, 0 extra" in text
    assert "paid 3 open invoice(s)" in text and "item created for unmapped product" in text
    # the second run is incremental: billing pages only what changed
    second = text.split("second run (incremental)")[1]
    assert "ingest.billing" in second and "exit code 0" in second
    assert (tmp_path / "data" / "snapshot" / "marts.duckdb").exists()
