"""The demo: a generated company served by the three sandboxes, two full q2c runs, and what they found.

Generate an S scenario, serve it on free loopback ports, check that each system serves exactly the fixture
folder, then `q2c run` (ingest → build → snapshot → push) with the reconciliation's clock set to the
sandbox's. Change some data through the systems' own APIs (payments, a seat amendment with its deal, a fixed
product mapping) and run again, incrementally. Print the exceptions by type and severity with amounts, the
postings sent by type and both runs' timings, compare the first run's exceptions with the scenario's ground
truth, and write the HTML report.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipelines.demo_changes import make_changes
from pipelines.run.orchestrate import RunOptions, RunOutcome, execute_run
from pipelines.run.snapshot import snapshot_path
from sandbox.clock import SandboxClock
from sandbox.cluster import VENDOR_NAMES, SandboxCluster
from sandbox.fixtures import read_ground_truth, read_manifest
from sandbox.inventory import COUNTERS
from sandbox.scenario_cache import scenario_folder

Echo = Callable[[str], None]
REJECTED = "POSTING_REJECTED"
ENV_NAMES = ("SOURCES__BILLING__BASE_URL", "SOURCES__CRM__BASE_URL", "SOURCES__ERP__BASE_URL", "Q2C_NOW")


def run_demo(root: Path, *, scale: str = "S", seed: int = 7, echo: Echo = print) -> bool:
    """Returns True when the sandboxes served the scenario, both runs succeeded and the first run's open
    exceptions equal the ground truth (POSTING_REJECTED comes from the push, so it shows after the push)."""
    started = time.perf_counter()
    fixtures = scenario_folder(root, scale, seed, echo=echo)
    manifest = read_manifest(fixtures)
    truth_ok = True
    with SandboxCluster(fixtures, seed=seed, scratch_root=root / "sandbox") as cluster:
        echo(f"\nscenario {scale} seed {seed}, as of {manifest.get('as_of')}: {fixtures}")
        served_ok = _inventory(cluster, manifest.get("counts", {}), echo)
        with _pointed_at(cluster):
            first = _run("first run", root, cluster.clock, echo)
            truth = {(r["exception_type"], r["subject_key"]) for r in read_ground_truth(fixtures)}
            # the ERP refuses some pushes only when they are made: those show from the next build on
            truth_ok = _compare("first run (before its push)", root, {t for t in truth if t[0] != REJECTED}, echo)
            echo("\nChanges made through the systems' APIs:")
            changes = make_changes(cluster, _unmapped_products(root))
            for line in changes.lines():
                echo(line)
            second = _run("second run (incremental)", root, cluster.clock, echo)
            truth_ok &= _compare("second run: refused pushes", root, {t for t in truth if t[0] == REJECTED}, echo)
        errors = cluster.errors()
    _summary(root, first, second, echo)
    report = _write_report(root, echo)
    for error in errors:
        echo(f"sandbox error: {error}")
    ok = served_ok and truth_ok and first.exit_code == 0 and second.exit_code == 0 and not errors
    verdict = "the whole cycle ran twice on the sandbox" if ok else "PROBLEMS FOUND"
    echo(f"\n{verdict} in {time.perf_counter() - started:.1f}s" + (f"; report: {report}" if report else ""))
    return ok


@contextmanager
def _pointed_at(cluster: SandboxCluster) -> Iterator[None]:
    """q2c's documented config variables, pointed at this cluster's ports for the demo's duration."""
    saved = {name: os.environ.get(name) for name in ENV_NAMES}
    for endpoint in cluster.endpoints:
        os.environ[f"SOURCES__{endpoint.system.upper()}__BASE_URL"] = endpoint.url
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _inventory(cluster: SandboxCluster, expected: dict[str, int], echo: Echo) -> bool:
    ok = True
    for endpoint in cluster.endpoints:
        holdings = COUNTERS[endpoint.system](endpoint.url, endpoint.token)
        wrong = [h for h in holdings if expected.get(f"{h.system}/{h.collection}", h.count) != h.count]
        total = sum(h.count for h in holdings)
        mark = "matches the fixtures" if not wrong else "MISMATCH: " + ", ".join(h.collection for h in wrong)
        echo(f"  {VENDOR_NAMES[endpoint.system]:<26} {endpoint.url}  {total:>7,} objects, {mark}")
        ok &= not wrong
    return ok


