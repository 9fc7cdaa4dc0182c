"""The incremental staging build at L-like size, with and without the ``_q2c_load_seq`` cut of ``unbuilt_rows``.

From a raw.duckdb that holds billing (an M ingest), it writes an L-like raw of the three tables the incremental
staging models read: each row ``--copies`` times (27 × M ≈ L's 1.2M invoices), ids suffixed, all with the
backfill's load sequence. The project before the cut (``--before-project``, e.g. ``git archive <rev> dbt_project
| tar -x -C DIR``) and this one are each built in full. Then two incremental runs each give 1% of the rows a newer
state, written as dlt's delete-insert merge writes them (old row deleted, new row appended), and each is built
incrementally by both projects, ``--runs`` times from the same state (warehouse restored each time): the first is
the first build after a backfill (the boundary is the backfill's sequence), the second a steady-state one.

Last, the warehouse as built after the backfill against the raw after both runs: the unbuilt-rows query of
``stg_billing__invoices`` alone, timed in a fresh DuckDB with and without the cut, with the rows its raw scan read
(EXPLAIN ANALYZE), and the keys-only query that decides between ``>`` and ``>=``.

CLI: ``python -m bench.load_seq --raw-from M/raw.duckdb --before-project DIR/dbt_project --work /tmp/seq``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import duckdb

from pipelines.build.paths import PROJECT_DIR
from pipelines.build.runner import run_build

TABLES = {"invoices": ["id"], "invoice_lines": ["id", "invoice"], "charges": ["id"]}
MODELS = ("stg_billing__invoices", "stg_billing__invoice_lines", "stg_billing__charges")
SELECT = "currency_exponents " + " ".join(MODELS)
BACKFILL_SEQ = 1_795_000_000_000_000  # epoch microseconds; each run an hour later
HOUR_US = 3_600_000_000
NOW = "2026-11-20T00:00:00Z"


def make_raw(source: Path, raw: Path, copies: int) -> None:
    with duckdb.connect(str(raw)) as con:
        con.execute("set memory_limit = '4GB'")
        con.execute(f"attach '{source}' as m (read_only)")
        con.execute("create schema raw_billing")
        for table, ids in TABLES.items():
            suffixed = ", ".join(f"{c} || '_' || copies.k as {c}" for c in ids)
            con.execute(
                f"create table raw_billing.{table} as select rows.* replace ({suffixed}),"
                f" cast({BACKFILL_SEQ} as bigint) as _q2c_load_seq"
                f" from range({copies}) as copies(k), m.raw_billing.{table} as rows order by copies.k, rows.{ids[0]}"
            )
        con.execute("checkpoint")


def change(raw: Path, seq: int, seed: int) -> dict[str, int]:
    """One incremental run: 1% of each table's rows at a newer state, merged as dlt merges them."""
    changed = {}
    with duckdb.connect(str(raw)) as con:
        for table in TABLES:
            con.execute(
                "create temp table staged as select * replace"
                f" (_q2c_state_version + 1 as _q2c_state_version, {seq} as _q2c_load_seq)"
                f" from raw_billing.{table} where hash(id, {seed}) % 100 = 0"
            )
            con.execute("begin")
            con.execute(f"delete from raw_billing.{table} where id in (select id from staged)")
            con.execute(f"insert into raw_billing.{table} select * from staged")
            con.execute("commit")
            changed[table] = con.execute("select count(*) from staged").fetchone()[0]
            con.execute("drop table staged")
        con.execute("checkpoint")
    return changed


def build(data: Path, project: Path, **kwargs) -> dict[str, float]:
    result = run_build(data, now=NOW, select=SELECT, project_dir=project, **kwargs)
    assert result.ok, (result.error, [f.describe() for f in result.failures])
    seconds = {node.split(".")[-1]: s for node, s in result.timing.slowest if node.split(".")[-1] in MODELS}
    return {"total": result.timing.total_seconds, **seconds}


def unbuilt_query(cut: str, columns: str = "raw_rows.*") -> str:
    """The unbuilt invoices (``unbuilt_rows``' anti-join), ``cut`` a condition on raw ending in ``and``."""
    return (
        f"select {columns} from raw.raw_billing.invoices as raw_rows where {cut}not exists ("
        "select 1 from staging.stg_billing__invoices as built"
        " where built.invoice_id = raw_rows.id and built._q2c_state_version = raw_rows._q2c_state_version)"
    )


