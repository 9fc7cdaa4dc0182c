"""The newest state of each object from its events: however the events are delivered (repeated, reordered,
all within one second), the chosen state is the object as the API serves it now."""

from __future__ import annotations

import random

import pytest

from pipelines.sources.billing import event_order, settings
from sandbox.clock import SandboxClock, parse_iso
from sandbox.cluster import SandboxCluster
from sandbox.fixtures import read_manifest
from tests.pipelines.conftest import endpoints_of

from .support import fixture_objects, list_all, retrieve
from .test_changes import make_changes, pick_targets

PATHS = {
    "invoices": "/v1/invoices/{}",
    "invoice_payments": "/v1/invoice_payments/{}",
    "payment_intents": "/v1/payment_intents/{}",
    "charges": "/v1/charges/{}",
    "refunds": "/v1/refunds/{}",
    "credit_notes": "/v1/credit_notes/{}",
    "subscriptions": "/v1/subscriptions/{}",
    "invoiceitems": "/v1/invoiceitems/{}",
}


@pytest.fixture
def frozen_sandbox(scenario_dir, tmp_path):
    """A sandbox whose clock stands still: every change made through the API happens in the same second."""
    clock = SandboxClock(parse_iso(read_manifest(scenario_dir)["as_of"]), frozen=True)
    cluster = SandboxCluster(scenario_dir, scratch_root=tmp_path / "scratch", clock=clock).start()
    yield cluster
    cluster.stop()


def _states(events: list[dict]) -> dict[str, dict[str, tuple]]:
    latest = event_order.latest_states(events)
    return {t: {i: (s.obj, s.version, s.deleted) for i, s in states.items()} for t, states in latest.items()}


def test_newest_state_whatever_the_delivery(frozen_sandbox, scenario_dir) -> None:
    endpoint = endpoints_of(frozen_sandbox)["billing"]
    fixture_items = {i["id"] for i in fixture_objects(scenario_dir, "invoiceitems")}
    changed = make_changes(endpoint, pick_targets(scenario_dir), fixture_items)
    events = list_all(endpoint, "/v1/events")
    as_of = parse_iso(read_manifest(scenario_dir)["as_of"])
    assert len([e for e in events if e["created"] == as_of]) >= 15  # the changes share one second

    expected = _states(events)
    for table, ids in changed.items():
        if table not in PATHS:
            continue
        for object_id in ids:
            state = expected[table][object_id]
            assert state[0] == retrieve(endpoint, PATHS[table].format(object_id)), (table, object_id)
    # the invoice was paid, then credited, in the same second: the credited state wins
    (invoice_id,) = changed["invoices"]
    assert expected["invoices"][invoice_id][0]["post_payment_credit_notes_amount"] > 0

    rng = random.Random(7)
    for _ in range(20):
        delivered = events + rng.sample(events, k=len(events) // 3)  # repeats
        rng.shuffle(delivered)  # and any order
        assert _states(delivered) == expected
    assert _states(list(reversed(events))) == expected


def test_same_second_order_follows_previous_attributes() -> None:
    def event(event_id: str, type_: str, obj: dict, previous: dict | None = None) -> dict:
        data = {"object": obj} | ({"previous_attributes": previous} if previous is not None else {})
        return {"id": event_id, "created": 100, "type": type_, "data": data, "object": "event"}

    draft = {
        "id": "in_1",
        "object": "invoice",
        "status": "draft",
        "amount_paid": 0,
        "post_payment_credit_notes_amount": 0,
    }
    opened = {**draft, "status": "open"}
    paid = {**opened, "status": "paid", "amount_paid": 900}
    credited = {**paid, "post_payment_credit_notes_amount": 100}
    events = [
        event("evt_d", "invoice.created", draft),
        event("evt_c", "invoice.finalized", opened),
        event("evt_b", "invoice.updated", paid, {"status": "open", "amount_paid": 0}),
        event("evt_a", "invoice.paid", paid),  # a higher rank than `updated`, and yet older than the credit
        event("evt_0", "invoice.updated", credited, {"post_payment_credit_notes_amount": 0}),
    ]
    places = {e["id"]: place for e, place in event_order.order_states(events)}
    assert places == {"evt_d": 0, "evt_c": 1, "evt_b": 2, "evt_a": 2, "evt_0": 3}
    for order in (events, events[::-1], events[2:] + events[:2]):
        (state,) = event_order.latest_states(order)["invoices"].values()
        assert state.obj == credited and state.version == 100 * settings.VERSION_SLOTS + 3

    # a deletion is the last state in its second
    deleted = event("evt_z", "customer.deleted", {"id": "cus_1", "object": "customer", "deleted": True})
    updated = event("evt_y", "customer.updated", {"id": "cus_1", "object": "customer", "name": "B"}, {"name": "A"})
    (state,) = event_order.latest_states([deleted, updated])["customers"].values()
    assert state.deleted
    # a canceled subscription is not a deleted one
    canceled = event("evt_x", "customer.subscription.deleted", {"id": "sub_1", "object": "subscription"})
    assert not event_order.latest_states([canceled])["subscriptions"]["sub_1"].deleted
    # events already applied by an earlier run are not applied again
    assert event_order.latest_states([updated], frozenset({"evt_y"})) == {}
