"""The events a run plans from, read in parts by ``created``: every event once, whatever the parts, in about as
many requests as one chain of pages; a run with nothing new asks once; faults (retries, events delivered again or
out of order) lose nothing."""

from __future__ import annotations

import pytest

from pipelines.sources.billing import helpers, settings
from pipelines.sources.http_client import CountingClient, RequestStats
from tests.pipelines.conftest import endpoints_of, start_cluster

from .support import fixture_objects


def _api(endpoint) -> tuple[helpers.StripeApi, RequestStats]:
    stats = RequestStats()
    client = CountingClient(stats)
    return helpers.StripeApi(endpoint.base_url, endpoint.token, settings.API_VERSION, client.session), stats


def _chain(api: helpers.StripeApi, since: int) -> list[dict]:
    return [e for page in api.pages(settings.EVENTS_PATH, {"created[gte]": since}) for e in page]


def test_the_parts_hold_every_event_once(sandbox, scenario_dir) -> None:
    endpoint = endpoints_of(sandbox)["billing"]
    events = fixture_objects(scenario_dir, "events")
    assert len(events) > 3 * settings.PAGE_LIMIT  # enough pages for parts to be cut
    created = sorted(e["created"] for e in events)
    for since in (created[0], created[len(created) // 2], created[-1]):
        api, stats = _api(endpoint)
        listed = helpers.list_events_since(api, since)
        ids = [e["id"] for e in listed]
        assert len(ids) == len(set(ids))  # nothing read twice
        chain_api, chain_stats = _api(endpoint)
        assert sorted(ids) == sorted(e["id"] for e in _chain(chain_api, since))
        assert sorted(ids) == sorted(e["id"] for e in events if e["created"] >= since)
        # each cut costs at most one request beyond the chain's pages (a part that turns out empty)
        pages = chain_stats.pages[settings.EVENTS_PATH]
        assert pages <= stats.pages[settings.EVENTS_PATH] <= 2 * pages + 1


def test_nothing_new_is_one_request(sandbox, scenario_dir) -> None:
    api, stats = _api(endpoints_of(sandbox)["billing"])
    newest = max(e["created"] for e in fixture_objects(scenario_dir, "events"))
    assert [e["created"] for e in helpers.list_events_since(api, newest + 1)] == []
    assert stats.pages == {settings.EVENTS_PATH: 1}


def test_a_second_holding_more_than_a_page_pages_on_within_it(sandbox, scenario_dir, monkeypatch) -> None:
    # pages of 2 make a second of the scenario hold more than one page, so the part within it pages on
    monkeypatch.setattr(settings, "PAGE_LIMIT", 2)
    events = fixture_objects(scenario_dir, "events")
    per_second: dict[int, int] = {}
    for e in events:
        per_second[e["created"]] = per_second.get(e["created"], 0) + 1
    busiest = max(per_second, key=lambda s: per_second[s])
    assert per_second[busiest] > 2
    api, _ = _api(endpoints_of(sandbox)["billing"])
    listed = helpers.list_events_since(api, busiest)
    assert sorted(e["id"] for e in listed) == sorted(e["id"] for e in events if e["created"] >= busiest)


@pytest.mark.slow
def test_faults_lose_nothing(scenario_dir, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(settings, "PAGE_LIMIT", 10)  # more requests, so more of them meet a fault
    cluster = start_cluster(scenario_dir, tmp_path / "scratch", faults="hostile")
    try:
        api, stats = _api(endpoints_of(cluster)["billing"])
        since = min(e["created"] for e in fixture_objects(scenario_dir, "events"))
        listed = helpers.list_events_since(api, since)
    finally:
        cluster.stop()
    # the sandbox delivers some events again (as Stripe may): the plan keys events by id, so the set is what counts
    assert {e["id"] for e in listed} == {e["id"] for e in fixture_objects(scenario_dir, "events")}
    assert len(listed) > len({e["id"] for e in listed}) and sum(stats.retries.values()) > 0  # the faults were there