def time_unbuilt(warehouse: Path, raw: Path, cut: str) -> tuple[float, int, int]:
    """Seconds to materialize the unbuilt rows in a fresh DuckDB, their count, and the rows the raw scan read."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"attach '{raw}' as raw (read_only)")
        started = time.perf_counter()
        con.execute(f"create temp table unbuilt as {unbuilt_query(cut)}")
        seconds = time.perf_counter() - started
        rows = con.execute("select count(*) from unbuilt").fetchone()[0]
        plan = json.loads(con.execute(f"explain (analyze, format json) {unbuilt_query(cut)}").fetchall()[0][1])
    return seconds, rows, _scanned(plan, "raw.raw_billing.invoices")


def time_boundary_check(warehouse: Path, raw: Path, boundary: int) -> float:
    """Seconds of the query deciding `>` or `>=`: is any raw row at the boundary unbuilt (keys only)?"""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(f"attach '{raw}' as raw (read_only)")
        started = time.perf_counter()
        at_boundary = unbuilt_query(f"raw_rows._q2c_load_seq = {boundary} and ", columns="1")
        con.execute(f"select count(*) from ({at_boundary} limit 1)").fetchall()
        return time.perf_counter() - started


def _scanned(node: dict | list, table: str) -> int:
    """The rows the scan of ``table`` produced, from an EXPLAIN ANALYZE plan in JSON."""
    if isinstance(node, list):
        return sum(_scanned(n, table) for n in node)
    own = node.get("operator_cardinality", 0) if (node.get("extra_info") or {}).get("Table") == table else 0
    return own + sum(_scanned(child, table) for child in node.get("children", []))


def timed_builds(work: Path, variants: dict[str, Path], runs: int, label: str) -> None:
    """Each variant's incremental build, ``runs`` times from the state saved under ``<variant>/saved``."""
    for run in range(runs):
        for name, project in variants.items():
            data = work / name / "data"
            shutil.rmtree(data)
            shutil.copytree(work / name / "saved", data, symlinks=True)
            seconds = build(data, project)
            print(f"{label}, {name}, run {run + 1}:", {k: round(v, 2) for k, v in seconds.items()}, flush=True)


def save(work: Path, variants: dict[str, Path]) -> None:
    for name in variants:
        shutil.rmtree(work / name / "saved", ignore_errors=True)
        shutil.copytree(work / name / "data", work / name / "saved", symlinks=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raw-from", type=Path, required=True, help="a raw.duckdb with raw_billing (M)")
    parser.add_argument("--before-project", type=Path, required=True, help="dbt_project without the cut")
    parser.add_argument("--work", type=Path, required=True, help="a scratch folder (emptied)")
    parser.add_argument("--copies", type=int, default=27)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    raw = args.work / "raw.duckdb"
    clock = time.perf_counter()
    make_raw(args.raw_from.resolve(), raw, args.copies)
    print(f"L-like raw written in {time.perf_counter() - clock:.0f} s", flush=True)
    variants = {"before": args.before_project.resolve(), "after": PROJECT_DIR}
    for name, project in variants.items():
        data = args.work / name / "data"
        data.mkdir(parents=True)
        (data / "raw.duckdb").symlink_to(raw)
        print(f"full build, {name}:", {k: round(v, 2) for k, v in build(data, project).items()}, flush=True)
    save(args.work, variants)
    after_backfill = args.work / "after" / "saved" / "warehouse.duckdb"
    shutil.copy2(after_backfill, args.work / "after-backfill.duckdb")

    print("first run changed", change(raw, BACKFILL_SEQ + HOUR_US, 1), flush=True)
    timed_builds(args.work, variants, args.runs, "first build after the backfill")
    save(args.work, variants)  # the last run's result: built through the first run
    print("second run changed", change(raw, BACKFILL_SEQ + 2 * HOUR_US, 2), flush=True)
    timed_builds(args.work, variants, args.runs, "steady state")

    built = args.work / "after-backfill.duckdb"
    for _ in range(args.runs):
        check = time_boundary_check(built, raw, BACKFILL_SEQ)
        print(f"boundary check (keys at the backfill's sequence): {check:.2f} s")
        for cut in ("", f"raw_rows._q2c_load_seq > {BACKFILL_SEQ} and "):
            seconds, rows, scanned = time_unbuilt(built, raw, cut)
            label = cut.removesuffix(" and ").removeprefix("raw_rows.") or "no cut"
            print(f"unbuilt invoices, {label}: {seconds:.2f} s, {rows} rows, the raw scan read {scanned} rows")


if __name__ == "__main__":
    main()
