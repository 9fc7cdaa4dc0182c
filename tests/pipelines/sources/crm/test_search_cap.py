"""HubSpot's search cap (no page at or beyond the 10,000th result) and bursts of records sharing one timestamp."""

from __future__ import annotations

import time

import pytest

from pipelines.sources.http_client import endpoint_label
from sandbox.crm.objects import company, line_item
from tests.pipelines.sources.crm.conftest import (
    DATASET,
    OBJECT_TABLES,
    crm_server,
    crm_snapshot,
    loaded,
    manifest_counts,
    query,
    run_counting,
    run_crm,
    variant_scenario,
)

BURST_MS = 1_790_000_000_000  # 2026-09-21: after every fixture record, before the scenario's as-of


def _searches(stats, base_url: str, object_type: str) -> int:
    return stats.pages[endpoint_label(f"{base_url}/crm/v3/objects/{object_type}/search")]


def test_restarts_at_the_cap_give_the_same_tables(scenario_dir, tmp_path):
    with crm_server(scenario_dir, tmp_path / "crm-default") as endpoint:
        run_crm(tmp_path / "default", endpoint)
    with crm_server(scenario_dir, tmp_path / "crm-capped", search_result_cap=50) as endpoint:
        stats = run_counting(tmp_path / "capped", endpoint)
        assert loaded(run_crm(tmp_path / "capped", endpoint)) == {}

    counts = manifest_counts(scenario_dir)
    for table in OBJECT_TABLES:
        assert query(tmp_path / "capped", f"select count(*) from {DATASET}.{table}")[0][0] == counts[table]
    assert crm_snapshot(tmp_path / "capped") == crm_snapshot(tmp_path / "default")
    # 102 contacts and 91 deals cannot come in one capped search: the search was restarted
    assert _searches(stats, endpoint.base_url, "contacts") >= 3
    assert _searches(stats, endpoint.base_url, "deals") >= 2


def _burst(count: int, first_id: int):
    """``count`` companies all last modified in the same millisecond (a bulk import)."""

    def edit(name: str, objects: list[dict]) -> list[dict]:
        if name != "companies":
            return objects
        return objects + [
            company(id=first_id + i, name=f"Imported {i}", created_ms=BURST_MS, updated_ms=BURST_MS)
            for i in range(count)
        ]

    return edit


@pytest.mark.parametrize(("cap", "burst"), [(50, 180), (10_000, 450)])
def test_a_burst_sharing_one_timestamp_is_drained_by_id(scenario_dir, tmp_path, cap, burst):
    fixtures = variant_scenario(scenario_dir, tmp_path / "fixtures", _burst(burst, 90_000_000_000))
    with crm_server(fixtures, tmp_path / "crm", search_result_cap=cap) as endpoint:
        started = time.perf_counter()
        stats = run_counting(tmp_path / "data", endpoint)
        seconds = time.perf_counter() - started
        assert loaded(run_crm(tmp_path / "data", endpoint)) == {}

    total = manifest_counts(fixtures)["companies"]
    assert query(tmp_path / "data", f"select count(*) from {DATASET}.companies")[0][0] == total == 60 + burst
    # a page entirely at one instant cannot advance the timestamp: only draining the instant by id ends the search
    # (a loop would never finish); every request moved on, so about one request per page of results
    page = min(cap, 200)
    assert _searches(stats, endpoint.base_url, "companies") <= 2 * (total // page + 1) + 2
    assert seconds < 30


@pytest.mark.slow
def test_more_than_ten_thousand_changes_at_the_real_cap(scenario_dir, tmp_path):
    """10,500 line items at HubSpot's own cap: the search never asks for a page beyond the 10,000th result."""

    def edit(name: str, objects: list[dict]) -> list[dict]:
        if name != "line_items":
            return objects
        extra = [
            line_item(
                id=80_000_000_000 + i,
                name="Seat",
                quantity=i % 7 + 1,
                price="12.50",
                currency="USD",
                created_ms=BURST_MS - 10_000_000 + i * 97,
                updated_ms=BURST_MS - 10_000_000 + i // 3 * 97,  # threes share a millisecond
            )
            for i in range(10_500)
        ]
        return objects + extra

    fixtures = variant_scenario(scenario_dir, tmp_path / "fixtures", edit)
    with crm_server(fixtures, tmp_path / "crm") as endpoint:
        stats = run_counting(tmp_path / "data", endpoint)
    assert query(tmp_path / "data", f"select count(*) from {DATASET}.line_items")[0][0] == 10_550
    assert not stats.retries  # a page past the cap would have been a 400, failing the run
    assert _searches(stats, endpoint.base_url, "line_items") <= 10_550 // 190 + 3
