"""Push benchmark: postings/s of ``reverse_etl.push`` against a bare httpx client POSTing the same payloads.

Usage: python -m bench.push [--postings 2000] [--concurrency 4] [--repeat 1] [--beside-disk]

Both sides run against a fresh ERP sandbox served by its own process (``q2c sandbox serve``, as a remote API
would be), with the same payloads, in the same record-type order, at the same number of requests in flight.
The bare client keeps no ledger, does no diff and only retries 429s; the push reads ``warehouse.duckdb``,
writes the ledger (a synced SQLite commit per 64 postings before they are sent, and an unsynced one per outcome)
and classifies every answer. ``--beside-disk``: each side runs beside a process writing 64 MB chunks, each synced,
to the same disk, as the snapshot's file copy does beside the push in ``q2c run`` (the disk's syncs are slow then).
``ratio`` = bare seconds / push seconds (push rate / bare rate). Results go to bench/results/push-<N>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench.push_ceiling import post_in_order
from bench.served import served
from reverse_etl.erp_client import ErpConfig
from reverse_etl.publish_rows import PUSH_ORDER
from reverse_etl.push import push
from tests.reverse_etl import warehouse as wh
from tests.reverse_etl.erp_company import write_company

RESULTS = Path(__file__).parent / "results"


def bare_post(url: str, token: str, postings: list[wh.Posting], concurrency: int) -> float:
    """Seconds for ``concurrency`` threads to POST every payload, one record type after another."""
    bodies = {t: [(p.payload.encode(), False) for p in postings if p.record_type == t] for t in PUSH_ORDER}
    seconds, errors, _, _ = post_in_order(url, token, bodies, concurrency)
    if errors:
        raise RuntimeError(f"bare client failed: {errors[:3]}")
    return seconds


CHUNK_BYTES = 64 * 1024 * 1024  # the snapshot's COPY_CHUNK_BYTES
CHUNKS_PER_FILE = 40


def _write_synced_chunks(path: str, stop: multiprocessing.synchronize.Event) -> None:
    chunk = os.urandom(CHUNK_BYTES)
    while not stop.is_set():
        with open(path, "wb") as out:
            for _ in range(CHUNKS_PER_FILE):
                if stop.is_set():
                    break
                out.write(chunk)
                os.fdatasync(out.fileno())
    os.unlink(path)


@contextlib.contextmanager
def disk_writer(folder: Path, on: bool) -> Iterator[None]:
    """While inside: (when ``on``) a process writing synced 64 MB chunks into ``folder``, a file of 2.5 GB rewritten."""
    if not on:
        yield
        return
    stop = multiprocessing.Event()
    writer = multiprocessing.Process(target=_write_synced_chunks, args=(str(folder / "disk-writer.bin"), stop))
    writer.start()
    try:
        yield
    finally:
        stop.set()
        writer.join()


def company_postings(about: int) -> list[wh.Posting]:
    """The synthetic company's postings (every record type) for as many customers as make about ``about``."""
    per_customer = len(wh.company_postings(6)) / 6
    return wh.company_postings(max(1, round(about / per_customer)))


def push_created(data_dir: Path, endpoint: tuple[str, str], expected: int, concurrency: int) -> float:
    """Seconds of ``q2c push`` from ``data_dir`` to the ERP at ``endpoint`` (url, token); stops the benchmark
    unless every one of the ``expected`` postings was created."""
    url, token = endpoint
    summary = push(data_dir, endpoint=ErpConfig(url, token, max_concurrency=concurrency))
    if not summary.ok or summary.count("created") != expected:
        raise SystemExit(f"push failed:\n{summary.format(samples=False)}")
    return summary.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=2000, help="about this many postings (all record types)")
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight, both clients")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side; the best is kept")
    parser.add_argument("--beside-disk", action="store_true", help="each side beside a writer of synced chunks")
    args = parser.parse_args()
    postings = company_postings(args.postings)

    bare_runs, push_runs = [], []
    with tempfile.TemporaryDirectory(prefix="q2c-bench-push-") as tmp:
        fixtures = write_company(Path(tmp) / "fixtures")
        folder, beside_disk = Path(tmp), args.beside_disk
        for i in range(args.repeat):
            with served(fixtures, folder / f"sandbox-bare-{i}") as endpoints, disk_writer(folder, beside_disk):
                bare_runs.append(bare_post(*endpoints["erp"], postings, args.concurrency))
            data_dir = Path(tmp) / f"data-{i}"
            wh.write_warehouse(data_dir, postings)
            with served(fixtures, folder / f"sandbox-push-{i}") as endpoints, disk_writer(folder, beside_disk):
                push_runs.append(push_created(data_dir, endpoints["erp"], len(postings), args.concurrency))
    bare, pushed = min(bare_runs), min(push_runs)
    result = {
        "postings": len(postings),
        "concurrency": args.concurrency,
        "bare_seconds": round(bare, 2),
        "bare_postings_per_s": round(len(postings) / bare),
        "push_seconds": round(pushed, 2),
        "push_postings_per_s": round(len(postings) / pushed),
        "ratio": round(bare / pushed, 2),
        "beside_disk": args.beside_disk,
    }
    beside = ", beside a writer of synced 64 MB chunks" if args.beside_disk else ""
    print(f"push of {len(postings):,} postings at {args.concurrency} in flight (best of {args.repeat}{beside})")
    print(f"  bare httpx  {bare:8.2f} s  {result['bare_postings_per_s']:>7,} postings/s")
    print(f"  q2c push    {pushed:8.2f} s  {result['push_postings_per_s']:>7,} postings/s")
    print(f"  ratio       {result['ratio']:8.2f}  (target ≥ 0.8)")
    RESULTS.mkdir(exist_ok=True)
    name = f"push-{len(postings)}{'-beside-disk' if args.beside_disk else ''}.json"
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
