"""Tables kept by their changed rows (dbt_project/macros/changed_rows.sql) on the S scenario: after raw changed, a
build writes only the rows that differ from what the table holds (new, changed or gone) and ends with exactly the
rows a build from scratch gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.build.runner import run_build
from pipelines.ingest.runner import raw_path
from tests.pipelines.build.conftest import changed_rows_models, copy_project, fresh_data_dir

NOW = "2026-10-31T23:00:00Z"
MODELS = changed_rows_models()
# with erp_invoices, which a relationship test of erp_invoice_lines reads
SELECT = " ".join(f"+{m}" for m in (*MODELS, "erp_invoices"))


def build(data: Path, project: Path, **kwargs):
    result = run_build(data, now=NOW, select=SELECT, project_dir=project, **kwargs)
    assert result.ok, (result.error, [f.describe() for f in result.failures])
    return result


def schema_of(con: duckdb.DuckDBPyConnection, model: str) -> str:
    return con.execute(
        "select table_schema from information_schema.tables where table_name = ? and table_type = 'BASE TABLE'",
        [model],
    ).fetchone()[0]


def rows(data: Path, model: str) -> list[tuple]:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(f"select * from {schema_of(con, model)}.{model} order by all").fetchall()


def keyed(data: Path, model: str, column: str) -> dict:
    """key → the value of ``column`` in the model's table."""
    key = MODELS[model][0]
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        return dict(con.execute(f"select {key}, {column} from {schema_of(con, model)}.{model}").fetchall())


def raw(data: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(raw_path(data))) as con:
        return con.execute(sql, params or []).fetchall()


WRITTEN = "main.q2c_written"  # (model, written, gone): what each build of a model kept by changed rows wrote
# the strategy's last statement, before which the test's copy of the project records what the build wrote
LAST = "    drop table {{ gone }}"
RECORD = (
    f"    create table if not exists {WRITTEN} (model varchar, written bigint, gone bigint);\n"
    f"    insert into {WRITTEN} select '{{{{ target.identifier }}}}',"
    " (select count(*) from {{ emitted }}) - (select count(*) from {{ gone }}), (select count(*) from {{ gone }});\n"
)


def written(data: Path) -> dict[str, tuple[int, int]]:
    """model → (rows written, rows deleted as gone) by the builds since the last call; a model built from scratch
    (or not built) has no entry."""
    with duckdb.connect(str(data / "warehouse.duckdb")) as con:
        try:
            found = con.execute(f"select model, written, gone from {WRITTEN}").fetchall()
        except duckdb.CatalogException:
            return {}
        con.execute(f"delete from {WRITTEN}")
    return {model: (w, g) for model, w, g in found}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("changed-rows") / "dbt_project")
    macros = project / "macros" / "changed_rows.sql"
    text = macros.read_text(encoding="utf-8")
    assert text.count(LAST) == 1
    macros.write_text(text.replace(LAST, RECORD + LAST), encoding="utf-8")
    return project


def test_the_models_kept_by_changed_rows_are_the_large_canonical_and_publish_inputs():
    assert {"invoices", "invoice_lines", "payments", "erp_transactions", "int_publish__revenue_schedule"} <= set(MODELS)
    assert MODELS["int_publish__revenue_schedule"] == ["invoice_line_id", "revenue_month"]


def test_a_build_writes_only_the_changed_rows_and_ends_as_a_build_from_scratch(raw_db, project, tmp_path):
    data = fresh_data_dir(raw_db, tmp_path / "data")
    build(data, project)
    assert written(data) == {}  # built from scratch
    full = {m: len(rows(data, m)) for m in MODELS}
    assert all(full.values()), full
    status_before = keyed(data, "invoices", "invoice_status")

    # an open invoice paid, and an ERP transaction deleted in the ERP
    invoice = raw(data, "select id from raw_billing.invoices where status = 'open' order by id limit 1")[0][0]
    raw(
        data,
        "update raw_billing.invoices set status = 'paid', amount_paid = total, amount_remaining = 0,"
        " _q2c_state_version = _q2c_state_version + 1 where id = ?",
        [invoice],
    )
    transaction = raw(data, "select min(id) from raw_erp.transaction where not coalesce(_q2c_deleted, false)")[0][0]
    raw(data, "update raw_erp.transaction set _q2c_deleted = true where id = ?", [transaction])

    second = build(data, project)
    assert second.rebuilt == []  # nothing built from scratch: the tables were kept
    status_after = keyed(data, "invoices", "invoice_status")
    assert status_before[invoice] == "open" and status_after[invoice] == "paid"
    assert {k: v for k, v in status_after.items() if k != invoice} == {
        k: v for k, v in status_before.items() if k != invoice
    }
    assert str(transaction) not in {str(k) for k in keyed(data, "erp_transactions", "record_type")}

    wrote = written(data)
    assert sorted(wrote) == sorted(MODELS)
    assert wrote["invoices"] == (1, 0)  # the paid invoice, not the table
    assert wrote["erp_transactions"] == (0, 1)  # the deleted transaction's row gone, nothing written
    for model, count in full.items():
        assert sum(wrote[model]) < count / 10, (model, wrote[model], count)

    scratch = tmp_path / "scratch"
    shutil.copytree(data, scratch)
    build(scratch, project, full_refresh=True)
    for model in MODELS:
        assert rows(data, model) == rows(scratch, model), model


def unique_column_sets(manifest: dict, model: str) -> list[list[str]]:
    """The column sets a data test of ``model`` holds unique (``unique`` and ``unique_combination``)."""
    found = []
    for node in manifest["nodes"].values():
        meta = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or f"model.q2c.{model}" not in node["depends_on"]["nodes"]:
            continue
        if meta.get("name") == "unique":
            found.append([node["column_name"]])
        elif meta.get("name") == "unique_combination":
            found.append(list(meta["kwargs"].get("arguments", meta["kwargs"])["columns"]))
    return found


def test_a_build_with_nothing_changed_writes_nothing(raw_db, project, tmp_path):
    data = fresh_data_dir(raw_db, tmp_path / "data")
    build(data, project)
    # a key that is not unique would lose rows: every such model tests its key
    manifest = json.loads((data / "dbt" / "target" / "manifest.json").read_text())
    assert {m: keys in unique_column_sets(manifest, m) for m, keys in MODELS.items()} == dict.fromkeys(MODELS, True)
    before = {m: rows(data, m) for m in MODELS}
    written(data)
    build(data, project)
    assert written(data) == dict.fromkeys(MODELS, (0, 0))
    assert {m: rows(data, m) for m in MODELS} == before
