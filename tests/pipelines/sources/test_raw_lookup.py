"""Sources read what raw holds for a list of ids through their pipeline's destination (a real DuckDB file):
joined as one registered table on DuckDB, in ``IN`` lists elsewhere, with the same rows either way."""

from __future__ import annotations

from pathlib import Path

import dlt
import pytest

from pipelines.ingest.destination import raw_destination
from pipelines.ingest.runner import quiet_dlt
from pipelines.sources import raw_lookup
from pipelines.sources.raw_lookup import query_raw

IDS = [f"obj_{i:04d}" for i in range(2500)]


@pytest.fixture
def pipeline(tmp_path: Path) -> dlt.Pipeline:
    """A pipeline (dlt makes it the current one) whose raw holds ``things``: every id twice, of kinds a and b."""
    quiet_dlt()
    pipeline = dlt.pipeline(
        pipeline_name="raw_lookup_test",
        destination=raw_destination(str(tmp_path / "raw.duckdb")),
        dataset_name="raw_test",
        pipelines_dir=str(tmp_path / "dlt"),
    )
    rows = [{"id": i, "kind": kind, "n": n} for n, i in enumerate(IDS) for kind in ("a", "b")]
    pipeline.run(rows, table_name="things", loader_file_format="parquet")
    return pipeline


@pytest.fixture(params=["joined", "in-lists"])
def path(request, monkeypatch) -> str:
    if request.param == "in-lists":  # what another warehouse gets: IN lists, a few to cover the ids
        monkeypatch.setattr(raw_lookup, "_joins_arrow", lambda native: False)
        monkeypatch.setattr(raw_lookup, "IN_LIST_SIZE", 700)
    return request.param


def test_rows_of_the_ids_asked_for_with_parameters_before_them(pipeline, path) -> None:
    wanted = [*IDS[::3], "obj_missing"]
    rows = query_raw("select id, n from {table} where kind = %s and id in ({ids})", "things", wanted, params=["b"])
    assert sorted(rows) == sorted((i, IDS.index(i)) for i in IDS[::3])


def test_a_table_not_loaded_yet_holds_nothing(pipeline, path) -> None:
    assert query_raw("select id from {table} where id in ({ids})", "never_loaded", IDS[:5]) == []


def test_no_ids_make_no_query(pipeline, path) -> None:
    assert query_raw("select id from {table} where id in ({ids})", "things", []) == []
