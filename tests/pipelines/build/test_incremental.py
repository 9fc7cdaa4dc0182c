"""Incremental staging (dbt_project/macros/incremental.sql, pipelines/build/incremental.py) on the S scenario:
a build parses only the raw rows that changed, ends with the rows a build from scratch gives, and starts
from scratch when the SQL that built the rows changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.build.incremental import STATE_FILE
from pipelines.build.runner import run_build
from pipelines.ingest.runner import raw_path
from tests.pipelines.build.conftest import copy_project, fresh_data_dir

MODELS = ("stg_billing__invoices", "stg_billing__invoice_lines", "stg_billing__charges")
SELECT = " ".join(f"+{m}" for m in MODELS)
NOW = "2026-10-31T23:00:00Z"


def build(data: Path, project: Path, **kwargs):
    result = run_build(data, now=NOW, select=SELECT, project_dir=project, **kwargs)
    assert result.ok, (result.error, [f.describe() for f in result.failures])
    return result


def rows(data: Path, model: str) -> list[tuple]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(f"select * from staging.{model} order by all").fetchall()


def raw(data: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(raw_path(data))) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("incremental") / "dbt_project")


def test_a_build_parses_only_changed_rows_and_ends_as_a_full_build(raw_db, project, tmp_path):
    data = fresh_data_dir(raw_db, tmp_path / "data")
    first = build(data, project)
    assert sorted(first.rebuilt) == sorted(MODELS)  # nothing recorded yet: built in full
    state = json.loads((data / "dbt" / STATE_FILE).read_text())
    assert sorted(state) == sorted(f"model.q2c.{m}" for m in MODELS)

    # the ingest stored a newer state of one invoice and one charge; raw lost one line (reloaded from scratch)
    open_invoice = "select id, _q2c_state_version from raw_billing.invoices where status = 'open' limit 1"
    invoice, version = raw(data, open_invoice)[0]
    raw(
        data,
        "update raw_billing.invoices set status = 'paid', amount_paid = total, amount_remaining = 0,"
        " _q2c_state_version = _q2c_state_version + 1 where id = ?",
        [invoice],
    )
    charge = raw(data, "select min(id) from raw_billing.charges")[0][0]
    raw(
        data,
        "update raw_billing.charges set status = 'failed', _q2c_state_version = _q2c_state_version + 1 where id = ?",
        [charge],
    )
    line = raw(data, "select min(id) from raw_billing.invoice_lines")[0][0]
    raw(data, "delete from raw_billing.invoice_lines where id = ?", [line])

    second = build(data, project)
    assert second.rebuilt == []
    invoices = {r[0]: r for r in rows(data, "stg_billing__invoices")}
    assert invoices[invoice][4] == "paid"  # invoice_status
    assert invoices[invoice][-1] == version + 1

    scratch = tmp_path / "scratch"
    shutil.copytree(data, scratch)
    build(scratch, project, full_refresh=True)
    for model in MODELS:
        assert rows(data, model) == rows(scratch, model), model
    assert line not in {r[0] for r in rows(data, "stg_billing__invoice_lines")}


def test_a_changed_macro_rebuilds_the_incremental_models_from_scratch(raw_db, project, tmp_path):
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
    assert build(data, project).rebuilt == []
