"""The billing backfill's load into raw.duckdb at L-like size, in the load files of before and of now.

Usage: python -m bench.raw_load [--scale M] [--seed 7] [--copies 10] [--repeat 2] [--fixtures DIR] [--work DIR]
       python -m bench.raw_load --served --scale L [--fixtures DIR] [--work DIR]

The rows are the scenario's invoices, charges and payment intents as the billing source turns them into raw rows
(``to_rows``, in pages of 100), each ``--copies`` times with its id suffixed (10 × M ≈ L). They go through the
source's ``Batches`` into a dlt pipeline (``runner.make_pipeline``) over an open ``RawDatabase``, as a backfill's
do, in two layouts, each in its own process (so each has its own peak RSS), alternated ``--repeat`` times:

- ``before``: tables of 5,000 rows, load files cut at 16 MB (20,000 to 57,000 of these rows): every file's rows
  go through DuckDB's write-ahead log, and a checkpoint compresses them on one core;
- ``now``: tables of ``settings.BATCH_ROWS``, load files of one DuckDB row group (``runner.FILE_MAX_ITEMS``),
  which DuckDB writes into the file compressed, as the load runs.

Per run: dlt's phases, the write-ahead log left after the load, the checkpoint that follows (the ingest runs it
beside the next source, or at its close), the database's size and the process's peak RSS. ``ratio`` = now's
load + checkpoint seconds / before's (the medians). Results go to bench/results/raw-load.json.

``--served``: billing's real backfill instead (``run_source``, its close's checkpoint included) against the scenario
served by its own process, once per layout (``--repeat`` times), each in its own process; then a bare client
replays the requests of the last run (``bench.ingest.replay``) for billing's ``ingest_vs_fetch`` in each layout.
Results go to bench/results/raw-load-served.json. (The served sandbox's clock moves on, and Stripe lists 30 days of
events: a later run can list a few fewer events than an earlier one.)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

RESULTS = Path(__file__).parent / "results"
TABLES = ("invoices", "charges", "payment_intents")
PAGE = 100  # Stripe's page: what Batches receives at a time
LAYOUTS = {
    "before": {"batch_rows": 5000, "file_max_items": 10**9, "file_max_bytes": 16 * 1024 * 1024},
    "now": {"batch_rows": None, "file_max_items": None, "file_max_bytes": None},  # the runner's and source's own
}


def write_rows(fixtures: Path, out: Path) -> dict[str, int]:
    """Each table's raw rows (the M objects through ``to_rows``) as one Parquet file; their counts."""
    from pipelines.sources.billing import helpers, listing
    from pipelines.sources.raw_tables import to_rows

    counts = {}
    for name in TABLES:
        table = listing.collection(name).table
        with (fixtures / "billing" / f"{name}.jsonl").open("rb") as lines:
            objects = [orjson.loads(line) for line in lines if line.strip()]
        rows, bad = to_rows(helpers.SOURCE, table, objects, {"deleted": False, "_q2c_state_version": 1})
        if bad or rows is None:
            raise SystemExit(f"{name}: {len(bad)} rows set aside")
        pq.write_table(rows, out / f"{name}.parquet")
        counts[name] = rows.num_rows
    return counts


