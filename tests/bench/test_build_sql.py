"""bench/build_sql.py: replaying a build's compiled SQL gives the warehouse the build gave (S scenario).

Two builds, those of the bench cycle at S: the first creates everything (incremental models and the snapshot
from scratch), the second runs the incremental models incrementally; each replay must agree with the build.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from bench.build_sql import KINDS, replay_compiled
from tests.bench.conftest import Cycle

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


def test_replay_gives_the_built_warehouse(cycle_s: Cycle, tmp_path: Path) -> None:
    # the full run's build created everything (incremental models and the snapshot from scratch): the cycle
    # replayed it right after, and every test found the failures the build found
    first = cycle_s.result["details"]["sql_replay"]
    assert first["mismatches"] == []
    assert first["nodes"] == cycle_s.result["details"]["full_run_steps"]["build"]["counts"]["nodes"]
    # the incremental run's build ran the incremental models incrementally: replay it now
    data = cycle_s.data_dir
    out = replay_compiled(data, tmp_path / "incremental")
    assert out["mismatches"] == []
    assert out["nodes"] == cycle_s.result["details"]["incremental_run_steps"]["build"]["counts"]["nodes"]
    assert set(out["by_kind"]) >= set(KINDS)
    assert out["seconds"] == pytest.approx(sum(out["by_kind"].values()), abs=0.01)
    assert out["by_kind"]["models"] > 0 and out["by_kind"]["tests"] > 0
    built = relations(data / "warehouse.duckdb", data / "raw.duckdb")
    replayed = relations(Path(out["warehouse"]), data / "raw.duckdb")
    assert sorted(replayed) == sorted(built)
    # what the replay cannot see as the build saw it: the push ledger (read live from ops.sqlite, which the run's
    # push changed after its build) and the snapshot's history (the replay starts it afresh)
    after_the_build = {
        ("ops", "postings"),
        ("staging", "stg_ops__postings"),
        ("canonical", "subscription_item_versions"),
        ("canonical", "subscription_contract_versions"),
    }
    assert {k: v for k, v in replayed.items() if k not in after_the_build} == {
        k: v for k, v in built.items() if k not in after_the_build
    }
    assert built[("reconciliation", "exceptions")] > 0
