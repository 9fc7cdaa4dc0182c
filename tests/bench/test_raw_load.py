"""The raw-load benchmark loads the same rows in both layouts, and only the layout differs between them."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from bench import raw_load
from sandbox.scenario.generate import generate


def test_both_layouts_load_every_copy_of_every_row(tmp_path: Path, monkeypatch) -> None:
    generate("S", 7, tmp_path / "scenario")
    rows_dir = tmp_path / "rows"
    rows_dir.mkdir()
    counts = raw_load.write_rows(tmp_path / "scenario", rows_dir)
    assert set(counts) == set(raw_load.TABLES) and all(counts.values())
    assert {n: pq.read_metadata(rows_dir / f"{n}.parquet").num_rows for n in raw_load.TABLES} == counts

    loaded = {}
    for layout in raw_load.LAYOUTS:
        # the bench runs each layout in a process of its own; here each starts from the runner's own file bounds,
        # and the test's environment is restored after it
        for name in ("DATA_WRITER__FILE_MAX_ITEMS", "DATA_WRITER__FILE_MAX_BYTES"):
            monkeypatch.delenv(name, raising=False)
        (tmp_path / layout).mkdir()
        result = raw_load.load(rows_dir, tmp_path / layout, layout, copies=3)
        assert result["rows"] == 3 * sum(counts.values())
        assert result["database_mb"] > 0 and result["peak_rss_mb"] > 0
        with duckdb.connect(str(tmp_path / layout / "raw.duckdb"), read_only=True) as con:
            loaded[layout] = con.execute(
                "select count(*), count(distinct id), min(id), max(id) from raw_bench_raw_load.charges"
            ).fetchone()
    assert loaded["before"] == loaded["now"]
    assert loaded["now"][0] == loaded["now"][1] == 3 * counts["charges"]  # ids suffixed per copy: no repeats
