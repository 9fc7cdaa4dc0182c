"""The demo: a generated company served by the three sandboxes, what each system holds, and the ingest.

Generate an S scenario, serve it on free loopback ports, count every collection through the vendors'
APIs and compare with the fixture manifest, ingest all three systems into ``raw.duckdb`` twice (the
second run shows the incremental path loading nothing), and summarise the ground truth of injected
exceptions. Build and push join when they exist.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from pipelines.ingest.report import format_summary
from pipelines.ingest.runner import SOURCES, Endpoint, raw_path, run_ingest
from sandbox.cluster import VENDOR_NAMES, SandboxCluster
from sandbox.fixtures import read_ground_truth, read_manifest
from sandbox.inventory import COUNTERS, Holding
from sandbox.scenario_cache import scenario_folder


def run_demo(root: Path, *, scale: str = "S", seed: int = 7, echo: Callable[[str], None] = print) -> bool:
    """Returns True when every system served exactly what the fixture folder holds."""
    started = time.perf_counter()
    fixtures = scenario_folder(root, scale, seed, echo=echo)
    manifest = read_manifest(fixtures)
    expected = manifest.get("counts", {})
    all_match = True
    with SandboxCluster(fixtures, seed=seed, scratch_root=root / "sandbox") as cluster:
        echo(f"\nscenario {scale} seed {seed}, as of {manifest.get('as_of')}: {fixtures}")
        for endpoint in cluster.endpoints:
            echo(f"\n{VENDOR_NAMES[endpoint.system]} at {endpoint.url} (token {endpoint.token})")
            holdings: list[Holding] = COUNTERS[endpoint.system](endpoint.url, endpoint.token)
            for h in holdings:
                want = expected.get(f"{h.system}/{h.collection}")
                ok = want is None or want == h.count
                all_match &= ok
                mark = "ok" if ok else f"MISMATCH: manifest says {want}"
                echo(f"  {h.collection:<22} {h.count:>8,}  ({h.requests} requests)  {mark}")
        endpoints = {e.system: Endpoint(e.url, e.token) for e in cluster.endpoints}
        echo(f"\nIngest into {raw_path(root)}:")
        first = run_ingest(root, SOURCES, endpoints)
        echo(format_summary(first))
        echo("\nIngest again (incremental; nothing changed in the sandbox):")
        second = run_ingest(root, SOURCES, endpoints)
        echo(format_summary(second))
        all_match &= all(s.ok for s in first + second)
        errors = cluster.errors()
    truth = Counter(row["exception_type"] for row in read_ground_truth(fixtures))
    echo(f"\nInjected discrepancies (ground truth, {sum(truth.values())} in all):")
    for code, n in sorted(truth.items()):
        echo(f"  {code:<28} {n:>5}")
    for error in errors:
        echo(f"sandbox error: {error}")
    ok = all_match and not errors
    verdict = "all systems served exactly the scenario, and ingest loaded it" if ok else "PROBLEMS FOUND"
    echo(f"\n{verdict} in {time.perf_counter() - started:.1f}s")
    return all_match and not errors
