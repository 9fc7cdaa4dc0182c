"""Incremental staging cut by the raw rows' load sequence (dbt_project/macros/incremental.sql), end to end on the S
scenario: changes made through the billing sandbox's API, ingested by the billing source, built by dbt. A build reads
only the raw rows at or above the largest sequence the model holds, builds exactly the changed rows, and ends with
the rows a build from scratch gives; rows of the newest built load that land after a build are still built; a raw
from before the column builds, and goes on building after a run adds it."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.build.runner import run_build
from pipelines.data_dir import raw_path
from pipelines.sources.billing import settings
from pipelines.sources.raw_tables import RawTable
from tests.pipelines.build.conftest import copy_project
from tests.pipelines.conftest import endpoints_of
from tests.pipelines.sources.billing.support import fixture_objects, ingest, sdk, write

MODELS = ("stg_billing__invoices", "stg_billing__invoice_lines", "stg_billing__charges")
KEYS = {"stg_billing__invoices": "invoice_id", "stg_billing__invoice_lines": "invoice_line_id"}
KEYS["stg_billing__charges"] = "charge_id"
SELECT = " ".join(f"+{m}" for m in MODELS)
NOW = "2026-10-31T23:00:00Z"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("load-seq") / "dbt_project")


def build(data: Path, project: Path, **kwargs):
    result = run_build(data, now=NOW, select=SELECT, project_dir=project, **kwargs)
    assert result.ok, (result.error, [f.describe() for f in result.failures])
    return result


def warehouse(data: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def raw(data: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(raw_path(data)), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def staged(data: Path) -> dict[str, list[tuple]]:
    return {m: warehouse(data, f"select * from staging.{m} order by all") for m in MODELS}


# a text column per model, stamped in a copy of the warehouse before a build: the rows the build wrote lose the stamp
STAMPED = {
    "stg_billing__invoices": "invoice_number",
    "stg_billing__invoice_lines": "line_description",
    "stg_billing__charges": "failure_code",
}
STAMP = "<not rebuilt>"


def rows_a_build_writes(data: Path, project: Path, tmp_path: Path) -> dict[str, set[str]]:
    """Per model, the keys of the rows the next build writes (found by building a stamped copy of the folder)."""
    copy = tmp_path / f"stamped-{len(list(tmp_path.glob('stamped-*')))}"
    shutil.copytree(data, copy)
    with duckdb.connect(str(copy / "warehouse.duckdb")) as con:
        for model, column in STAMPED.items():
            con.execute(f"update staging.{model} set {column} = ?", [STAMP])
    build(copy, project)
    return {
        m: {k for (k,) in warehouse(copy, f"select {KEYS[m]} from staging.{m} where {c} is distinct from '{STAMP}'")}
        for m, c in STAMPED.items()
    }


def run_sql(data: Path, model: str) -> str:
    """The model's SQL as the last build compiled it (dbt's target/compiled)."""
    (path,) = (data / "dbt" / "target" / "compiled").glob(f"**/{model}.sql")
    return path.read_text()


def assert_equals_a_full_build(data: Path, project: Path, tmp_path: Path) -> None:
    scratch = tmp_path / f"scratch-{len(list(tmp_path.glob('scratch-*')))}"
    shutil.copytree(data, scratch)
    build(scratch, project, full_refresh=True)
    assert staged(data) == staged(scratch)


def open_invoices(scenario_dir: Path, count: int) -> list[dict]:
    """Open invoices of distinct customers with a charge-free history here: paying one changes only its own rows."""
    found: list[dict] = []
    for invoice in fixture_objects(scenario_dir, "invoices"):
        if invoice["status"] == "open" and invoice["customer"] not in {i["customer"] for i in found}:
            found.append(invoice)
        if len(found) == count:
            return found
    raise AssertionError("the scenario has too few open invoices")


def pay(endpoint, invoice_id: str, key: str) -> str:
    """Pay the invoice through the API; the id of the charge that paid it."""
    v1 = sdk(endpoint).v1
    invoice = write(v1.invoices.pay, invoice_id, {"payment_method": "pm_card_visa"}, key=key)
    assert invoice.status == "paid"
    (payment,) = [p for p in v1.invoice_payments.list({"invoice": invoice_id}).data if p.status == "paid"]
    return v1.payment_intents.retrieve(payment.payment.payment_intent).latest_charge


def test_a_build_reads_from_the_largest_built_sequence_and_rebuilds_exactly_the_changed_rows(
    sandbox, scenario_dir, project, tmp_path
):
    endpoint = endpoints_of(sandbox)["billing"]
    data = tmp_path / "data"
    ingest(data, endpoint)
    (backfill_seq,) = raw(data, "select distinct _q2c_load_seq from raw_billing.invoices")[0]
    build(data, project)
    assert "_q2c_load_seq >" not in run_sql(data, "stg_billing__invoices")  # a full build: nothing cut
    assert {m: warehouse(data, f"select distinct _q2c_load_seq from staging.{m}") for m in MODELS} == {
        m: [(backfill_seq,)] for m in MODELS
    }

    (invoice,) = open_invoices(scenario_dir, 1)
    charge = pay(endpoint, invoice["id"], "seq-pay-1")
    ingest(data, endpoint)
    (change_seq,) = raw(data, "select _q2c_load_seq from raw_billing.invoices where id = ?", [invoice["id"]])[0]
    assert change_seq > backfill_seq

    # paying changes the invoice and creates its charge; its lines keep their state, so nothing to build there
    assert rows_a_build_writes(data, project, tmp_path) == {
        "stg_billing__invoices": {invoice["id"]},
        "stg_billing__invoice_lines": set(),
        "stg_billing__charges": {charge},
    }
    assert build(data, project).rebuilt == []
    for model in MODELS:  # the literal DuckDB prunes row groups with: every row of the backfill was built
        assert f"raw_rows._q2c_load_seq > {backfill_seq} and" in run_sql(data, model), model
    paid = (
        f"select invoice_status, _q2c_load_seq from staging.stg_billing__invoices where invoice_id = '{invoice['id']}'"
    )
    assert warehouse(data, paid) == [("paid", change_seq)]
    assert_equals_a_full_build(data, project, tmp_path)

    # a build with nothing new reads from the newest sequence and builds nothing
    assert rows_a_build_writes(data, project, tmp_path) == {m: set() for m in MODELS}
    build(data, project)
    assert f"raw_rows._q2c_load_seq > {change_seq} and" in run_sql(data, "stg_billing__invoices")


def without_load_seq(table: RawTable) -> RawTable:
    extra = {name: kind for name, kind in table.extra_columns.items() if name != settings.LOAD_SEQ}
    return dataclasses.replace(table, extra_columns=extra)


def test_a_raw_from_before_the_column_builds_and_gets_it_with_the_next_run(
    sandbox, scenario_dir, project, tmp_path, monkeypatch
):
    endpoint = endpoints_of(sandbox)["billing"]
    data = tmp_path / "data"
    with monkeypatch.context() as before_the_column:  # the source as it was: its tables without the column
        collections = tuple(
            dataclasses.replace(c, table=without_load_seq(c.table), child=c.child and without_load_seq(c.child))
            for c in settings.COLLECTIONS
        )
        before_the_column.setattr(settings, "COLLECTIONS", collections)
        before_the_column.setattr(settings, "EVENTS", without_load_seq(settings.EVENTS))
        before_the_column.setattr(settings, "BALANCE_TRANSACTIONS", without_load_seq(settings.BALANCE_TRANSACTIONS))
        # the backfill's worker processes import the settings afresh: the old source lists in this process
        before_the_column.setenv("SOURCES__BILLING__LISTING_WORKERS", "0")
        ingest(data, endpoint)
    columns = "select column_name from information_schema.columns where table_schema = 'raw_billing'"
    assert settings.LOAD_SEQ not in {c for (c,) in raw(data, columns)}

    build(data, project)  # raw without the column: the models hold NULL in it
    assert {m: warehouse(data, f"select distinct _q2c_load_seq from staging.{m}") for m in MODELS} == {
        m: [(None,)] for m in MODELS
    }

    first, second = open_invoices(scenario_dir, 2)
    first_charge = pay(endpoint, first["id"], "seq-old-pay-1")
    ingest(data, endpoint)  # dlt adds the column: the rows loaded before hold NULL, the changed ones this run's
    invoice_seqs = dict(raw(data, "select id, _q2c_load_seq from raw_billing.invoices"))
    (first_seq,) = {s for s in invoice_seqs.values() if s is not None}
    assert [i for i, s in invoice_seqs.items() if s is not None] == [first["id"]]
    # dlt adds a column to the tables a run writes: no line changed, so invoice_lines is still without it
    lines = columns + " and table_name = 'invoice_lines'"
    assert settings.LOAD_SEQ not in {c for (c,) in raw(data, lines)}

    assert rows_a_build_writes(data, project, tmp_path) == {
        "stg_billing__invoices": {first["id"]},
        "stg_billing__invoice_lines": set(),
        "stg_billing__charges": {first_charge},
    }
    assert build(data, project).rebuilt == []
    assert "_q2c_load_seq >" not in run_sql(data, "stg_billing__invoices")  # the model holds no sequence yet
    assert_equals_a_full_build(data, project, tmp_path)

    second_charge = pay(endpoint, second["id"], "seq-old-pay-2")
    ingest(data, endpoint)
    (second_seq,) = raw(data, "select _q2c_load_seq from raw_billing.invoices where id = ?", [second["id"]])[0]
    assert second_seq > first_seq

    assert rows_a_build_writes(data, project, tmp_path) == {
        "stg_billing__invoices": {second["id"]},
        "stg_billing__invoice_lines": set(),
        "stg_billing__charges": {second_charge},
    }
    build(data, project)
    assert f"raw_rows._q2c_load_seq > {first_seq} and" in run_sql(data, "stg_billing__invoices")
    assert_equals_a_full_build(data, project, tmp_path)


def test_rows_of_the_newest_built_load_that_land_after_the_build_are_built(sandbox, project, tmp_path):
    """A first backfill appends file by file: a build can read some files of a load before the rest lands. The
    build after that reads the load's sequence again (`>=`), and then no longer (`>`)."""
    endpoint = endpoints_of(sandbox)["billing"]
    data = tmp_path / "data"
    ingest(data, endpoint)
    (backfill_seq,) = raw(data, "select distinct _q2c_load_seq from raw_billing.invoices")[0]
    late = "(select id from raw_billing.invoice_lines order by id limit 7)"
    with duckdb.connect(str(raw_path(data))) as con:  # the last file of the lines has not landed yet
        con.execute(
            f"create table raw_billing.late_lines as select * from raw_billing.invoice_lines where id in {late}"
        )
        con.execute("delete from raw_billing.invoice_lines where id in (select id from raw_billing.late_lines)")
    build(data, project)
    with duckdb.connect(str(raw_path(data))) as con:  # now it has, with its load's sequence
        late_ids = {i for (i,) in con.execute("select id from raw_billing.late_lines").fetchall()}
        con.execute("insert into raw_billing.invoice_lines select * from raw_billing.late_lines")
        con.execute("drop table raw_billing.late_lines")
    assert len(late_ids) == 7

    assert rows_a_build_writes(data, project, tmp_path)["stg_billing__invoice_lines"] == late_ids
    build(data, project)
    assert f"raw_rows._q2c_load_seq >= {backfill_seq} and" in run_sql(data, "stg_billing__invoice_lines")
    assert late_ids <= {k for (k,) in warehouse(data, "select invoice_line_id from staging.stg_billing__invoice_lines")}
    assert_equals_a_full_build(data, project, tmp_path)

    build(data, project)  # all of the load is built now: it is not read again
    assert f"raw_rows._q2c_load_seq > {backfill_seq} and" in run_sql(data, "stg_billing__invoice_lines")


