"""The demo: a generated company served by the three sandboxes, and what each system holds.

For now (before ingest, build and push exist) it proves the sandbox end to end: generate an S scenario,
serve it on free loopback ports, count every collection through the vendors' APIs, compare with the
fixture manifest, and summarise the ground truth of injected exceptions.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

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
        errors = cluster.errors()
    truth = Counter(row["exception_type"] for row in read_ground_truth(fixtures))
    echo(f"\nInjected discrepancies (ground truth, {sum(truth.values())} in all):")
    for code, n in sorted(truth.items()):
        echo(f"  {code:<28} {n:>5}")
    for error in errors:
        echo(f"sandbox error: {error}")
    echo(
        f"\n{'all systems served exactly the scenario' if all_match and not errors else 'DIFFERENCES FOUND'}"
        f" in {time.perf_counter() - started:.1f}s"
    )
    return all_match and not errors
