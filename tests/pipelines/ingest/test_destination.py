"""raw.duckdb's appends into keyed tables insert only absent keys, so a file loaded again (a load repeated
after a crash) adds nothing; other dispositions are dlt's own."""

from __future__ import annotations

from pathlib import Path

import dlt
import duckdb
import pyarrow as pa

from pipelines.ingest.destination import raw_destination
from pipelines.ingest.runner import quiet_dlt

HINTS = {
    "table_name": "things",
    "primary_key": ["id"],
    "columns": {"id": {"data_type": "text", "nullable": False}, "payload": {"data_type": "json"}},
}


def _pipeline(tmp_path: Path) -> dlt.Pipeline:
    quiet_dlt()
    return dlt.pipeline(
        pipeline_name="destination_test",
        destination=raw_destination(str(tmp_path / "raw.duckdb")),
        dataset_name="raw_test",
        pipelines_dir=str(tmp_path / "dlt"),
    )


def _rows(ids: list[str], tag: str) -> pa.Table:
    return pa.table({"id": ids, "payload": [f'{{"tag": "{tag}"}}' for _ in ids]})


def _run(pipeline: dlt.Pipeline, rows: pa.Table, disposition: str) -> None:
    @dlt.resource(name="things", write_disposition=disposition)
    def things():
        yield dlt.mark.with_hints(rows, dlt.mark.make_hints(**HINTS, write_disposition=disposition))

    pipeline.run(things(), loader_file_format="parquet")


def _table(tmp_path: Path) -> list[tuple]:
    with duckdb.connect(str(tmp_path / "raw.duckdb"), read_only=True) as con:
        return con.execute("select id, payload::varchar from raw_test.things order by id").fetchall()


def test_append_into_keyed_table_inserts_absent_keys_only(tmp_path) -> None:
    pipeline = _pipeline(tmp_path)
    _run(pipeline, _rows(["a", "b"], "first"), "append")
    _run(pipeline, _rows(["a", "b"], "first"), "append")  # the same rows again: what a repeated copy loads
    assert _table(tmp_path) == [("a", '{"tag": "first"}'), ("b", '{"tag": "first"}')]
    _run(pipeline, _rows(["b", "c"], "second"), "append")
    assert [r[0] for r in _table(tmp_path)] == ["a", "b", "c"]
    assert dict(_table(tmp_path))["b"] == '{"tag": "first"}'  # present keys are left alone: not a merge


def test_merge_after_append_still_replaces_by_key(tmp_path) -> None:
    pipeline = _pipeline(tmp_path)
    _run(pipeline, _rows(["a", "b"], "backfill"), "append")
    _run(pipeline, _rows(["b"], "event"), "merge")
    assert _table(tmp_path) == [("a", '{"tag": "backfill"}'), ("b", '{"tag": "event"}')]
