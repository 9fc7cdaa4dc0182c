"""The run's tail: the snapshot of a data folder beside a push, as ``q2c run`` runs them after the build.

Usage: python -m bench.tail --data-dir D [--postings 15000] [--concurrency 4]

``D`` is a data folder a build has filled (a bench cycle's ``<work>/data``, say). In order: its snapshot published
alone (into ``D/snapshot``, as a run does); a push of ``--postings`` postings alone, to a fresh ERP sandbox
(``bench.push``'s company, served by its own process); then the snapshot published again beside the same push to
another fresh sandbox, in a thread at the lowest CPU priority that gives way until the push is done
(``pipelines/run/orchestrate.py``). The tail of a run is the longer of the two beside each other: compare it with
the two alone, one after the other.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.push import company_postings, push_created
from bench.served import served
from pipelines.run.orchestrate import BESIDE_NICENESS, lower_thread_priority
from pipelines.run.snapshot import publish_snapshot
from tests.reverse_etl import warehouse as wh
from tests.reverse_etl.erp_company import write_company


def _beside(data_dir: Path, push_dir: Path, endpoint: tuple[str, str], expected: int, concurrency: int) -> dict:
    """The snapshot in a thread at the lowest CPU priority, giving way until the push (here) is done."""
    done, snapshot_seconds, failed = threading.Event(), [], []

    def snapshot() -> None:
        lower_thread_priority(BESIDE_NICENESS)
        begun = time.perf_counter()
        try:
            publish_snapshot(data_dir, f"bench-tail-beside-{int(time.time())}", beside=done)
        except BaseException as exc:  # raised in the caller, once the push is done
            failed.append(exc)
        snapshot_seconds.append(time.perf_counter() - begun)

    begun = time.perf_counter()
    thread = threading.Thread(target=snapshot, name="bench-tail-snapshot")
    thread.start()
    try:
        pushed = push_created(push_dir, endpoint, expected, concurrency)
    finally:
        done.set()
        thread.join()
    if failed:
        raise failed[0]
    return {
        "push_beside_seconds": round(pushed, 2),
        "snapshot_beside_seconds": round(snapshot_seconds[0], 2),
        "tail_seconds": round(time.perf_counter() - begun, 2),
    }


def measure(data_dir: Path, postings: int, concurrency: int = 4) -> dict[str, Any]:
    """Seconds of the snapshot alone, the push alone, and the two beside each other (and the tail they make)."""
    rows = company_postings(postings)
    figures: dict[str, Any] = {"postings": len(rows), "concurrency": concurrency}
    started = time.perf_counter()
    publish_snapshot(data_dir, f"bench-tail-alone-{int(time.time())}")
    figures["snapshot_alone_seconds"] = round(time.perf_counter() - started, 2)
    with tempfile.TemporaryDirectory(prefix="q2c-bench-tail-") as tmp:
        fixtures = write_company(Path(tmp) / "fixtures")
        wh.write_warehouse(Path(tmp) / "push-alone", rows)
        with served(fixtures, Path(tmp) / "sandbox-alone") as endpoints:
            pushed = push_created(Path(tmp) / "push-alone", endpoints["erp"], len(rows), concurrency)
            figures["push_alone_seconds"] = round(pushed, 2)
        wh.write_warehouse(Path(tmp) / "push-beside", rows)
        with served(fixtures, Path(tmp) / "sandbox-beside") as endpoints:
            figures.update(_beside(data_dir, Path(tmp) / "push-beside", endpoints["erp"], len(rows), concurrency))
    figures["one_after_the_other_seconds"] = round(figures["snapshot_alone_seconds"] + figures["push_alone_seconds"], 2)
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a data folder a build has filled")
    parser.add_argument("--postings", type=int, default=15000, help="about this many postings to push")
    parser.add_argument("--concurrency", type=int, default=4, help="the push's requests in flight")
    args = parser.parse_args(argv)
    figures = measure(args.data_dir, args.postings, args.concurrency)
    print(f"the tail on {args.data_dir}, a push of {figures['postings']:,} postings at {args.concurrency} in flight")
    print(f"  snapshot alone      {figures['snapshot_alone_seconds']:8.2f} s")
    print(f"  push alone          {figures['push_alone_seconds']:8.2f} s")
    print(
        f"  beside each other   {figures['tail_seconds']:8.2f} s  (the snapshot {figures['snapshot_beside_seconds']} s,"
        f" the push {figures['push_beside_seconds']} s; one after the other {figures['one_after_the_other_seconds']} s)"
    )
    return figures


if __name__ == "__main__":
    main()
