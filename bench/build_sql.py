"""`build_vs_sql`: how much slower `q2c build` is than the SQL it runs, executed directly in DuckDB.

``replay_compiled(data_dir, scratch)`` reads what the last `q2c build` left in ``<data>/dbt/target``
(manifest.json, run_results.json and the statements under target/run/) and runs the same SQL, one node after
the other in dependency order, in one DuckDB connection, into a fresh ``<scratch>/warehouse.duckdb`` with the
build's attachments (``raw`` read-only, the ops ledger loaded as the build's plugin loads it) and settings
(TimeZone, memory limit, the compressions not tried; threads are DuckDB's default in both). Only nodes the build
ran are replayed:

- models: their target/run statement (the full DDL: create … as, or a contract's create + insert), then the
  rename dbt does from ``<name>__dbt_tmp``. An incremental model that ran incrementally starts from the built
  table (copied, not timed), then runs the temp table dbt creates from its compiled SQL and the delete+insert;
- tests and unit tests: their target/run query (the failure count dbt reads);
- seeds: ``COPY`` of the CSV into a table of the built table's columns (what dbt-duckdb's seed runs);
- snapshots: their target/run statement on a first run; after that dbt's staging query is not in the
  artefacts, so the snapshot's compiled SQL is inserted as a first snapshot (same rows read, a close stand-in).

Relations the build read but did not run (a ``--select``) are copied from the built warehouse (a view as a
table of its rows), not timed.

CLI: ``python -m bench.build_sql --data-dir D [--scratch S] [--build-seconds N]`` prints build, replay and
ratio; the build's seconds default to the whole `q2c build` run_build recorded (target/q2c_build.json), else
dbt's ``elapsed_time`` in run_results.json.
"""

from __future__ import annotations

import argparse
import graphlib
import json
import re
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb

from pipelines.build.ops_source import declared_schema, read_table
from pipelines.build.paths import BuildPaths
from pipelines.build.runner import BUILD_RECORD

KINDS = ("seeds", "models", "snapshots", "tests", "unit_tests")
_KIND = {"seed": "seeds", "model": "models", "snapshot": "snapshots", "test": "tests", "unit_test": "unit_tests"}
RAN = ("success", "pass", "fail", "warn")  # statuses of nodes whose SQL ran to the end
BUILT = "built"  # the built warehouse, attached read-only under this name
_TEMP = re.compile(r'"([A-Za-z0-9_]+__dbt_tmp\d+)"')  # an incremental's / snapshot's temp relation


def _quote(*parts: str) -> str:
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


