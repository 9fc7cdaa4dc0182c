"""raw.duckdb's appends into keyed tables insert only absent keys, so a file loaded again (a load repeated
after a crash) adds nothing; merges keep one staged row per key without a window over whole rows."""

from __future__ import annotations

from pathlib import Path

import dlt
import duckdb
import pyarrow as pa

from pipelines.ingest.destination import KeyGroupMergeJob, raw_destination
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


def test_a_merge_keeps_one_staged_row_per_key_the_first(tmp_path) -> None:
    # dlt deduplicates staged rows with a window over whole rows; raw groups keys and row ids instead
    pipeline = _pipeline(tmp_path)
    _run(pipeline, _rows(["a", "b"], "backfill"), "merge")
    staged = pa.concat_tables([_rows(["b", "c"], "first"), _rows(["c", "b"], "second")])
    _run(pipeline, staged, "merge")
    assert _table(tmp_path) == [("a", '{"tag": "backfill"}'), ("b", '{"tag": "first"}'), ("c", '{"tag": "first"}')]


def test_the_dedup_select_keeps_the_row_a_dedup_sort_names_and_filters_after(tmp_path) -> None:
    staged = "(values ('a', 1, false), ('a', 3, false), ('a', 2, false), ('b', null, false), ('b', null, true))"
    with duckdb.connect() as con:
        con.execute(f"create table staged as select * from {staged} as t(id, version, deleted)")
        for order, kept in (("desc", 3), ("asc", 1)):
            sql = KeyGroupMergeJob.gen_select_from_dedup_sql(
                "staged", ["id"], ["id", "version"], ("version", order), condition="not deleted"
            )
            # b's versions are all NULL: its first row, which is not deleted, is kept
            assert con.execute(sql + " order by id").fetchall() == [("a", kept), ("b", None)]
