"""The raw-load benchmark loads the same rows in both layouts, and only the layout differs between them."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from bench import raw_load
from pipelines.sources.billing import settings
from sandbox.scenario.generate import generate

pytestmark = pytest.mark.slow


@pytest.fixture
def each_layout_fresh(monkeypatch):
    """The bench runs each layout in a process of its own; here each starts from the runner's file bounds and the
    source's batch rows, and all is restored after the test."""
    batch_rows = settings.BATCH_ROWS

    def reset() -> None:
        for name in ("DATA_WRITER__FILE_MAX_ITEMS", "DATA_WRITER__FILE_MAX_BYTES"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setattr(settings, "BATCH_ROWS", batch_rows)

    return reset


def test_both_layouts_load_every_copy_of_every_row(tmp_path: Path, each_layout_fresh) -> None:
    generate("S", 7, tmp_path / "scenario")
    rows_dir = tmp_path / "rows"
    rows_dir.mkdir()
    counts = raw_load.write_rows(tmp_path / "scenario", rows_dir)
    assert set(counts) == set(raw_load.TABLES) and all(counts.values())
    assert {n: pq.read_metadata(rows_dir / f"{n}.parquet").num_rows for n in raw_load.TABLES} == counts

    loaded = {}
    source_batch_rows = settings.BATCH_ROWS
    for layout in raw_load.LAYOUTS:
        each_layout_fresh()
        (tmp_path / layout).mkdir()
        result = raw_load.load(rows_dir, tmp_path / layout, layout, copies=3)
        # the layout took effect ("now": the source's own batch rows)
        assert (raw_load.LAYOUTS[layout]["batch_rows"] or source_batch_rows) == settings.BATCH_ROWS
        assert result["rows"] == 3 * sum(counts.values())
        assert result["database_mb"] > 0 and result["peak_rss_mb"] > 0
        with duckdb.connect(str(tmp_path / layout / "raw.duckdb"), read_only=True) as con:
            loaded[layout] = con.execute(
                "select count(*), count(distinct id), min(id), max(id) from raw_bench_raw_load.charges"
            ).fetchone()
    assert loaded["before"] == loaded["now"]
    assert loaded["now"][0] == loaded["now"][1] == 3 * counts["charges"]  # ids suffixed per copy: no repeats


def test_served_backfills_each_layout_and_replays_its_requests(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(raw_load, "RESULTS", tmp_path / "results")
    argv = ["--served", "--scale", "S", "--repeat", "1", "--work", str(tmp_path)]
    monkeypatch.setattr("sys.argv", ["raw_load", *argv])
    raw_load.main()
    out = json.loads((tmp_path / "results" / "raw-load-served.json").read_text())
    assert [r["layout"] for r in out["runs"]] == list(raw_load.LAYOUTS)
    assert len({r["rows"] for r in out["runs"]}) == 1 and out["runs"][0]["rows"] > 0  # the same backfill both ways
    assert out["bare_seconds"] > 0 and set(out["ratios"]) == set(raw_load.LAYOUTS)


def test_a_failing_run_fails_the_bench_with_its_reason_instead_of_waiting(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"load failed .*FileNotFoundError"):
        raw_load.run_in_process(raw_load.load, tmp_path / "no-rows", tmp_path, "now", 1)