def test_late_rows_of_the_newest_built_load_are_built_when_as_many_of_its_rows_moved_on(sandbox, project, tmp_path):
    """The boundary is counted, not joined (macros/incremental.sql): raw's rows at B, minus the held rows at B, plus
    the held rows at B whose key raw now holds at a later load. Here the rest of B lands (7 lines) and a later load
    supersedes 7 other lines of B before the next build: raw and the model then hold as many rows at B, and only the
    third count tells the late lines are unbuilt. The build reads B again, builds both, and ends as a full build."""
    endpoint = endpoints_of(sandbox)["billing"]
    data = tmp_path / "data"
    ingest(data, endpoint)
    (backfill_seq,) = raw(data, "select distinct _q2c_load_seq from raw_billing.invoice_lines")[0]
    late = "(select id from raw_billing.invoice_lines order by id limit 7)"
    moved = "(select id from raw_billing.invoice_lines order by id desc limit 7)"
    with duckdb.connect(str(raw_path(data))) as con:
        con.execute(
            f"create table raw_billing.late_lines as select * from raw_billing.invoice_lines where id in {late}"
        )
        con.execute("delete from raw_billing.invoice_lines where id in (select id from raw_billing.late_lines)")
    build(data, project)
    with duckdb.connect(str(raw_path(data))) as con:
        con.execute("insert into raw_billing.invoice_lines select * from raw_billing.late_lines")
        con.execute("drop table raw_billing.late_lines")
        con.execute(
            "update raw_billing.invoice_lines set _q2c_load_seq = ?, _q2c_state_version = _q2c_state_version + 1,"
            f' payload = json_merge_patch(payload, \'{{"description": "superseded"}}\') where id in {moved}',
            [backfill_seq + 1],
        )
        at_boundary = con.execute(
            "select count(*) from raw_billing.invoice_lines where _q2c_load_seq = ?", [backfill_seq]
        ).fetchone()[0]
    held_at_boundary = warehouse(
        data, f"select count(*) from staging.stg_billing__invoice_lines where _q2c_load_seq = {backfill_seq}"
    )[0][0]
    assert at_boundary == held_at_boundary  # counts of B alone cannot tell

    written = rows_a_build_writes(data, project, tmp_path)["stg_billing__invoice_lines"]
    moved_ids = {i for (i,) in raw(data, f"select id from raw_billing.invoice_lines where id in {moved}")}
    late_ids = {i for (i,) in raw(data, f"select id from raw_billing.invoice_lines where id in {late}")}
    assert written == late_ids | moved_ids and len(written) == 14
    build(data, project)
    assert f"raw_rows._q2c_load_seq >= {backfill_seq} and" in run_sql(data, "stg_billing__invoice_lines")
    lines = dict(warehouse(data, "select invoice_line_id, line_description from staging.stg_billing__invoice_lines"))
    assert late_ids <= set(lines) and {lines[i] for i in moved_ids} == {"superseded"}
    assert_equals_a_full_build(data, project, tmp_path)

    build(data, project)  # B is built whole and the later load too: the boundary is that load, read no more
    assert f"raw_rows._q2c_load_seq > {backfill_seq + 1} and" in run_sql(data, "stg_billing__invoice_lines")
