"""Sandbox benchmark: scenario generation time, and serving rate (pages/s) per system.

Usage: python -m bench.sandbox --scale M [--seed 7] [--workers 8] [--seconds 10]

Serving rate: a pool of concurrent httpx clients pulls full pages (100 objects for billing and CRM,
1,000 rows for SuiteQL) for a fixed time and reports pages/s and objects/s. Results go to stdout as one
table and to bench/results/sandbox-<scale>.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import threading
import time
from pathlib import Path

import httpx

from sandbox.cluster import SandboxCluster
from sandbox.fixtures import read_manifest

RESULTS = Path(__file__).parent / "results"


def _billing_page(http: httpx.Client, cursor: dict) -> int:
    params = {"limit": 100}
    if cursor.get("after"):
        params["starting_after"] = cursor["after"]
    body = http.get("/v1/invoices", params=params).json()
    cursor["after"] = body["data"][-1]["id"] if body["has_more"] else None
    return len(body["data"])


def _crm_page(http: httpx.Client, cursor: dict) -> int:
    params = {"limit": 100, "properties": "name,domain,hs_lastmodifieddate"}
    if cursor.get("after"):
        params["after"] = cursor["after"]
    body = http.get("/crm/v3/objects/companies", params=params).json()
    cursor["after"] = body.get("paging", {}).get("next", {}).get("after")
    return len(body["results"])


def _erp_page(http: httpx.Client, cursor: dict) -> int:
    offset = cursor.get("offset", 0)
    body = http.post(
        "/services/rest/query/v1/suiteql",
        params={"limit": 1000, "offset": offset},
        json={"q": "SELECT id, tranid, entity, foreigntotal, lastmodifieddate FROM transaction ORDER BY id"},
        headers={"Prefer": "transient"},
    ).json()
    cursor["offset"] = offset + body["count"] if body["hasMore"] else 0
    return body["count"]


PAGERS = {"billing": _billing_page, "crm": _crm_page, "erp": _erp_page}


def serving_rate(url: str, token: str, pager, *, workers: int, seconds: float) -> dict:
    pages = objects = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def work() -> None:
        nonlocal pages, objects
        cursor: dict = {}
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
            while time.perf_counter() < deadline:
                n = pager(http, cursor)
                with lock:
                    pages += 1
                    objects += n

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return {"pages_per_s": round(pages / elapsed, 1), "objects_per_s": round(objects / elapsed), "pages": pages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="M", choices=["S", "M", "L"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, help="fixture folder (default: a temporary one)")
    args = parser.parse_args()

    from sandbox.scenario.generate import generate

    with tempfile.TemporaryDirectory(prefix="q2c-bench-") as tmp:
        folder = args.out or Path(tmp) / "scenario"
        started = time.perf_counter()
        generate(args.scale, args.seed, folder)
        generate_s = time.perf_counter() - started
        size_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
        counts = read_manifest(folder)["counts"]
        started = time.perf_counter()
        with SandboxCluster(folder, scratch_root=Path(tmp) / "scratch") as cluster:
            load_s = time.perf_counter() - started
            rates = {
                e.system: serving_rate(e.url, e.token, PAGERS[e.system], workers=args.workers, seconds=args.seconds)
                for e in cluster.endpoints
            }
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "scale": args.scale,
        "seed": args.seed,
        "generate_seconds": round(generate_s, 1),
        "fixture_mb": round(size_mb, 1),
        "invoices": counts.get("billing/invoices"),
        "customers": counts.get("billing/customers"),
        "load_seconds": round(load_s, 1),
        "serving": rates,
        "workers": args.workers,
        "peak_rss_mb": round(peak_rss_mb),
    }
    print(
        f"scale {args.scale}: {result['customers']:,} customers, {result['invoices']:,} invoices, "
        f"{result['fixture_mb']} MB of fixtures"
    )
    print(f"  generate       {result['generate_seconds']:>8} s")
    print(f"  load stores    {result['load_seconds']:>8} s")
    for system, r in rates.items():
        print(
            f"  serve {system:<8} {r['pages_per_s']:>8} pages/s  {r['objects_per_s']:>8} objects/s "
            f"({args.workers} clients)"
        )
    print(f"  peak RSS       {result['peak_rss_mb']:>8} MB")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"sandbox-{args.scale}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
