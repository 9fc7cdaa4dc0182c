"""Faults and crashes: raw tables end identical to a clean run's, row for row."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import hubspot
import pytest
from hubspot.crm.companies import PublicMergeInput
from hubspot.crm.deals import SimplePublicObjectInput

from pipelines.ingest.runner import Endpoint
from sandbox.faults import FaultPlan
from tests.pipelines.ingest.raw_snapshot import diff
from tests.pipelines.sources.crm.conftest import crm_objects, crm_server, crm_snapshot, loaded, run_crm

REPO = Path(__file__).resolve().parents[4]
RUN_ONCE = (
    "import sys; from pathlib import Path;"
    "from pipelines.ingest.runner import Endpoint, quiet_dlt, run_source; quiet_dlt();"
    "s = run_source(Path(sys.argv[1]), 'crm', Endpoint(sys.argv[2], sys.argv[3]));"
    "sys.exit(0 if s.ok else 1)"
)


@pytest.mark.parametrize("profile", ["flaky", "hostile"])
def test_fault_profiles_load_the_same_rows_as_none(scenario_dir, tmp_path, profile):
    with crm_server(scenario_dir, tmp_path / "crm-none") as endpoint:
        run_crm(tmp_path / "none", endpoint)
    seed = 7
    with crm_server(scenario_dir, tmp_path / "crm-faulty", faults=FaultPlan(profile, seed=seed)) as endpoint:
        summary = run_crm(tmp_path / profile, endpoint)
        assert summary.retries > 0, "the profile injected faults the client retried"
        assert loaded(run_crm(tmp_path / profile, endpoint)) == {}
    assert diff(crm_snapshot(tmp_path / "none"), crm_snapshot(tmp_path / profile)) == []


def _spawn(data_dir: Path, endpoint: Endpoint) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-c", RUN_ONCE, str(data_dir), endpoint.base_url, endpoint.token],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# where a run is killed: when a new entry appears in one of dlt's package folders (extract under way, extract
# done, normalized, loading, loaded but state not yet finalised), plus a short delay to land inside that step
KILL_POINTS = [
    ("dlt/q2c_crm/normalize/*/*", 0.15),  # mid-extraction (requests under way, nothing committed)
    ("dlt/q2c_crm/normalize/extracted/*", 0.0),  # extracted, not normalized
    ("dlt/q2c_crm/load/new/*", 0.0),  # normalized, not loading
    ("dlt/q2c_crm/load/normalized/*", 0.05),  # loading, some tables in
    ("dlt/q2c_crm/load/loaded/*", 0.0),  # loaded, state and trace not yet written
]


def _kill_at(data_dir: Path, endpoint: Endpoint, pattern: str, delay: float, hits: list[str]) -> None:
    existing = set(data_dir.glob(pattern))
    proc = _spawn(data_dir, endpoint)
    deadline = time.perf_counter() + 60
    while proc.poll() is None and time.perf_counter() < deadline:
        if set(data_dir.glob(pattern)) - existing:
            time.sleep(delay)
            break
        time.sleep(0.001)
    hits.append(f"{pattern}+{delay}s: " + ("killed mid-run" if proc.poll() is None else "had already finished"))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def _kill_then_rerun(start_from: Path | None, root: Path, endpoint: Endpoint) -> list[str]:
    """At each kill point (side by side, each its own data folder): a run SIGKILLed there, then a clean rerun."""
    targets = [root / f"kill-{i}" for i in range(len(KILL_POINTS))]
    hits: list[str] = []
    threads = []
    for target, (pattern, delay) in zip(targets, KILL_POINTS, strict=True):
        if start_from is not None:
            shutil.copytree(start_from, target)
        threads.append(threading.Thread(target=_kill_at, args=(target, endpoint, pattern, delay, hits)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for target in targets:
        run_crm(target, endpoint)
    return hits


@pytest.mark.slow
def test_sigkill_at_any_point_then_rerun_ends_identical(scenario_dir, tmp_path):
    with crm_server(scenario_dir, tmp_path / "crm") as endpoint:
        clean = tmp_path / "clean"
        run_crm(clean, endpoint)
        after_first = tmp_path / "after-first"
        shutil.copytree(clean, after_first)
        hits = _kill_then_rerun(None, tmp_path / "full", endpoint)
        expected = crm_snapshot(clean)
        for i, point in enumerate(KILL_POINTS):
            assert diff(expected, crm_snapshot(tmp_path / "full" / f"kill-{i}")) == [], f"first run killed at {point}"

        # an incremental run after a deal closed and two companies merged, killed the same way
        client = hubspot.HubSpot(access_token=endpoint.token, host=endpoint.base_url)
        deal = next(d for d in crm_objects(scenario_dir, "deals") if d["properties"]["dealstage"] != "closedwon")
        client.crm.deals.basic_api.update(deal["id"], SimplePublicObjectInput(properties={"dealstage": "closedwon"}))
        companies = [c["id"] for c in crm_objects(scenario_dir, "companies")[:2]]
        client.crm.companies.basic_api.merge(
            PublicMergeInput(primary_object_id=companies[0], object_id_to_merge=companies[1])
        )
        run_crm(clean, endpoint)
        hits += _kill_then_rerun(after_first, tmp_path / "incremental", endpoint)
        expected = crm_snapshot(clean)
        assert expected != crm_snapshot(after_first)
        for i, point in enumerate(KILL_POINTS):
            got = crm_snapshot(tmp_path / "incremental" / f"kill-{i}")
            assert diff(expected, got) == [], f"incremental run killed at {point}"
    mid_run = [h for h in hits if h.endswith("killed mid-run")]
    assert len(mid_run) >= len(hits) - 2, hits
