"""A cursor older than Stripe's 30-day event window cannot be caught up from events: the run backfills
again, says so, and the run after it is back on events."""

from __future__ import annotations

import logging

from pipelines.sources.billing import settings
from sandbox.clock import SandboxClock, parse_iso
from sandbox.cluster import SandboxCluster
from sandbox.fixtures import read_manifest
from tests.pipelines.conftest import endpoints_of

from .support import fixture_objects, ingest, loaded, payloads, sdk
from .test_backfill import _expected_counts


def test_expired_cursor_falls_back_to_a_backfill(scenario_dir, tmp_path, caplog) -> None:
    clock = SandboxClock(parse_iso(read_manifest(scenario_dir)["as_of"]))
    cluster = SandboxCluster(scenario_dir, scratch_root=tmp_path / "scratch", clock=clock).start()
    try:
        endpoint = endpoints_of(cluster)["billing"]
        ingest(tmp_path, endpoint)

        clock.advance(settings.EVENT_RETENTION_SECONDS + 86400)  # every event we saw is gone from the window
        customer = fixture_objects(scenario_dir, "customers")[0]["id"]
        sdk(endpoint).v1.customers.update(customer, {"name": "Thirty-One Days Later"})
        with caplog.at_level(logging.WARNING, logger="pipelines.sources.billing.helpers"):
            fallback = ingest(tmp_path, endpoint)
        quiet = ingest(tmp_path, endpoint)
    finally:
        cluster.stop()

    assert any("no longer in Stripe's 30-day event window" in r.getMessage() for r in caplog.records)
    expected = _expected_counts(scenario_dir)
    expected["events"] = 1  # only the update is still listed
    relisted = loaded(fallback)
    assert relisted.pop("balance_transactions", 0) == 0  # incremental on created: nothing new
    assert relisted == {k: v for k, v in expected.items() if k != "balance_transactions"}
    assert payloads(tmp_path, "customers")[customer]["name"] == "Thirty-One Days Later"
    assert loaded(quiet) == {} and quiet.pages == 2
