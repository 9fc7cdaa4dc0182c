"""Faults change nothing: raw loaded under the flaky and hostile profiles (429s, 5xx, dropped connections,
repeated and reordered events) is row for row the raw loaded under none; a run killed with SIGKILL at any
moment and then rerun ends identical to an uninterrupted one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.data_dir import raw_path
from sandbox.clock import SandboxClock, parse_iso
from sandbox.cluster import SandboxCluster
from sandbox.fixtures import read_manifest
from tests.pipelines.conftest import endpoints_of
from tests.pipelines.ingest.raw_snapshot import diff, snapshot

from .support import DATASET, fixture_objects, ingest, loaded
from .test_changes import make_changes, pick_targets

REPO = Path(__file__).resolve().parents[4]


def _without_request_ids(raw: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Events made by API writes name the request that caused them; the sandbox numbers every request,
    faulted attempts included, so those ids differ by profile while everything else must not."""
    events = []
    for row in raw["events"]:
        payload = json.loads(row[-1])
        payload.get("request", {}).pop("id", None)
        events.append((*row[:-1], json.dumps(payload, sort_keys=True)))
    return {**raw, "events": sorted(events, key=repr)}


def _backfill_change_catch_up(scenario_dir: Path, work: Path, faults: str) -> tuple[dict, dict]:
    """Backfill, change things through the API (all in the sandbox's frozen second), catch up from events;
    the raw snapshots after the backfill and after the catch-up."""
    clock = SandboxClock(parse_iso(read_manifest(scenario_dir)["as_of"]), frozen=True)
    cluster = SandboxCluster(scenario_dir, faults=faults, scratch_root=work / "scratch", clock=clock).start()
    try:
        endpoint = endpoints_of(cluster)["billing"]
        data_dir = work / "data"
        ingest(data_dir, endpoint)
        backfilled = snapshot(raw_path(data_dir), DATASET)
        fixture_items = {i["id"] for i in fixture_objects(scenario_dir, "invoiceitems")}
        make_changes(endpoint, pick_targets(scenario_dir), fixture_items)
        caught_up = ingest(data_dir, endpoint)
        assert loaded(caught_up).get("invoices") == 1
        if faults != "none":
            assert sum(cluster.servers["billing"].app.faults.injected.values()) > 0
    finally:
        cluster.stop()
    return backfilled, _without_request_ids(snapshot(raw_path(data_dir), DATASET))


@pytest.mark.slow
def test_fault_profiles_load_identical_raw(scenario_dir, tmp_path) -> None:
    backfilled, caught_up = _backfill_change_catch_up(scenario_dir, tmp_path / "none", "none")
    for faults in ("flaky", "hostile"):
        faulted_backfill, faulted_catch_up = _backfill_change_catch_up(scenario_dir, tmp_path / faults, faults)
        assert diff(backfilled, faulted_backfill) == [], faults
        assert diff(caught_up, faulted_catch_up) == [], faults


INGEST = (
    "import sys; from pathlib import Path; from pipelines.ingest.runner import Endpoint, quiet_dlt, run_source;"
    "quiet_dlt(); s = run_source(Path(sys.argv[1]), 'billing', Endpoint(sys.argv[2], sys.argv[3]));"
    "print('ok' if s.error is None else s.error)"
)


def _ingest_process(data_dir: Path, endpoint) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", INGEST, str(data_dir), endpoint.base_url, endpoint.token],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "RUNTIME__LOG_LEVEL": "ERROR"},
    )


@pytest.mark.slow
def test_sigkill_at_any_moment_then_rerun_is_identical(sandbox, tmp_path) -> None:
    endpoint = endpoints_of(sandbox)["billing"]
    ingest(tmp_path / "uninterrupted", endpoint)
    expected = snapshot(raw_path(tmp_path / "uninterrupted"), DATASET)

    # measure one run, then kill others at moments spread over it (start-up, extract, normalize, load)
    started = time.perf_counter()
    probe = _ingest_process(tmp_path / "probe", endpoint)
    assert probe.communicate(timeout=120)[0].decode().strip() == "ok"
    duration = time.perf_counter() - started
    killed_states = []
    for n, share in enumerate((0.35, 0.5, 0.65, 0.8, 0.9, 0.97)):
        data_dir = tmp_path / f"killed-{n}"
        process = _ingest_process(data_dir, endpoint)
        time.sleep(duration * share)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        killed_states.append((data_dir / "raw.duckdb").exists())
        ingest(data_dir, endpoint)  # the rerun, to completion
        assert diff(expected, snapshot(raw_path(data_dir), DATASET)) == [], share
        quiet = ingest(data_dir, endpoint)
        assert loaded(quiet) == {}, share
    assert any(killed_states)  # some kills hit after the load had started writing