class _Replay:
    def __init__(self, data_dir: Path, scratch: Path) -> None:
        self.paths = BuildPaths(data_dir.resolve())
        target = self.paths.target
        self.manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        self.run_results = json.loads((target / "run_results.json").read_text(encoding="utf-8"))
        record_path = target / BUILD_RECORD
        self.record = json.loads(record_path.read_text(encoding="utf-8")) if record_path.exists() else {}
        self.scratch = scratch.resolve()
        self.nodes: dict[str, dict] = {**self.manifest["nodes"], **self.manifest.get("unit_tests", {})}
        self.results = {r["unique_id"]: r for r in self.run_results["results"]}
        self.seconds: dict[str, float] = defaultdict(float)
        self.per_node: list[tuple[str, float]] = []
        self.mismatches: list[str] = []

    # -- setup ------------------------------------------------------------------------------------------------
    def connect(self) -> duckdb.DuckDBPyConnection:
        warehouse = self.scratch / self.paths.warehouse.name  # same file name, so the same catalog name
        if self.scratch.exists():
            shutil.rmtree(self.scratch)
        self.scratch.mkdir(parents=True)
        settings = dict(self.record.get("duckdb_settings") or self.paths.duckdb_settings())
        settings["temp_directory"] = str(self.scratch / "tmp")  # the build's own spill folder stays its own
        con = duckdb.connect(str(warehouse))
        con.execute("set TimeZone = 'UTC'")
        for key, value in settings.items():
            con.execute(f"set {key} = '{value}'")
        con.execute(f"attach '{self.paths.raw}' as raw (read_only)")
        con.execute(f"attach '{self.paths.warehouse}' as {BUILT} (read_only)")
        return con

    def order(self) -> list[str]:
        """The nodes that ran, parents first (dbt's depends_on), ties broken by name for a stable order."""
        ran = [uid for uid, r in self.results.items() if r["status"] in RAN and uid in self.nodes]
        graph = graphlib.TopologicalSorter()
        for uid in sorted(ran):
            graph.add(uid, *[d for d in self.nodes[uid]["depends_on"].get("nodes", []) if d in self.results])
        ran_set = set(ran)
        return [uid for uid in graph.static_order() if uid in ran_set]

    def prepare(self, con: duckdb.DuckDBPyConnection, order: list[str]) -> None:
        """Schemas, plugin sources (timed: dbt loads them too) and the relations the build read but did not run."""
        schemas = {(n["database"], n["schema"]) for n in self.nodes.values() if n.get("database")}
        schemas |= {(s["database"], s["schema"]) for s in self.manifest["sources"].values()}
        for database, schema in sorted(schemas):
            if database == self.paths.warehouse.stem:
                con.execute(f"create schema if not exists {_quote(database, schema)}")
        started = time.perf_counter()
        # a plugin source is loaded when a node reading it compiles: only those the replayed nodes read
        read = {d for uid in order for d in self.nodes[uid]["depends_on"].get("nodes", [])}
        sources = self.manifest["sources"]
        ops = [sources[uid] for uid in sorted(read & set(sources)) if (sources[uid].get("meta") or {}).get("plugin")]
        for source in ops:
            meta = source["meta"]
            table = read_table(
                self.paths.ops, meta.get("sqlite_table", source["identifier"]), declared_schema(meta["columns"])
            )
            con.register("ops_rows", table)
            con.execute(f"create or replace table {source['relation_name']} as select * from ops_rows")
            con.unregister("ops_rows")
        self.seconds["sources"] += time.perf_counter() - started
        ran = set(order)
        needed = {d for uid in order for d in self.nodes[uid]["depends_on"].get("nodes", []) if d in self.nodes}
        for uid in sorted(needed - ran):
            node = self.nodes[uid]
            if node["resource_type"] in ("model", "seed", "snapshot"):
                self.copy_built(con, node)

    def copy_built(self, con: duckdb.DuckDBPyConnection, node: dict) -> None:
        """The built relation as a table of the scratch warehouse (not timed)."""
        name = node.get("alias") or node["name"]
        table = _quote(node["database"], node["schema"], name)
        if node["config"].get("materialized") != "view":
            con.execute(f"create table {table} as select * from {_quote(BUILT, node['schema'], name)}")
            return
        # a view names the warehouse's catalog, which here is the scratch one: read it where it was built
        with duckdb.connect(str(self.paths.warehouse), read_only=True) as built:
            built.execute("set TimeZone = 'UTC'")
            built.execute(f"attach '{self.paths.raw}' as raw (read_only)")
            rows = built.execute(f"select * from {_quote(node['schema'], name)}").to_arrow_table()
        con.register("built_rows", rows)
        con.execute(f"create table {table} as select * from built_rows")
        con.unregister("built_rows")

    # -- nodes --------------------------------------------------------------------------------------------------
    def statement(self, node: dict) -> str:
        path = node.get("build_path")
        if path:
            return Path(path).read_text(encoding="utf-8")
        # unit tests have no build_path: target/run/<package>/<yml path>/<model folder>/<name>.sql
        root = self.paths.target / "run" / node["package_name"] / node["original_file_path"]
        found = sorted(root.rglob(f"{node['name']}.sql"))
        if not found:
            raise FileNotFoundError(f"no run SQL for {node['unique_id']} under {root}")
        return found[0].read_text(encoding="utf-8")

    def timed(self, con: duckdb.DuckDBPyConnection, kind: str, uid: str, sql: str) -> list[tuple]:
        started = time.perf_counter()
        rows = con.execute(sql).fetchall()
        seconds = time.perf_counter() - started
        self.seconds[kind] += seconds
        self.per_node.append((uid, seconds))
        return rows

    def replay(self, con: duckdb.DuckDBPyConnection, uid: str) -> None:
        node = self.nodes[uid]
        kind = _KIND[node["resource_type"]]
        if kind == "seeds":
            self.seed(con, uid, node)
        elif kind in ("tests", "unit_tests"):
            rows = self.timed(con, kind, uid, self.statement(node))
            expected = self.results[uid].get("failures")
            if kind == "tests" and rows and expected is not None and rows[0][0] != expected:
                self.mismatches.append(f"{uid}: {rows[0][0]} failing rows, the build found {expected}")
        else:
            self.relation(con, uid, node, kind)

    def seed(self, con: duckdb.DuckDBPyConnection, uid: str, node: dict) -> None:
        self.copy_built(con, node)  # the built table's columns and types (dbt infers them from the CSV)
        table = _quote(node["database"], node["schema"], node.get("alias") or node["name"])
        csv = Path(node["root_path"]) / node["original_file_path"]
        con.execute(f"truncate {table}")
        self.timed(con, "seeds", uid, f"copy {table} from '{csv}' (format csv, header true, delimiter ',')")

    def relation(self, con: duckdb.DuckDBPyConnection, uid: str, node: dict, kind: str) -> None:
        name = node.get("alias") or node["name"]
        database, schema = node["database"], node["schema"]
        sql = self.statement(node)
        temp = _TEMP.search(sql)
        if temp is None:
            self.timed(con, kind, uid, sql)
            intermediate = f"{name}__dbt_tmp"
            if _quote(schema, intermediate) in sql:
                relation_type = "view" if node["config"].get("materialized") == "view" else "table"
                rename = f"alter {relation_type} {_quote(database, schema, intermediate)} rename to {_quote(name)}"
                self.timed(con, kind, uid, rename)
            return
        # incremental run (or a snapshot after its first): start from the built table as the prior state
        self.copy_built(con, node)
        compiled = node.get("compiled_code") or self.results[uid].get("compiled_code") or ""
        if kind == "snapshots":
            self.timed(con, kind, uid, f"truncate {_quote(database, schema, name)}")
            self.timed(con, kind, uid, self.first_snapshot(node, compiled))
            return
        self.timed(con, kind, uid, f"create temporary table {_quote(temp.group(1))} as ({compiled})")
        self.timed(con, kind, uid, sql)
        con.execute(f"drop table {_quote(temp.group(1))}")

    @staticmethod
    def first_snapshot(node: dict, compiled: str) -> str:
        key = node["config"]["unique_key"]
        table = _quote(node["database"], node["schema"], node.get("alias") or node["name"])
        return (
            f"insert into {table} by name select snapshotted.*,"
            f" md5(coalesce(cast({key} as varchar), '') || '|' || cast(now() as varchar)) as dbt_scd_id,"
            " now() as dbt_updated_at, now() as dbt_valid_from, cast(null as timestamptz) as dbt_valid_to"
            f" from ({compiled}) as snapshotted"
        )

    # -- all ----------------------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        con = self.connect()
        try:
            threads = con.execute("select current_setting('threads')").fetchone()[0]
            memory_limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
            order = self.order()
            self.prepare(con, order)
            for uid in order:
                self.replay(con, uid)
            tables = con.execute(
                "select count(*) from duckdb_tables() where database_name = ? and not temporary",
                [self.paths.warehouse.stem],
            ).fetchone()[0]
        finally:
            con.close()
        total = sum(self.seconds.values())
        return {
            "seconds": round(total, 3),
            "by_kind": {k: round(self.seconds.get(k, 0.0), 3) for k in (*KINDS, "sources")},
            "nodes": len(order),
            "tables": tables,
            "slowest": [(uid, round(s, 3)) for uid, s in sorted(self.per_node, key=lambda x: -x[1])[:10]],
            "mismatches": self.mismatches,
            "duckdb": {"threads": threads, "memory_limit": memory_limit},
            "warehouse": str(self.scratch / self.paths.warehouse.name),
            "build_seconds": self.build_seconds(),
        }

    def build_seconds(self) -> float:
        """The whole `q2c build` (run_build's clock) when recorded, else dbt's elapsed time for the build."""
        return float(self.record.get("total_seconds") or self.run_results.get("elapsed_time") or 0.0)