def load(rows_dir: Path, data_dir: Path, layout: str, copies: int) -> dict:
    """One layout's load, in this process (a fresh one per run: see ``main``)."""
    _use_layout(layout)
    import dlt

    from pipelines.ingest.raw_database import RawDatabase
    from pipelines.ingest.runner import make_pipeline, phase_seconds, quiet_dlt
    from pipelines.sources.billing import helpers, listing

    quiet_dlt()
    tables = {name: listing.collection(name).table for name in TABLES}
    batches = helpers.Batches(1, append=frozenset(TABLES))
    source_rows = {name: pq.read_table(rows_dir / f"{name}.parquet") for name in TABLES}

    @dlt.resource(name="listing")
    def listed():
        for k in range(copies):
            for name, rows in source_rows.items():
                ids = pc.binary_join_element_wise(rows.column("id"), pa.scalar(f"_{k}"), "")
                copy = rows.set_column(rows.schema.get_field_index("id"), "id", ids)
                for start in range(0, copy.num_rows, PAGE):
                    yield from batches.add_rows(tables[name], copy.slice(start, PAGE), [])
        yield from batches.close()

    raw = RawDatabase(data_dir / "raw.duckdb")
    pipeline = make_pipeline(data_dir, "bench_raw_load", raw)
    started = time.perf_counter()
    pipeline.run(listed(), loader_file_format="parquet")
    ran = time.perf_counter() - started
    wal = Path(f"{raw.path}.wal")
    wal_mb = wal.stat().st_size / 1e6 if wal.exists() else 0.0
    started = time.perf_counter()
    raw.connection.execute("CHECKPOINT")
    checkpoint = time.perf_counter() - started
    rows = sum(raw.table_counts("raw_bench_raw_load").values())
    raw.close()
    phases = phase_seconds(pipeline)
    return {
        "layout": layout,
        "rows": rows,
        "run_seconds": round(ran, 2),
        "phases": phases,
        "wal_mb_after_load": round(wal_mb),
        "checkpoint_seconds": round(checkpoint, 2),
        "load_and_checkpoint_seconds": round(phases.get("load", 0.0) + checkpoint, 2),
        "database_mb": round(raw.path.stat().st_size / 1e6),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _use_layout(layout: str) -> None:
    """This process's file bounds and billing's batch rows: the layout's, or left to the runner and the source."""
    settings_of = LAYOUTS[layout]
    if settings_of["file_max_items"] is not None:
        from pipelines.sources.billing import settings

        os.environ["DATA_WRITER__FILE_MAX_ITEMS"] = str(settings_of["file_max_items"])
        os.environ["DATA_WRITER__FILE_MAX_BYTES"] = str(settings_of["file_max_bytes"])
        settings.BATCH_ROWS = settings_of["batch_rows"]


def backfill(data_dir: Path, layout: str, url: str, token: str, trace: Path | None) -> dict:
    """Billing's backfill in one layout, in this process; its requests go to ``trace`` when given."""
    _use_layout(layout)
    from pipelines.ingest.runner import Endpoint, quiet_dlt, run_source, write_request_trace
    from pipelines.sources.http_client import RequestStats

    quiet_dlt()
    stats = RequestStats(keep_requests=trace is not None)
    summary = run_source(data_dir, "billing", Endpoint(url, token), stats=stats)
    if not summary.ok:
        raise RuntimeError(f"billing ingest failed: {summary.error}")
    if trace is not None:
        write_request_trace(trace, stats)
    return {
        "layout": layout,
        "rows": sum(t.rows_loaded for t in summary.tables),
        "seconds": round(summary.seconds, 1),
        "phases": summary.phases,
        "database_mb": round((data_dir / "raw.duckdb").stat().st_size / 1e6),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def _child(target: Any, args: tuple, out: multiprocessing.Queue) -> None:
    try:
        out.put(target(*args))
    except BaseException as exc:  # the parent waits for one message: it gets the failure instead
        out.put({"error": f"{type(exc).__name__}: {exc}"})
        raise


def run_in_process(target: Any, *args: Any) -> dict:
    """``target(*args)`` in a fresh process (its own environment, module settings and peak RSS)."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=_child, args=(target, args, out))
    process.start()
    result = out.get()
    process.join()
    if "error" in result or process.exitcode:
        raise SystemExit(f"{target.__name__} failed (exit {process.exitcode}): {result.get('error')}")
    return result


def served_main(args: argparse.Namespace, work: Path, fixtures: Path) -> None:
    from bench.ingest import replay_file
    from bench.machine import counters, since
    from bench.served import served

    runs = []
    trace = work / "billing.jsonl"
    with served(fixtures, work / "sandbox-data", store_cache=False) as endpoints:
        url, token = endpoints["billing"]
        for i in range(args.repeat):
            for layout in LAYOUTS:
                data_dir = work / f"{layout}-{i}"
                data_dir.mkdir()
                before = counters()
                runs.append(run_in_process(backfill, data_dir, layout, url, token, trace))
                runs[-1]["machine"] = since(before)
                shutil.rmtree(data_dir)
                r = runs[-1]
                print(
                    f"  {layout:<7} rows {r['rows']:,}  {r['seconds']} s  (phases {r['phases']})  database"
                    f" {r['database_mb']:,} MB  peak RSS {r['peak_rss_mb']:,} MB",
                    flush=True,
                )
        bare = replay_file(trace, 8, token=token)
    ratios = {layout: round(bare / statistics.median(r["seconds"] for r in runs if r["layout"] == layout), 3)
              for layout in LAYOUTS}  # fmt: skip
    print(f"billing backfill at {args.scale} (seed {args.seed}), bare replay {bare:.1f} s: ingest_vs_fetch {ratios}")
    RESULTS.mkdir(exist_ok=True)
    out = {"scale": args.scale, "seed": args.seed, "runs": runs, "bare_seconds": round(bare, 1), "ratios": ratios}
    (RESULTS / "raw-load-served.json").write_text(json.dumps(out, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="M", choices=["S", "M", "L"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--fixtures", type=Path, help="an existing fixture folder (default: generate one)")
    parser.add_argument("--work", type=Path, help="where the databases go (default: a temporary folder)")
    parser.add_argument("--served", action="store_true", help="billing's real backfill against the served scenario")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="q2c-bench-raw-load-", dir=args.work) as tmp:
        work = Path(tmp)
        fixtures = args.fixtures
        if fixtures is None:
            from sandbox.scenario.generate import generate

            fixtures = work / "scenario"
            generate(args.scale, args.seed, fixtures)
        if args.served:
            served_main(args, work, fixtures)
            return
        rows_dir = work / "rows"
        rows_dir.mkdir()
        counts = write_rows(fixtures, rows_dir)
        runs = []
        for i in range(args.repeat):
            for layout in LAYOUTS:
                data_dir = work / f"{layout}-{i}"
                data_dir.mkdir()
                runs.append(run_in_process(load, rows_dir, data_dir, layout, args.copies))
                shutil.rmtree(data_dir)
                r = runs[-1]
                print(
                    f"  {layout:<7} rows {r['rows']:,}  extract {r['phases'].get('extract')} s  load"
                    f" {r['phases'].get('load')} s  log after load {r['wal_mb_after_load']:,} MB  checkpoint"
                    f" {r['checkpoint_seconds']} s  database {r['database_mb']:,} MB  peak RSS {r['peak_rss_mb']:,} MB",
                    flush=True,
                )

    def median(layout: str, key: str) -> float:
        return round(statistics.median(r[key] for r in runs if r["layout"] == layout), 2)

    summary = {
        layout: {
            key: median(layout, key)
            for key in ("load_and_checkpoint_seconds", "checkpoint_seconds", "database_mb", "peak_rss_mb")
        }
        for layout in LAYOUTS
    }
    ratio = summary["now"]["load_and_checkpoint_seconds"] / summary["before"]["load_and_checkpoint_seconds"]
    print(f"raw load at {args.copies} x {args.scale} (seed {args.seed}): {sum(counts.values()) * args.copies:,} rows")
    for layout, s in summary.items():
        print(
            f"  {layout:<7} load + checkpoint {s['load_and_checkpoint_seconds']} s (checkpoint"
            f" {s['checkpoint_seconds']} s), database {s['database_mb']:,} MB,"
            f" peak RSS {s['peak_rss_mb']:,} MB (medians)"
        )
    print(f"  ratio now / before: {ratio:.2f}")
    RESULTS.mkdir(exist_ok=True)
    out = {"scale": args.scale, "seed": args.seed, "copies": args.copies, "source_rows": counts, "runs": runs}
    out |= {"summary": summary, "ratio": round(ratio, 3)}
    (RESULTS / "raw-load.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
