"""bench/build_sql.py: replaying a build's compiled SQL gives the warehouse the build gave (S scenario).

Two builds: the first creates everything (incremental models and the snapshot from scratch), the second runs
the incremental models incrementally; each replay must end with the same relations and row counts.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from bench.build_sql import KINDS, replay_compiled
from pipelines.build.runner import run_build
from tests.dbt_project.scenario_build import served_and_ingested

pytestmark = pytest.mark.slow


def relations(warehouse: Path, raw: Path) -> dict[tuple[str, str], int]:
    """Every table and view of the warehouse with its row count (views read raw, so it is attached)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"attach '{raw}' as raw (read_only)")
        names = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
            " union all select schema_name, view_name from duckdb_views()"
            " where database_name = current_database() and not internal"
        ).fetchall()
        return {(s, t): con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in names}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return served_and_ingested("S", 7, tmp_path_factory.mktemp("build-sql"))


def test_replay_gives_the_built_warehouse(scenario, tmp_path):
    data = scenario.data_dir
    for run in ("first", "incremental"):
        result = run_build(data, now=scenario.as_of)
        assert result.ok, (result.error, [f.describe() for f in result.failures])
        out = replay_compiled(data, tmp_path / run)
        assert out["mismatches"] == []
        assert out["nodes"] == result.nodes
        assert set(out["by_kind"]) >= set(KINDS)
        assert out["seconds"] == pytest.approx(sum(out["by_kind"].values()), abs=0.01)
        assert out["by_kind"]["models"] > 0 and out["by_kind"]["tests"] > 0
        assert out["build_seconds"] == pytest.approx(result.timing.total_seconds, abs=0.01)
        built = relations(data / "warehouse.duckdb", data / "raw.duckdb")
        replayed = relations(Path(out["warehouse"]), data / "raw.duckdb")
        assert sorted(replayed) == sorted(built), run
        assert replayed == built, run
        assert built[("reconciliation", "exceptions")] > 0
