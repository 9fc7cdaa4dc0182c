"""The ERP source under injected faults (429s, 5xx, dropped connections, slow answers) and SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.data_dir import raw_path
from pipelines.ingest.runner import Endpoint
from tests.pipelines.ingest.raw_snapshot import diff, snapshot
from tests.pipelines.sources.erp.conftest import erp_sandbox
from tests.pipelines.sources.erp.support import DATASET, api, created_id, fixture_records, ingest, loaded

REPO = Path(__file__).resolve().parents[4]


@pytest.mark.slow
def test_flaky_and_hostile_profiles_load_the_same_raw_tables(scenario_dir, tmp_path):
    snapshots = {}
    for profile in ("none", "flaky", "hostile"):
        with erp_sandbox(scenario_dir, tmp_path / f"erp-{profile}", faults=profile) as (endpoint, _):
            data = tmp_path / profile
            summary = ingest(data, endpoint)
            if profile == "hostile":
                assert summary.retries > 0  # the faults were there, and were ridden out
                assert loaded(ingest(data, endpoint)) == {}
        snapshots[profile] = snapshot(raw_path(data), DATASET)
    assert diff(snapshots["none"], snapshots["flaky"]) == []
    assert diff(snapshots["none"], snapshots["hostile"]) == []


KILLABLE_RUN = """
import sys
from pathlib import Path
from pipelines.ingest.runner import Endpoint, quiet_dlt, run_source
quiet_dlt()
print("ready", flush=True)
summary = run_source(Path(sys.argv[1]), "erp", Endpoint(sys.argv[2], sys.argv[3]))
print("done", summary.error, flush=True)
"""


def kill_runs(data: Path, endpoint: Endpoint, delays: list[float]) -> list[str]:
    """Start the ingest in a subprocess once per delay and SIGKILL it that long after it is ready."""
    outcomes = []
    for delay in delays:
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLABLE_RUN, str(data), endpoint.base_url, endpoint.token],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "RUNTIME__LOG_LEVEL": "ERROR"},
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        outcomes.append("killed" if proc.returncode == -signal.SIGKILL else "finished")
    return outcomes


@pytest.mark.slow
def test_runs_killed_at_several_points_then_rerun_end_identical(erp, scenario_dir, tmp_path):
    endpoint = erp
    reference, killed = tmp_path / "reference", tmp_path / "killed"

    # the backfill, killed while extracting, normalising and loading: at points spread over the time it takes
    started = time.perf_counter()
    ingest(reference, endpoint)
    took = time.perf_counter() - started
    outcomes = kill_runs(killed, endpoint, [took * share for share in (0.03, 0.15, 0.3, 0.45, 0.6, 0.8)])
    assert outcomes.count("killed") >= 4, outcomes
    ingest(killed, endpoint)
    assert diff(snapshot(raw_path(reference), DATASET), snapshot(raw_path(killed), DATASET)) == []

    # an incremental run with a payment, an amended invoice and a deleted journal, killed too
    invoice = next(i for i in fixture_records(scenario_dir, "invoice") if i["status"]["id"] == "A")
    journal = fixture_records(scenario_dir, "journalEntry")[1]
    with api(endpoint) as ns:
        created_id(
            ns.post(
                "/customerPayment",
                json={
                    "customer": {"id": invoice["entity"]["id"]},
                    "payment": invoice["amountRemaining"],
                    "apply": {"items": [{"doc": {"id": invoice["id"]}, "amount": invoice["amountRemaining"]}]},
                },
            )
        )
        assert ns.delete(f"/journalEntry/{journal['id']}").status_code == 204
    ingest(reference, endpoint)
    kill_runs(killed, endpoint, [0.1, 0.3, 0.6])
    ingest(killed, endpoint)
    assert diff(snapshot(raw_path(reference), DATASET), snapshot(raw_path(killed), DATASET)) == []
    assert loaded(ingest(killed, endpoint)) == {}
