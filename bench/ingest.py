"""Ingest benchmark: rows/s per source against the rate a bare concurrent httpx client pulls the same pages.

Usage: python -m bench.ingest [--scale M] [--seed 7] [--workers 8] [--repeat 3] [--fixtures DIR] [--sources ...]

Against one sandbox (served by its own process, as a remote API would be), ``--repeat`` times: the sources
ingested as ``q2c ingest`` ingests them (``run_ingest``: billing, the ERP, then the CRM, each source's load beside
the next one's extraction) into a fresh data folder, every request recorded; then a bare httpx client replays
exactly those requests, source by source, with ``--workers`` threads (the ERP's: at most its concurrency limit),
parsing each JSON body (a client has to). The replay knows every cursor in advance, so it is an upper bound no
paging client can reach. ``ratio`` = the replays' seconds / the ingest's wall time, i.e. ingest rate / bare rate;
per source, the replay against the source's own step (its extraction and its load). The machine's pace moves
between runs by more than the margins measured here, so each repeat pairs an ingest with its own replays, and
the figure is their median. Results print as a table and go to bench/results/ingest-<scale>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import resource
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.machine import counters, since
from bench.served import served
from pipelines.ingest.runner import SOURCES, TRACE_REQUESTS_ENV, Endpoint, quiet_dlt, run_ingest

RESULTS = Path(__file__).parent / "results"
ERP_CONCURRENCY = 5  # the sandbox's default, like a standard NetSuite account
HOP_BY_HOP = {"connection", "content-length", "host", "accept-encoding", "user-agent"}


def replay(requests: list[tuple[str, str, dict[str, str], bytes | None]], workers: int) -> float:
    """Seconds for a bare client pool to fetch (and parse) the same requests."""
    work: queue.Queue = queue.Queue()
    for item in requests:
        work.put(item)
    errors: list[str] = []

    def run() -> None:
        with httpx.Client(timeout=120) as http:
            while True:
                try:
                    method, url, headers, body = work.get_nowait()
                except queue.Empty:
                    return
                clean = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
                response = http.request(method, url, headers=clean, content=body)
                while response.status_code == 429:  # a bare client still has to respect the rate limit
                    time.sleep(0.05)
                    response = http.request(method, url, headers=clean, content=body)
                if response.status_code >= 400:
                    errors.append(f"{response.status_code} {method} {url}")
                response.json()

    started = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"replay failed: {errors[:3]}")
    return time.perf_counter() - started


def read_trace(path: Path) -> list[tuple[str, str, dict[str, str], bytes | None]]:
    """The requests of a ``Q2C_TRACE_REQUESTS`` file (``<folder>/<source>.jsonl``), as :func:`replay` takes them."""
    requests = []
    with Path(path).open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                r = json.loads(line)
                body = r.get("body")
                requests.append(
                    (r["method"], r["url"], dict(r.get("headers") or {}), None if body is None else body.encode())
                )
    return requests


def replay_file(path: Path, workers: int, *, token: str | None = None) -> float:
    """Seconds for a bare client pool of ``workers`` threads to fetch (and parse) the requests traced in ``path``.
    A trace holds no credentials: ``token`` is sent as the bearer token of every request."""
    requests = read_trace(path)
    if token is not None:
        requests = [(m, u, {**h, "Authorization": f"Bearer {token}"}, b) for m, u, h, b in requests]
    return replay(requests, workers)


def ingest_ratio(
    trace_dir: Path,
    steps: dict[str, dict],
    workers: int,
    endpoints: dict[str, tuple[str, str]],
    wall_seconds: float | None = None,
) -> dict[str, Any]:
    """The bare client replaying each source's traced requests (``<trace_dir>/<source>.jsonl``). Per source, its
    seconds against the source's step (``steps["ingest.<source>"]``: its extraction and its own load, with
    ``counts.rows_loaded`` and ``counts.pages``); overall, the replays' sum against ``wall_seconds``, the ingest's wall
    time (else the steps' sum): ``ratio``, unrounded, as targets are judged on it."""
    per_source = {}
    for source in SOURCES:
        trace = trace_dir / f"{source}.jsonl"
        step = steps.get(f"ingest.{source}")
        if not trace.exists() or step is None:
            continue
        # NetSuite answers more than the account's concurrency limit with 429: stay within it
        threads = min(workers, ERP_CONCURRENCY) if source == "erp" else workers
        before = counters()
        bare = replay_file(trace, threads, token=endpoints[source][1])
        per_source[source] = {
            "machine": since(before),
            "ingest_seconds": step["seconds"],
            "bare_seconds": round(bare, 2),
            "rows": step["counts"].get("rows_loaded", 0),
            "pages": step["counts"].get("pages", 0),
            "ratio": round(bare / step["seconds"], 3) if step["seconds"] else None,
        }
    ingest_s = wall_seconds or sum(p["ingest_seconds"] for p in per_source.values())
    bare_s = sum(p["bare_seconds"] for p in per_source.values())
    return {
        "ratio": bare_s / ingest_s if ingest_s else None,
        "ingest_wall_seconds": ingest_s,
        "bare_seconds": round(bare_s, 2),
        "worst_source_ratio": min((p["ratio"] for p in per_source.values() if p["ratio"]), default=None),
        "sources": per_source,
    }


def measure_once(data_dir: Path, trace_dir: Path, endpoints: dict, sources: list[str], workers: int) -> dict:
    """One ingest of ``sources`` into ``data_dir`` as ``q2c ingest`` runs it, then the bare replays of its requests
    (:func:`ingest_ratio`), with each source's rows/s and dlt's phases."""
    before = os.environ.get(TRACE_REQUESTS_ENV)
    os.environ[TRACE_REQUESTS_ENV] = str(trace_dir)
    try:
        started = time.perf_counter()
        summaries = run_ingest(data_dir, sources, {s: Endpoint(*endpoints[s]) for s in sources})
        wall = time.perf_counter() - started
    finally:
        if before is None:
            del os.environ[TRACE_REQUESTS_ENV]
        else:
            os.environ[TRACE_REQUESTS_ENV] = before
    failed = [f"{s.source}: {s.error}" for s in summaries if not s.ok]
    if failed:
        raise SystemExit(f"ingest failed: {failed}")
    steps = {
        f"ingest.{s.source}": {
            "seconds": round(s.seconds, 2),
            "counts": {
                "rows_loaded": sum(t.rows_loaded for t in s.tables if not t.table.startswith("_")),
                "pages": s.pages,
            },
        }
        for s in summaries
    }
    run = ingest_ratio(trace_dir, steps, workers, endpoints, round(wall, 2))
    for summary in summaries:
        figures = run["sources"][summary.source]
        rows, ingest_s, bare_s = figures["rows"], figures["ingest_seconds"], figures["bare_seconds"]
        figures["ingest_rows_per_s"] = round(rows / ingest_s) if ingest_s else None
        figures["bare_rows_per_s"] = round(rows / bare_s) if bare_s else None
        figures["phases"] = {k: round(v, 2) for k, v in summary.phases.items()}
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="M", choices=["S", "M", "L"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="ingests, each with its own replays (the median counts)")
    parser.add_argument("--fixtures", type=Path, help="an existing fixture folder (default: generate one)")
    parser.add_argument("--sources", nargs="+", choices=SOURCES, default=list(SOURCES), help="only these sources")
    args = parser.parse_args()
    quiet_dlt()

    with tempfile.TemporaryDirectory(prefix="q2c-bench-ingest-") as tmp:
        folder = args.fixtures
        if folder is None:
            from sandbox.scenario.generate import generate

            folder = Path(tmp) / "scenario"
            generate(args.scale, args.seed, folder)
        runs = []
        with served(folder, Path(tmp) / "sandbox-data") as endpoints:
            for n in range(args.repeat):
                data, trace = Path(tmp) / f"data-{n}", Path(tmp) / f"trace-{n}"
                run = measure_once(data, trace, endpoints, args.sources, args.workers)
                runs.append(run)
                shutil.rmtree(data, ignore_errors=True)
                print(
                    f"  run {n + 1}: ingest {run['ingest_wall_seconds']} s, bare {run['bare_seconds']} s,"
                    f" ratio {run['ratio']:.3f}",
                    flush=True,
                )
    ratios = sorted(r["ratio"] for r in runs)
    median = statistics.median(ratios)
    typical = min(runs, key=lambda r: abs(r["ratio"] - median))  # the run whose ratio is the median (or nearest)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"ingest at {args.scale} (seed {args.seed}) as q2c ingests, against a bare client with {args.workers} workers:"
        f" ratio {median:.3f} (median of {len(runs)}: {', '.join(f'{r:.3f}' for r in ratios)})"
    )
    wall, bare = typical["ingest_wall_seconds"], typical["bare_seconds"]
    print(f"  the median run: ingest {wall} s of wall time, the replays {bare} s")
    header = ("source", "rows", "pages", "ingest s", "rows/s", "bare s", "rows/s", "ratio")
    print("  {:<8} {:>9} {:>7} {:>9} {:>9} {:>8} {:>9} {:>6}".format(*header))
    for source, r in typical["sources"].items():
        print(
            f"  {source:<8} {r['rows']:>9,} {r['pages']:>7,} {r['ingest_seconds']:>9} {r['ingest_rows_per_s']:>9,}"
            f" {r['bare_seconds']:>8} {r['bare_rows_per_s']:>9,} {r['ratio']:>6}"
        )
    for source, r in typical["sources"].items():
        print(f"  {source:<8} phases: " + ", ".join(f"{k} {v} s" for k, v in r["phases"].items()))
    print(f"  peak RSS {peak:,.0f} MB (the ingest process)")
    RESULTS.mkdir(exist_ok=True)
    out = {
        "scale": args.scale,
        "seed": args.seed,
        "workers": args.workers,
        "ratio": round(median, 3),
        "ratios": [round(r, 3) for r in ratios],
        "runs": [{**r, "ratio": round(r["ratio"], 3)} for r in runs],
        "peak_rss_mb": round(peak),
    }
    suffix = "" if set(args.sources) == set(SOURCES) else "-" + "-".join(args.sources)
    (RESULTS / f"ingest-{args.scale}{suffix}.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
