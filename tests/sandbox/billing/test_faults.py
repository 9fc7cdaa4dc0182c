"""Fault profiles: the SDK's own retries (plus a 429 back-off, which Stripe's SDKs leave to the caller) still
read every object, and event delivery duplicates and reorders deterministically for a seed."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
import stripe

from sandbox.billing import objects as o
from sandbox.billing.app import DEFAULT_TOKEN, create_app
from sandbox.clock import SandboxClock
from sandbox.faults import FaultKind, FaultPlan
from sandbox.fixtures import write_collection
from sandbox.http import SandboxServer

from .billing_fixture import AS_OF, BillingFixture
from .test_objects import RESOURCES
from .test_reads import SERVICE_NAMES


@pytest.fixture(autouse=True)
def fast_sdk_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # the SDK sleeps ≥0.5 s between retries; the schedule is not what these tests check
    monkeypatch.setattr(stripe.HTTPClient, "INITIAL_DELAY", 0.001)
    monkeypatch.setattr(stripe.HTTPClient, "MAX_DELAY", 0.002)


def _with_rate_limit_retry(call, attempts: int = 8):
    for _ in range(attempts):
        try:
            return call()
        except stripe.RateLimitError as err:
            assert int(err.headers["Retry-After"]) >= 1  # honoured as a signal; the test shortens the wait
            time.sleep(0.001)
    raise AssertionError("still rate limited")


def list_all(service, params: dict | None = None) -> list:
    """Cursor paging by hand so a 429 on page n retries page n, not the whole walk."""
    out: list = []
    cursor = None
    while True:
        page_params = {**(params or {}), "limit": 10, **({"starting_after": cursor} if cursor else {})}
        page = _with_rate_limit_retry(lambda p=page_params: service.list(p))
        out.extend(page.data)
        if not page.has_more:
            return out
        cursor = page.data[-1].id


def _serve(root: Path, work: Path, profile: str, seed: int) -> SandboxServer:
    app = create_app(root, work, faults=FaultPlan(profile, seed), clock=SandboxClock(AS_OF, frozen=True))
    return SandboxServer(app)


def test_flaky_profile_sdk_still_reads_everything(billing_fixture: BillingFixture, tmp_path: Path) -> None:
    with _serve(billing_fixture.root, tmp_path, "flaky", 3) as srv:
        client = stripe.StripeClient(DEFAULT_TOKEN, base_addresses={"api": srv.url}, max_network_retries=3)
        for collection in RESOURCES:
            if collection == "events":
                continue
            service = getattr(client.v1, SERVICE_NAMES.get(collection, collection))
            params = {"status": "all"} if collection == "subscriptions" else {}
            got = [obj.id for obj in list_all(service, params)]
            assert sorted(got) == sorted(obj["id"] for obj in billing_fixture.collections[collection]), collection
        injected = srv.app.faults.injected
        assert sum(injected.values()) > 0, "the profile injected no faults: the test proves nothing"
        assert srv.errors == []


def test_flaky_writes_survive_lost_responses(billing_fixture: BillingFixture, tmp_path: Path) -> None:
    with _serve(billing_fixture.root, tmp_path, "hostile", 11) as srv:
        client = stripe.StripeClient(DEFAULT_TOKEN, base_addresses={"api": srv.url}, max_network_retries=5)
        created = [
            _with_rate_limit_retry(lambda n=n: client.v1.customers.create({"name": f"Retry {n}"})) for n in range(15)
        ]
        assert srv.app.faults.injected[FaultKind.LOST_RESPONSE] > 0
        names = [c.name for c in list_all(client.v1.customers) if c.name.startswith("Retry ")]
        assert sorted(names) == sorted(c.name for c in created)  # each created exactly once despite retries


def _event_fixture(root: Path, count: int) -> list[dict]:
    evts = [
        o.event(
            id=o.make_id("evt", "faults", n),
            created=AS_OF - 86400 + n * 60,
            type="customer.created",
            object=o.customer(id=o.make_id("cus", "faults", n, length=14), created=AS_OF - 86400 + n * 60),
        )
        for n in range(count)
    ]
    write_collection(root, "billing", "events", evts)
    return evts


def _read_events(srv: SandboxServer) -> list[dict]:
    client = stripe.StripeClient(DEFAULT_TOKEN, base_addresses={"api": srv.url}, max_network_retries=5)
    return [{"id": e.id, "created": e.created} for e in list_all(client.v1.events)]


def test_event_duplicates_and_reorders_are_deterministic(tmp_path: Path) -> None:
    evts = _event_fixture(tmp_path / "fx", 120)
    with _serve(tmp_path / "fx", tmp_path / "w1", "hostile", 7) as srv:
        first = _read_events(srv)
        plan = srv.app.faults
    with _serve(tmp_path / "fx", tmp_path / "w2", "hostile", 7) as srv:
        second = _read_events(srv)
    assert first == second
    ids = [e["id"] for e in first]
    assert set(ids) == {e["id"] for e in evts}  # nothing lost
    newest_first = [e["id"] for e in sorted(evts, key=lambda e: -e["created"])]
    cursors = newest_first[9:-1:10]
    expected_dupes = [c for c in cursors if plan.chance(plan.profile.duplicate_event_rate, "event-duplicate", c)]
    assert len(ids) - len(set(ids)) == len(expected_dupes) > 0
    out_of_order = sum(1 for a, b in itertools.pairwise(first) if a["created"] < b["created"])
    assert out_of_order > len(expected_dupes)  # swaps within pages, besides the re-delivered ones
    with _serve(tmp_path / "fx", tmp_path / "w3", "none", 7) as srv:
        assert [e["id"] for e in _read_events(srv)] == newest_first
