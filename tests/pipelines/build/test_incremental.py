"""Incremental staging and publish bodies (dbt_project/macros/incremental.sql, pipelines/build/incremental.py) on
the S scenario: a build parses only the raw rows that changed and builds only the bodies whose input changed,
ends with the rows a build from scratch gives, and starts from scratch when the SQL that built the rows
changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.build.incremental import STATE_FILE
from pipelines.build.runner import run_build
from pipelines.data_dir import raw_path
from tests.pipelines.build.conftest import copy_project, fresh_data_dir

MODELS = ("stg_billing__invoices", "stg_billing__invoice_lines", "stg_billing__charges")
PUBLISHED = ("erp_invoices", "erp_credit_memos", "erp_customer_payments")
LINES = ("erp_invoice_lines", "erp_credit_memo_lines")
SCHEDULE = "int_publish__revenue_schedule"
SELECT = " ".join(f"+{m}" for m in MODELS)
SELECT_PUBLISHED = " ".join(f"+{m}" for m in (*PUBLISHED, *LINES, SCHEDULE))
NOW = "2026-10-31T23:00:00Z"


def build(data: Path, project: Path, select: str = SELECT, **kwargs):
    result = run_build(data, now=NOW, select=select, project_dir=project, **kwargs)
    assert result.ok, (result.error, [f.describe() for f in result.failures])
    return result


def rows(data: Path, model: str, schema: str = "staging") -> list[tuple]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(f"select * from {schema}.{model} order by all").fetchall()


def raw(data: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(raw_path(data))) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("incremental") / "dbt_project")


def test_a_build_parses_only_changed_rows_and_ends_as_a_full_build(raw_db, project, tmp_path):
    data = fresh_data_dir(raw_db, tmp_path / "data")
    first = build(data, project, SELECT_PUBLISHED)
    # the incremental models: those selected, and the ones they read
    incremental = (*MODELS, *PUBLISHED, *LINES, SCHEDULE, "erp_transactions", "invoices", "invoice_lines")
    assert sorted(first.rebuilt) == sorted(incremental)  # nothing recorded yet: built in full
    state = json.loads((data / "dbt" / STATE_FILE).read_text())
    assert sorted(state) == sorted(f"model.q2c.{m}" for m in incremental)
    schedule = rows(data, SCHEDULE, "intermediate")

    # the ingest stored a newer state of an invoice (paid), of a line of a posted invoice (its text) and of a
    # charge, each row written by that run (its `_q2c_load_seq`, above every one raw held)
    run = f"_q2c_load_seq = {raw(data, 'select max(_q2c_load_seq) + 1 from raw_billing.invoices')[0][0]}"
    open_invoice = "select id, _q2c_state_version from raw_billing.invoices where status = 'open' limit 1"
    invoice, version = raw(data, open_invoice)[0]
    raw(
        data,
        "update raw_billing.invoices set status = 'paid', amount_paid = total, amount_remaining = 0,"
        " _q2c_state_version = _q2c_state_version + 1, " + run + " where id = ?",
        [invoice],
    )
    posted = rows(data, "erp_invoices", "publish")[0][3]  # invoice_id
    changed_line = raw(data, "select min(id) from raw_billing.invoice_lines where invoice = ?", [posted])[0][0]
    raw(
        data,
        "update raw_billing.invoice_lines set payload = json_merge_patch(payload, ?),"
        " _q2c_state_version = _q2c_state_version + 1, " + run + " where id = ?",
        ['{"description": "Seats (amended)"}', changed_line],
    )
    # an invoice whose lines the revenue schedule allocates is voided: their months go
    voided = next(r[1] for r in schedule if r[1] not in (invoice, posted))  # invoice_id
    assert voided in {r[2] for r in rows(data, "erp_invoice_lines", "publish")}  # invoice_id
    raw(
        data,
        "update raw_billing.invoices set status = 'void', _q2c_state_version = _q2c_state_version + 1, "
        + run
        + " where id = ?",
        [voided],
    )
    charge = raw(data, "select min(id) from raw_billing.charges")[0][0]
    raw(
        data,
        "update raw_billing.charges set status = 'failed', _q2c_state_version = _q2c_state_version + 1, "
        + run
        + " where id = ?",
        [charge],
    )

    second = build(data, project, SELECT_PUBLISHED)
    assert second.rebuilt == []
    invoices = {r[0]: r for r in rows(data, "stg_billing__invoices")}
    assert invoices[invoice][4] == "paid"  # invoice_status
    assert invoices[invoice][-2] == version + 1  # _q2c_state_version (then _q2c_load_seq)
    bodies = {r[3]: r for r in rows(data, "erp_invoices", "publish")}
    assert "Seats (amended)" in bodies[posted][-3]  # payload
    months = rows(data, SCHEDULE, "intermediate")
    assert voided not in {r[1] for r in months}
    assert len(months) < len(schedule)
    lines = rows(data, "erp_invoice_lines", "publish")
    assert {r[4] for r in lines if r[3] == changed_line} == {"Seats (amended)"}  # invoice_line_id: line_description
    assert voided not in {r[2] for r in lines}  # invoice_id

    scratch = tmp_path / "scratch"
    shutil.copytree(data, scratch)
    build(scratch, project, SELECT_PUBLISHED, full_refresh=True)
    for model in MODELS:
        assert rows(data, model) == rows(scratch, model), model
    for model in (*PUBLISHED, *LINES):
        assert rows(data, model, "publish") == rows(scratch, model, "publish"), model
    assert months == rows(scratch, SCHEDULE, "intermediate")


def test_a_changed_macro_rebuilds_the_incremental_models_from_scratch_and_lost_rows_go(raw_db, project, tmp_path):
    data = fresh_data_dir(raw_db, tmp_path / "data")
    build(data, project)
    assert build(data, project).rebuilt == []

    macros = project / "macros" / "money.sql"
    original = macros.read_text()
    try:
        macros.write_text(original + "\n{#- a changed macro -#}\n")
        assert sorted(build(data, project).rebuilt) == sorted(MODELS)
    finally:
        macros.write_text(original)
    assert sorted(build(data, project).rebuilt) == sorted(MODELS)  # changed back: built with that SQL again

    # raw was reloaded from scratch (every row from a new first load) and lost a line: the staging row goes too
    line = raw(data, "select max(id) from raw_billing.invoice_lines")[0][0]
    raw(data, "delete from raw_billing.invoice_lines where id = ?", [line])
    raw(data, "update raw_billing.invoice_lines set _q2c_load_seq = _q2c_load_seq + 86400000000")  # a day later
    assert build(data, project).rebuilt == []
    assert line not in {r[0] for r in rows(data, "stg_billing__invoice_lines")}

    # raw put back from a copy taken before the newest load, which brought a new invoice: that invoice's row goes
    invoice = raw(data, "select max(id) from raw_billing.invoices")[0][0]
    newest = raw(data, "select max(_q2c_load_seq) from raw_billing.invoices")[0][0]
    raw(
        data,
        "update raw_billing.invoices set _q2c_load_seq = ?, _q2c_state_version = _q2c_state_version + 1 where id = ?",
        [newest + 1, invoice],
    )
    assert build(data, project).rebuilt == []
    raw(data, "delete from raw_billing.invoices where id = ?", [invoice])
    assert build(data, project).rebuilt == []
    assert invoice not in {r[0] for r in rows(data, "stg_billing__invoices")}


def test_a_model_reading_a_changed_model_is_rebuilt_from_scratch(raw_db, project, tmp_path):
    # `invoices` finds its changed rows by their raw rows' sequences: staging SQL that now gives other values for
    # the same raw rows moves none of them, so its rows are right only if it builds again from scratch
    data = fresh_data_dir(raw_db, tmp_path / "data")
    build(data, project, LINES_SELECT)
    assert build(data, project, LINES_SELECT).rebuilt == []

    staging = project / "models" / "staging" / "billing" / "stg_billing__invoices.sql"
    original = staging.read_text()
    numbered = "{{ json_field('parsed.payload_fields', paths, '$.number') }} as invoice_number"
    assert numbered in original
    try:
        staging.write_text(original.replace(numbered, f"'No. ' || {numbered}"))
        assert sorted(build(data, project, LINES_SELECT).rebuilt) == ["invoices", "stg_billing__invoices"]
        numbers = {r[1] for r in rows(data, "invoices", "canonical") if r[1] is not None}
        assert numbers and all(n.startswith("No. ") for n in numbers)
    finally:
        staging.write_text(original)


def test_erp_transactions_write_again_only_the_billing_keys_that_changed(raw_db, project, tmp_path):
    data = fresh_data_dir(raw_db, tmp_path / "data")
    build(data, project, "+erp_transactions")
    held = {r[0]: r for r in rows(data, "erp_transactions", "canonical")}
    invoices = sorted(
        (r for r in held.values() if r[1] == "invoice" and r[3] and r[4] and r[7] == 1),
        key=lambda r: int(r[0]),
    )  # transaction_id, record_type, transaction_number, external_id, billing_key, …, records_with_billing_key
    moved, kept, gone = invoices[0], invoices[1], invoices[2]
    taxed = raw(
        data,
        'select min("transaction") from raw_erp.transactionline where taxline and "transaction" not in (?, ?, ?)',
        [moved[0], kept[0], gone[0]],
    )[0][0]

    # the ERP's later state, as the next ingest writes it (the rows it writes carry its run's `_q2c_load_seq`): an
    # invoice now carries another's billing key (no externalId), one was deleted, and a tax line of a third changed
    # (the ingest writes the transaction and all its lines again)
    seq = raw(data, "select max(_q2c_load_seq) + 1 from raw_erp.transaction")[0][0]
    raw(
        data,
        "update raw_erp.transaction set externalid = null, custbody_q2c_billing_id = ?, _q2c_load_seq = ? where id = ?",
        [kept[4], seq, moved[0]],
    )
    raw(data, "delete from raw_erp.transaction where id = ?", [gone[0]])
    raw(data, 'delete from raw_erp.transactionline where "transaction" = ?', [gone[0]])
    raw(data, "update raw_erp.transaction set _q2c_load_seq = ? where id = ?", [seq, taxed])
    raw(
        data,
        "update raw_erp.transactionline set _q2c_load_seq = ?, foreignamount = foreignamount + case when taxline"
        ' then 1 else 0 end where "transaction" = ?',
        [seq, taxed],
    )
    # a held record of an untouched billing key, marked: the build keeps it as it is
    untouched = next(r for r in invoices[3:] if r[0] != taxed)
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute(
            "update canonical.erp_transactions set transaction_number = 'kept' where transaction_id = ?", [untouched[0]]
        )

    assert build(data, project, "+erp_transactions").rebuilt == []
    now = {r[0]: r for r in rows(data, "erp_transactions", "canonical")}
    assert now[untouched[0]][2] == "kept"
    assert gone[0] not in now
    assert now[moved[0]][4] == kept[4] and now[moved[0]][7] == now[kept[0]][7] == 2  # one key, two records
    assert now[kept[0]][6] and not now[moved[0]][6]  # the primary: the one with an externalId
    assert now[taxed][17] != held[taxed][17]  # tax_total

    with duckdb.connect(str(data / "warehouse.duckdb")) as con:  # the mark off: the rest is a full build's
        con.execute(
            "update canonical.erp_transactions set transaction_number = ? where transaction_id = ?",
            [untouched[2], untouched[0]],
        )
    scratch = tmp_path / "scratch"
    shutil.copytree(data, scratch)
    build(scratch, project, "+erp_transactions", full_refresh=True)
    assert rows(data, "erp_transactions", "canonical") == rows(scratch, "erp_transactions", "canonical")


LINES_SELECT = "+invoice_lines +invoices"  # its relationships test reads invoices


def test_invoices_write_again_only_the_invoices_whose_inputs_changed(raw_db, project, tmp_path):
    data = fresh_data_dir(raw_db, tmp_path / "data")
    build(data, project, LINES_SELECT)
    held = {r[0]: r for r in rows(data, "invoices", "canonical")}
    linked = sorted(
        i for i, r in held.items() if r[30] is not None and r[31] == "matched"
    )  # erp_customer_id, erp_link_status
    voided, deleted = linked[0], linked[1]
    unlinked_customer = next(held[i][2] for i in linked[2:] if held[i][2] not in (held[voided][2], held[deleted][2]))
    untouched = next(i for i in linked[2:] if held[i][2] != unlinked_customer)

    # what the next ingests write (each row with its run's `_q2c_load_seq`): an invoice voided, one deleted in
    # billing (with its lines), and an ERP customer that lost its billing externalId (its invoices now need one)
    seq = raw(data, "select max(_q2c_load_seq) + 1 from raw_billing.invoices")[0][0]
    newer = "_q2c_state_version = _q2c_state_version + 1, _q2c_load_seq = ?"
    raw(data, f"update raw_billing.invoices set status = 'void', {newer} where id = ?", [seq, voided])
    raw(data, f"update raw_billing.invoices set deleted = true, {newer} where id = ?", [seq, deleted])
    raw(data, f"update raw_billing.invoice_lines set deleted = true, {newer} where invoice = ?", [seq, deleted])
    raw(data, "update raw_erp.customer set externalid = null where externalid = ?", [f"bill-{unlinked_customer}"])
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:  # a held row marked: the build keeps it as it is
        con.execute("update canonical.invoices set invoice_number = 'kept' where invoice_id = ?", [untouched])

    assert build(data, project, LINES_SELECT).rebuilt == []
    now = {r[0]: r for r in rows(data, "invoices", "canonical")}
    assert now[untouched][1] == "kept"
    assert deleted not in now
    assert now[voided][4] == "void" and not now[voided][38]  # invoice_status, is_postable
    unlinked = [r for r in now.values() if r[2] == unlinked_customer]
    assert unlinked and all(r[30] is None and r[31] == "missing" and r[39] for r in unlinked)  # needs_erp_customer

    with duckdb.connect(str(data / "warehouse.duckdb")) as con:  # the mark off: the rest is a full build's
        con.execute(
            "update canonical.invoices set invoice_number = ? where invoice_id = ?", [held[untouched][1], untouched]
        )
    scratch = tmp_path / "scratch"
    shutil.copytree(data, scratch)
    build(scratch, project, LINES_SELECT, full_refresh=True)
    assert rows(data, "invoices", "canonical") == rows(scratch, "invoices", "canonical")


def test_invoice_lines_write_again_only_the_invoices_that_changed(raw_db, project, tmp_path):
    data = fresh_data_dir(raw_db, tmp_path / "data")
    build(data, project, LINES_SELECT)
    held = rows(data, "invoice_lines", "canonical")  # invoice_line_id, invoice_id, line_number, …, erp_item_id (17)
    by_invoice: dict[str, list[tuple]] = {}
    for row in held:
        by_invoice.setdefault(row[1], []).append(row)
    item_id = next(r[17] for r in held if r[17] is not None)
    product = next(r[4] for r in held if r[17] == item_id)
    # invoices of two lines or more, none of them of that product
    multi = sorted(i for i, lines in by_invoice.items() if len(lines) > 1 and product not in {r[4] for r in lines})
    amended, shortened, untouched = multi[0], multi[1], multi[2]
    changed_line, deleted_line = by_invoice[amended][0][0], by_invoice[shortened][0][0]

    # what a later ingest stored: one line's text changed, one line deleted (both in a newer load), and the ERP item
    # a product maps to made inactive; and a kept row marked, to see that it is not written again
    newer = "_q2c_state_version = _q2c_state_version + 1, _q2c_load_seq = _q2c_load_seq + 1"
    raw(
        data,
        f"update raw_billing.invoice_lines set payload = json_merge_patch(payload, ?), {newer} where id = ?",
        ['{"description": "Seats (amended)"}', changed_line],
    )
    raw(data, f"update raw_billing.invoice_lines set deleted = true, {newer} where id = ?", [deleted_line])
    raw(data, "update raw_erp.item set isinactive = true where id = ?", [item_id])
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute("update canonical.invoice_lines set line_description = 'kept' where invoice_id = ?", [untouched])

    assert build(data, project, LINES_SELECT).rebuilt == []
    now = rows(data, "invoice_lines", "canonical")
    assert {r[3] for r in now if r[1] == untouched} == {"kept"}  # line_description: not written again
    assert {r[3] for r in now if r[0] == changed_line} == {"Seats (amended)"}
    assert deleted_line not in {r[0] for r in now}
    assert sorted(r[2] for r in now if r[1] == shortened) == list(range(1, len(by_invoice[shortened])))
    assert {r[17] for r in now if r[4] == product} != {item_id}  # erp_item_id: the item no longer maps

    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        con.execute(
            "update canonical.invoice_lines as l set line_description = s.line_description"
            " from staging.stg_billing__invoice_lines as s where s.invoice_line_id = l.invoice_line_id"
            " and l.invoice_id = ?",
            [untouched],
        )
    scratch = tmp_path / "scratch"
    shutil.copytree(data, scratch)
    build(scratch, project, LINES_SELECT, full_refresh=True)
    assert rows(data, "invoice_lines", "canonical") == rows(scratch, "invoice_lines", "canonical")