def replay_compiled(data_dir: Path, scratch: Path) -> dict[str, Any]:
    """Replay the last build's SQL into ``<scratch>/warehouse.duckdb`` (recreated); seconds total and per kind.

    Returns ``{"seconds", "by_kind": {seeds, models, snapshots, tests, unit_tests, sources}, "nodes", "tables",
    "slowest": [(unique_id, seconds)], "mismatches": [tests whose failure count differs from the build's],
    "duckdb": {threads, memory_limit}, "warehouse", "build_seconds"}``.
    """
    return _Replay(Path(data_dir), Path(scratch)).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a data folder a `q2c build` just built")
    parser.add_argument("--scratch", type=Path, help="where to replay (default: a temporary folder, removed)")
    parser.add_argument("--build-seconds", type=float, help="the build's time (default: recorded by the build)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="q2c-build-sql-") as tmp:
        out = replay_compiled(args.data_dir, args.scratch or Path(tmp) / "replay")
    build = args.build_seconds or out["build_seconds"]
    ratio = build / out["seconds"] if out["seconds"] else float("nan")
    kinds = ", ".join(f"{k} {v:.1f}s" for k, v in out["by_kind"].items() if v)
    print(f"build {build:.1f}s, SQL replay {out['seconds']:.1f}s ({kinds}); build_vs_sql {ratio:.2f}")
    print(f"  {out['nodes']} nodes replayed, {out['tables']} tables; DuckDB {out['duckdb']}")
    print("  slowest: " + ", ".join(f"{uid} {s:.1f}s" for uid, s in out["slowest"][:5]))
    for line in out["mismatches"]:
        print(f"  MISMATCH {line}")


if __name__ == "__main__":
    main()
