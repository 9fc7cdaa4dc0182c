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


LINE_HINTS = {
    "table_name": "lines",
    "primary_key": ["line"],
    "merge_key": ["doc"],
    "columns": {"line": {"data_type": "text", "nullable": False}, "doc": {"data_type": "text", "nullable": False}},
}


def test_a_merge_on_a_key_and_a_merge_key_replaces_each_docs_rows(tmp_path) -> None:
    # the ERP's lines: keyed by line, and a changed transaction's rows all replaced by those read again
    pipeline = _pipeline(tmp_path)

    def run(rows: list[tuple[str, str]]) -> None:
        table = pa.table({"line": [r[0] for r in rows], "doc": [r[1] for r in rows]})

        @dlt.resource(name="lines", write_disposition="merge")
        def lines():
            yield dlt.mark.with_hints(table, dlt.mark.make_hints(**LINE_HINTS, write_disposition="merge"))

        pipeline.run(lines(), loader_file_format="parquet")

    run([("1", "A"), ("2", "A"), ("3", "B")])
    run([("1", "A"), ("4", "C")])  # A now has line 1 only; B untouched; C new
    with duckdb.connect(str(tmp_path / "raw.duckdb"), read_only=True) as con:
        rows = con.execute("select line, doc from raw_test.lines order by line").fetchall()
    assert rows == [("1", "A"), ("3", "B"), ("4", "C")]


def test_the_merge_deletes_by_one_hashed_semi_join_per_key_set() -> None:
    # one OR-ed condition made DuckDB compare every raw row with every staged row (minutes at L)
    clauses = KeyGroupMergeJob.gen_key_table_clauses("raw_lines", "staged", ['"line"'], ['"doc"'], for_delete=True)
    assert len(clauses) == 2 and not any(" OR " in c for c in clauses)
    with duckdb.connect() as con:
        con.execute(
            "create table raw_lines as select i::varchar as line, (i // 3)::varchar as doc from range(3000) t(i)"
        )
        con.execute("create table staged as select * from raw_lines where line in ('5', '900')")
        for clause in clauses:
            plan = "\n".join(row[1] for row in con.execute(f"explain delete {clause}").fetchall())
            assert "HASH_JOIN" in plan and "NL_JOIN" not in plan, plan
        for clause in clauses:
            con.execute(f"delete {clause}")
        assert con.execute("select count(*) from raw_lines").fetchone()[0] == 3000 - 6
