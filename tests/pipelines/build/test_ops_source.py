"""The ops-store plugin: ops.sqlite tables into DuckDB via Python's sqlite3, typed from the source YAML."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pipelines.build.ops_source import arrow_type, declared_schema, read_table
from pipelines.build.report import format_summary
from pipelines.build.runner import run_build
from tests.pipelines.build.conftest import copy_project, fresh_data_dir

COLUMNS = [
    {"name": "external_id", "data_type": "varchar"},
    {"name": "attempts", "data_type": "bigint"},
    {"name": "created_at", "data_type": "timestamptz"},
    {"name": "last_error_code", "data_type": "varchar"},
]

LEDGER_DDL = """
create table postings (
    external_id text primary key, record_type text, subject_key text, payload_hash text, state text,
    erp_internal_id text, attempts integer, last_error_code text, last_error_message text, last_error_path text,
    correlation_id text, created_at text, updated_at text, requested_by text
)
"""


def write_ledger(path: Path, rows: list[tuple]) -> None:
    with sqlite3.connect(path) as con:
        con.execute("pragma journal_mode=wal")
        con.execute(LEDGER_DDL)
        con.executemany(f"insert into postings values ({', '.join('?' * 14)})", rows)
    con.close()


def test_missing_file_or_table_gives_an_empty_table_of_the_declared_columns(tmp_path):
    schema = declared_schema(COLUMNS)
    empty = read_table(tmp_path / "ops.sqlite", "postings", schema)
    assert empty.num_rows == 0 and empty.schema == schema
    assert not (tmp_path / "ops.sqlite").exists()  # reading never creates the file
    sqlite3.connect(tmp_path / "ops.sqlite").close()
    assert read_table(tmp_path / "ops.sqlite", "postings", schema).num_rows == 0


def test_rows_are_typed_and_timestamps_are_utc(tmp_path):
    path = tmp_path / "ops.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("create table postings (external_id text, attempts integer, created_at text, extra text)")
        con.executemany(
            "insert into postings values (?, ?, ?, ?)",
            [
                ("bill-in_1", 2, "2026-10-31T22:00:00+01:00", "x"),
                ("bill-in_2", "3", "2026-10-31 21:00:00", "y"),  # naive: UTC by the design's rule
                ("bill-in_3", None, 1793487600, None),  # epoch seconds
            ],
        )
    con.close()
    table = read_table(path, "postings", declared_schema(COLUMNS))
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    rows = table.to_pylist()
    assert [r["attempts"] for r in rows] == [2, 3, None]
    assert rows[0]["created_at"] == datetime(2026, 10, 31, 21, 0, tzinfo=UTC)
    assert rows[1]["created_at"] == datetime(2026, 10, 31, 21, 0, tzinfo=UTC)
    assert rows[2]["created_at"] == datetime.fromtimestamp(1793487600, tz=UTC)
    assert [r["last_error_code"] for r in rows] == [None, None, None]  # declared, not in the table yet
    assert "extra" not in table.column_names  # undeclared columns stay out until declared in YAML


def test_money_or_float_types_are_refused():
    with pytest.raises(ValueError, match="no money or floats"):
        arrow_type("double")
    assert arrow_type(None) == pa.string() and arrow_type("BIGINT") == pa.int64()


@pytest.mark.slow
def test_build_reads_the_ledger_with_and_without_ops_sqlite(raw_db, tmp_path):
    project = copy_project(tmp_path / "dbt_project", only_ops=True)
    data = fresh_data_dir(raw_db, tmp_path / "data")

    before_first_push = run_build(data, project_dir=project)
    assert before_first_push.ok, format_summary(before_first_push)
    assert not (data / "ops.sqlite").exists()
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from staging.stg_ops__postings").fetchone() == (0,)
        types = dict(
            con.execute("select column_name, column_type from (describe staging.stg_ops__postings)").fetchall()
        )
    assert types["attempts"] == "BIGINT" and types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["posting_state"] == "VARCHAR"

    write_ledger(
        data / "ops.sqlite",
        [
            ("bill-in_1", "invoice", "in_1", "ab" * 32, "posted", "101", 1, None, None, None, "c-1",
             "2026-10-31T21:00:00Z", "2026-10-31T21:00:05Z", None),
            ("bill-in_2", "invoice", "in_2", "cd" * 32, "rejected", None, 2, "INVALID_FLD_VALUE", "closed period",
             "tranDate", "c-2", "2026-10-31T21:00:00Z", "2026-10-31T21:01:00Z", None),
        ],
    )  # fmt: skip
    after_push = run_build(data, project_dir=project)
    assert after_push.ok, format_summary(after_push)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        rows = con.execute(
            "select external_id, posting_state, attempts, last_error_code, updated_at"
            " from staging.stg_ops__postings order by 1"
        ).fetchall()
    assert rows == [
        ("bill-in_1", "posted", 1, None, datetime(2026, 10, 31, 21, 0, 5, tzinfo=UTC)),
        ("bill-in_2", "rejected", 2, "INVALID_FLD_VALUE", datetime(2026, 10, 31, 21, 1, tzinfo=UTC)),
    ]
