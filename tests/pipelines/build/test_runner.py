"""run_build against a real raw.duckdb: what it writes (and does not), failures named with rows, timing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
import yaml

from pipelines.build.docs import generate_docs
from pipelines.build.paths import PROJECT_DIR, BuildPaths
from pipelines.build.report import format_summary
from pipelines.build.runner import run_build
from tests.pipelines.build.conftest import DBT_LEFTOVERS, copy_project, file_digest, fresh_data_dir

pytestmark = pytest.mark.slow

AS_OF = "2026-10-31T23:00:00Z"


@pytest.fixture(scope="module")
def built(raw_db, tmp_path_factory):
    """The whole project (a copy), staging and everything it needs, built once for this module."""
    root = tmp_path_factory.mktemp("built")
    project = copy_project(root / "dbt_project")
    data = fresh_data_dir(raw_db, root / "data")
    raw_before = (file_digest(raw_db), os.stat(data / "raw.duckdb").st_mtime_ns)
    lines: list[str] = []
    result = run_build(data, now=AS_OF, select="+staging", project_dir=project, progress=lines.append)
    return result, data, project, raw_before, lines


def views_in(warehouse: Path, schema: str) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = ? and table_type = 'VIEW'", [schema]
        ).fetchall()
    return {r[0] for r in rows}


def test_build_writes_the_staging_views_into_the_warehouse_only(built):
    result, data, project, (raw_digest, raw_mtime), lines = built
    assert result.ok, format_summary(result)
    assert result.q2c_now == AS_OF
    views = views_in(result.warehouse, "staging")
    assert "stg_ops__postings" in views
    assert any(v.startswith("stg_billing__") for v in views), views
    # raw.duckdb is attached read-only: not a byte changed, not even touched
    assert file_digest(data / "raw.duckdb") == raw_digest
    assert os.stat(data / "raw.duckdb").st_mtime_ns == raw_mtime
    # dbt's artefacts are in the data folder, none in the project
    assert not [p for p in DBT_LEFTOVERS if (project / p).exists()]
    paths = BuildPaths(data)
    assert (paths.target / "run_results.json").exists() and (paths.logs / "dbt.log").exists()
    # one progress line per finished node
    assert len(lines) == result.nodes and any("stg_ops__postings" in line for line in lines)


def test_the_summary_reports_time_split_between_sql_and_dbt_overhead(built):
    result = built[0]
    t = result.timing
    assert t.total_seconds > 0 and t.queries > 0
    assert 0 < t.sql_seconds <= t.sql_sum_seconds + 1e-6
    assert t.sql_seconds < t.total_seconds
    assert t.parse_seconds > 0 and t.build_seconds > 0 and t.dbt_elapsed_seconds > 0
    assert abs(t.overhead_seconds + t.sql_seconds - t.total_seconds) < 1e-6
    text = format_summary(result)
    assert "SQL execution" in text and "dbt overhead" in text and "parse" in text


def test_docs_generate_offline_into_the_data_folder(built):
    _, data, project, *_ = built
    page = generate_docs(data, now=AS_OF, project_dir=project)
    assert page == BuildPaths(data).docs / "static_index.html" and page.stat().st_size > 0
    catalog = json.loads((page.parent / "catalog.json").read_text())
    assert any(k.endswith("stg_ops__postings") for k in catalog["nodes"])
    manifest = json.loads((page.parent / "manifest.json").read_text())
    # the docs page only phones home when the manifest allows it
    assert manifest["metadata"]["send_anonymous_usage_stats"] is False
    assert not [p for p in DBT_LEFTOVERS if (project / p).exists()]


def test_a_failing_data_test_is_named_with_its_file_and_failing_rows(raw_db, tmp_path):
    project = copy_project(tmp_path / "dbt_project", only_ops=True)
    (project / "tests").mkdir(exist_ok=True)
    # fails whenever the reference time is before 2000: q2c_now must reach the compiled SQL
    (project / "tests" / "assert_reference_time_is_recent.sql").write_text(
        "select '{{ var(\"q2c_now\") }}' as q2c_now, n from range(3) as t(n)\n"
        "where cast('{{ var(\"q2c_now\") }}' as timestamptz) < timestamptz '2000-01-01 00:00:00+00'\n"
    )
    data = fresh_data_dir(raw_db, tmp_path / "data")
    passing = run_build(data, now=AS_OF, project_dir=project)
    assert passing.ok, format_summary(passing)

    failing = run_build(data, now="1999-12-31T23:00:00+00:00", project_dir=project)
    assert not failing.ok
    [failure] = failing.failures
    assert failure.unique_id == "test.q2c.assert_reference_time_is_recent"
    assert failure.path == "tests/assert_reference_time_is_recent.sql"
    assert failure.status == "fail" and failure.failing_rows == 3
    assert failure.sample_columns == ["q2c_now", "n"]
    assert sorted(failure.sample_rows) == [
        ("1999-12-31T23:00:00Z", 0),
        ("1999-12-31T23:00:00Z", 1),
        ("1999-12-31T23:00:00Z", 2),
    ]
    text = format_summary(failing)
    assert "FAILED" in text and "test.q2c.assert_reference_time_is_recent" in text and "1999-12-31T23:00:00Z" in text


def test_a_failing_model_is_named_with_its_file_and_the_error(raw_db, tmp_path):
    project = copy_project(tmp_path / "dbt_project", only_ops=True)
    (project / "models" / "staging" / "ops" / "stg_ops__broken.sql").write_text(
        "select no_such_column from {{ source('ops', 'postings') }}\n"
    )
    result = run_build(fresh_data_dir(raw_db, tmp_path / "data"), project_dir=project)
    assert not result.ok
    assert len(result.failures) == 1, format_summary(result)
    failure = result.failures[0]
    assert failure.unique_id == "model.q2c.stg_ops__broken"
    assert failure.path == "models/staging/ops/stg_ops__broken.sql"
    assert failure.status == "error" and "no_such_column" in failure.message
    assert result.counts.get("success") == 1  # stg_ops__postings still built


def test_an_unparsable_project_is_an_error_not_a_crash(raw_db, tmp_path):
    project = copy_project(tmp_path / "dbt_project", only_ops=True)
    (project / "models" / "staging" / "ops" / "_bad.yml").write_text("version: 2\nmodels: [{name: 1, columns: 7}]\n")
    result = run_build(fresh_data_dir(raw_db, tmp_path / "data"), project_dir=project)
    assert not result.ok and result.error and "parse" in result.error


def test_without_raw_duckdb_the_build_says_to_ingest_first(tmp_path):
    result = run_build(tmp_path)
    assert not result.ok and "q2c ingest" in result.error
    assert not (tmp_path / "warehouse.duckdb").exists()


def test_memory_cap_and_spill_folder_are_set_once_per_database(tmp_path):
    # dbt-duckdb runs a profile's `settings` again on every cursor, and DuckDB refuses to set temp_directory
    # again once a query spilled there: the L build failed so. They are `config_options`, given at connect.
    outputs = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())["q2c"]["outputs"]["warehouse"]
    assert {"memory_limit", "temp_directory"} <= set(outputs["config_options"])
    assert not {"memory_limit", "temp_directory"} & set(outputs["settings"])

    spill = tmp_path / "spill"
    with duckdb.connect(config={"memory_limit": "64MB", "temp_directory": str(spill), "threads": 1}) as con:
        con.execute("create table t as select range as n, md5(range::varchar) as s from range(2000000)")
        con.execute("select s from t order by s").fetchall()  # more than 64 MB to sort: it spills
        with pytest.raises(duckdb.NotImplementedException, match="temporary directory"):
            con.cursor().execute(f"SET temp_directory = '{spill}'")


def test_tables_are_written_without_fsst_unless_asked(raw_db, tmp_path, monkeypatch):
    """FSST, the costliest of DuckDB's compressions to try, is not tried on the tables a build writes
    (DEFAULT_DISABLED_COMPRESSION), unless Q2C_DUCKDB_DISABLED_COMPRESSION says otherwise; the build's record keeps
    the choice, which the bench's SQL replay reads."""
    # a cursor's setting: DuckDB ignores it given at connect, so profiles.yml sets it in `settings`
    outputs = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())["q2c"]["outputs"]["warehouse"]
    assert "disabled_compression_methods" in outputs["settings"]
    with duckdb.connect(config={"disabled_compression_methods": "fsst"}) as con:
        assert con.execute("select current_setting('disabled_compression_methods')").fetchone()[0] == ""

    project = copy_project(tmp_path / "dbt_project", only_ops=True)
    (project / "models" / "staging" / "ops" / "many_strings.sql").write_text(
        "{{ config(materialized='table') }}\nselect 'cus_' || md5(range::varchar) as customer_id from range(200000)\n"
    )

    def built(name: str) -> tuple[set[str], dict]:
        data = fresh_data_dir(raw_db, tmp_path / name)
        result = run_build(data, project_dir=project)
        assert result.ok, format_summary(result)
        with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
            tables = "select schema_name from duckdb_tables() where table_name = 'many_strings'"
            (schema,) = con.execute(tables).fetchone()
            info = f"select compression from pragma_storage_info('{schema}.many_strings')"
            used = {r[0] for r in con.execute(info).fetchall()}
        record = json.loads((BuildPaths(data).target / "q2c_build.json").read_text())
        return used, record["duckdb_settings"]

    monkeypatch.delenv("Q2C_DUCKDB_DISABLED_COMPRESSION", raising=False)
    used, settings = built("default")
    assert "FSST" not in used and settings["disabled_compression_methods"] == "fsst"
    monkeypatch.setenv("Q2C_DUCKDB_DISABLED_COMPRESSION", "")  # every method: DuckDB picks FSST for these strings
    used, settings = built("every-method")
    assert "FSST" in used and settings["disabled_compression_methods"] == ""


def test_a_data_folder_builds_after_the_project_moved(raw_db, tmp_path):
    """dbt's partial-parse state holds the project's absolute path: a parse of the project where it was would read
    the seeds from a folder that is gone."""
    data = fresh_data_dir(raw_db, tmp_path / "data")
    before = copy_project(tmp_path / "before" / "dbt_project")
    assert run_build(data, now=AS_OF, select="currency_exponents", project_dir=before).ok
    after = tmp_path / "after" / "dbt_project"
    after.parent.mkdir()
    before.rename(after)
    moved = run_build(data, now=AS_OF, select="currency_exponents", project_dir=after)
    assert moved.ok, [f.describe() for f in moved.failures]
    assert moved.counts.get("success") == 1  # the seed (its tests pass)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from mappings.currency_exponents").fetchone()[0] > 0