def _run(title: str, root: Path, clock: SandboxClock, echo: Echo) -> RunOutcome:
    # the reconciliation's "now" is the sandbox's clock, not the wall clock
    os.environ["Q2C_NOW"] = clock.now_datetime().strftime("%Y-%m-%dT%H:%M:%SZ")
    echo(f"\n{title}: q2c run (now = {os.environ['Q2C_NOW']})")
    outcome = execute_run(root, RunOptions())
    for step in outcome.steps:
        counts = ", ".join(f"{k} {v}" for k, v in step.result.counts.items() if k != "push_run_id")
        state = "ok" if step.result.ok else f"FAILED: {step.result.error}"
        echo(f"  {step.name:<16} {step.seconds:>6.1f}s  {state}  {counts}")
    echo(f"  exit code {int(outcome.exit_code)} {outcome.message}".rstrip())
    return outcome


def _compare(title: str, root: Path, expected: set[tuple[str, str]], echo: Echo) -> bool:
    """Open exceptions of the types in ``expected`` against the scenario's ground truth."""
    types = sorted({t for t, _ in expected})
    with duckdb.connect(str(snapshot_path(root)), read_only=True) as con:
        found = set(
            con.execute(
                "select exception_type, subject_key from reconciliation.exceptions "
                "where status = 'open' and list_contains(?, exception_type)",
                [types],
            ).fetchall()
        )
    missed, extra = expected - found, found - expected
    counts = f"{len(expected)} injected, {len(expected & found)} found, {len(missed)} missed, {len(extra)} extra"
    echo(f"\nGround truth, {title}: {counts}")
    echo(f"  {'type':<28} {'expected':>8} {'found':>6} {'missed':>6} {'extra':>6}")
    for exception_type in types:
        want = {s for t, s in expected if t == exception_type}
        got = {s for t, s in found if t == exception_type}
        row = f"{len(want):>8} {len(want & got):>6} {len(want - got):>6} {len(got - want):>6}"
        echo(f"  {exception_type:<28} {row}")
    for kind, rows in (("missed", missed), ("extra", extra)):
        for exception_type, subject in sorted(rows)[:10]:
            echo(f"  {kind}: {exception_type} {subject}")
    return not missed and not extra


def _unmapped_products(root: Path) -> list[str]:
    with duckdb.connect(str(snapshot_path(root)), read_only=True) as con:
        rows = con.execute(
            "select subject_key from reconciliation.exceptions "
            "where exception_type = 'PRODUCT_UNMAPPED' and status = 'open' order by subject_key"
        ).fetchall()
    return [r[0] for r in rows]


def _summary(root: Path, first: RunOutcome, second: RunOutcome, echo: Echo) -> None:
    with duckdb.connect(str(snapshot_path(root)), read_only=True) as con:
        rows = con.execute(
            """
            select exception_type, severity, count(*), sum(amount_at_risk_reporting)
            from reconciliation.exceptions where status = 'open'
            group by all order by sum(amount_at_risk_reporting) desc nulls last, exception_type
            """
        ).fetchall()
        resolved = con.execute("select count(*) from reconciliation.exceptions where status = 'resolved'").fetchone()[0]
    echo(f"\nOpen exceptions after the second run ({sum(r[2] for r in rows)} open, {resolved} resolved):")
    echo(f"  {'type':<28} {'severity':<9} {'count':>5} {'at risk (USD)':>15}")
    for exception_type, severity, count, amount in rows:
        echo(f"  {exception_type:<28} {severity:<9} {count:>5} {amount or 0:>15,.2f}")
    with sqlite3.connect(f"file:{root / 'ops.sqlite'}?mode=ro", uri=True) as ops:
        postings = ops.execute(
            "select record_type, state, count(*) from postings group by 1, 2 order by 1, 2"
        ).fetchall()
    echo("\nPostings in the ledger (what q2c sent to the ERP), by type and state:")
    for record_type, state, count in postings:
        echo(f"  {record_type:<16} {state:<10} {count:>5}")
    echo("\nTimings:")
    for title, outcome in (("first run", first), ("second run", second)):
        total = sum(s.seconds for s in outcome.steps)
        steps = ", ".join(f"{s.name} {s.seconds:.1f}s" for s in outcome.steps)
        echo(f"  {title:<11} {total:>6.1f}s  ({steps})")


def _write_report(root: Path, echo: Echo) -> Path | None:
    try:
        from pipelines.report import write_report
    except ImportError:  # the report module is optional in this build
        return None
    path = write_report(root, root / "report.html")
    echo(f"\nReport written: {path}")
    return path
