"""Ingest benchmark: rows/s per source against the rate a bare concurrent httpx client pulls the same pages.

Usage: python -m bench.ingest [--scale M] [--seed 7] [--workers 8] [--fixtures DIR] [--sources billing ...]

For each source, in one run against one sandbox (served by its own process, as a remote API would be): a
full ingest into a fresh data folder (its requests are recorded), then a bare httpx client replays exactly
those requests with ``--workers`` threads, parsing each JSON body (a client has to). The replay knows every
cursor in advance, so it is an upper bound no paging client can reach. ``ratio`` = bare seconds / ingest
seconds, i.e. ingest rate / bare rate. Results print as a table and go to bench/results/ingest-<scale>.json.
"""

from __future__ import annotations

import argparse
import json
import queue
import resource
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.served import served
from pipelines.ingest.runner import SOURCES, Endpoint, quiet_dlt, run_source
from pipelines.sources.http_client import RequestStats

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="M", choices=["S", "M", "L"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=8)
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
        results = {}
        with served(folder, Path(tmp) / "sandbox-data") as endpoints:
            for source in args.sources:
                url, token = endpoints[source]
                stats = RequestStats(keep_requests=True)
                summary = run_source(Path(tmp) / "data", source, Endpoint(url, token), stats=stats)
                if not summary.ok:
                    raise SystemExit(f"{source} ingest failed: {summary.error}")
                rows = sum(t.rows_loaded for t in summary.tables if not t.table.startswith("_"))
                # NetSuite answers more than the account's concurrency limit with 429: stay within it
                workers = min(args.workers, ERP_CONCURRENCY) if source == "erp" else args.workers
                bare = replay(stats.requests or [], workers)
                results[source] = {
                    "rows": rows,
                    "requests": len(stats.requests or []),
                    "ingest_seconds": round(summary.seconds, 2),
                    "ingest_rows_per_s": round(rows / summary.seconds),
                    "bare_seconds": round(bare, 2),
                    "bare_rows_per_s": round(rows / bare),
                    "ratio": round(bare / summary.seconds, 2),
                    "phases": {k: round(v, 2) for k, v in summary.phases.items()},
                }
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ingest at {args.scale} (seed {args.seed}), bare client with {args.workers} workers")
    header = ("source", "rows", "requests", "ingest s", "rows/s", "bare s", "rows/s", "ratio")
    print("  {:<8} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9} {:>6}".format(*header))
    for source, r in results.items():
        print(
            f"  {source:<8} {r['rows']:>9,} {r['requests']:>9,} {r['ingest_seconds']:>9} {r['ingest_rows_per_s']:>9,}"
            f" {r['bare_seconds']:>8} {r['bare_rows_per_s']:>9,} {r['ratio']:>6}"
        )
    for source, r in results.items():
        print(f"  {source:<8} phases: " + ", ".join(f"{k} {v} s" for k, v in r["phases"].items()))
    print(f"  peak RSS {peak:,.0f} MB (the ingest process)")
    RESULTS.mkdir(exist_ok=True)
    out = {"scale": args.scale, "seed": args.seed, "workers": args.workers, "sources": results, "peak_rss_mb": peak}
    suffix = "" if set(args.sources) == set(SOURCES) else "-" + "-".join(args.sources)
    (RESULTS / f"ingest-{args.scale}{suffix}.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
