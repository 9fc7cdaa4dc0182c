"""Push benchmark: postings/s of ``reverse_etl.push`` against a bare httpx client POSTing the same payloads.

Usage: python -m bench.push [--postings 2000] [--concurrency 4] [--repeat 1]

Both sides run against a fresh ERP sandbox served by its own process (``q2c sandbox serve``, as a remote API
would be), with the same payloads, in the same record-type order, at the same number of requests in flight.
The bare client keeps no ledger, does no diff and only retries 429s; the push reads ``warehouse.duckdb``,
writes the ledger (two durable SQLite transactions per posting) and classifies every answer.
``ratio`` = bare seconds / push seconds (push rate / bare rate). Results go to bench/results/push-<N>.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench.push_ceiling import post_in_order
from bench.served import served
from reverse_etl.publish_rows import PUSH_ORDER
from reverse_etl.push import push
from tests.reverse_etl import warehouse as wh
from tests.reverse_etl.erp_company import write_company

RESULTS = Path(__file__).parent / "results"


def bare_post(url: str, token: str, postings: list[wh.Posting], concurrency: int) -> float:
    """Seconds for ``concurrency`` threads to POST every payload, one record type after another."""
    bodies = {t: [(p.payload.encode(), False) for p in postings if p.record_type == t] for t in PUSH_ORDER}
    seconds, errors, _ = post_in_order(url, token, bodies, concurrency)
    if errors:
        raise RuntimeError(f"bare client failed: {errors[:3]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=2000, help="about this many postings (all record types)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight, both clients")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side; the best is kept")
    args = parser.parse_args()
    per_customer = len(wh.company_postings(6)) / 6
    postings = wh.company_postings(max(1, round(args.postings / per_customer)))

    bare_runs, push_runs = [], []
    with tempfile.TemporaryDirectory(prefix="q2c-bench-push-") as tmp:
        fixtures = write_company(Path(tmp) / "fixtures")
        for i in range(args.repeat):
            with served(fixtures, Path(tmp) / f"sandbox-bare-{i}") as endpoints:
                bare_runs.append(bare_post(*endpoints["erp"], postings, args.concurrency))
            data_dir = Path(tmp) / f"data-{i}"
            wh.write_warehouse(data_dir, postings)
            with served(fixtures, Path(tmp) / f"sandbox-push-{i}") as endpoints:
                from reverse_etl.erp_client import ErpConfig

                url, token = endpoints["erp"]
                summary = push(data_dir, endpoint=ErpConfig(url, token, max_concurrency=args.concurrency))
                if not summary.ok or summary.count("created") != len(postings):
                    raise SystemExit(f"push failed:\n{summary.format(samples=False)}")
                push_runs.append(summary.seconds)
    bare, pushed = min(bare_runs), min(push_runs)
    result = {
        "postings": len(postings),
        "concurrency": args.concurrency,
        "bare_seconds": round(bare, 2),
        "bare_postings_per_s": round(len(postings) / bare),
        "push_seconds": round(pushed, 2),
        "push_postings_per_s": round(len(postings) / pushed),
        "ratio": round(bare / pushed, 2),
    }
    print(f"push of {len(postings):,} postings at {args.concurrency} in flight (best of {args.repeat})")
    print(f"  bare httpx  {bare:8.2f} s  {result['bare_postings_per_s']:>7,} postings/s")
    print(f"  q2c push    {pushed:8.2f} s  {result['push_postings_per_s']:>7,} postings/s")
    print(f"  ratio       {result['ratio']:8.2f}  (target ≥ 0.8)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"push-{len(postings)}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
