"""Reads through the official SDK against a real server: paging, filters, expansion, errors."""

from __future__ import annotations

import httpx
import pytest
import stripe

from sandbox.billing.app import DEFAULT_TOKEN

from .billing_fixture import AS_OF, DAY
from .conftest import sdk
from .test_objects import RESOURCES, needs_reference, reference_keys

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


SERVICE_NAMES = {"invoiceitems": "invoice_items"}  # the SDK's attribute names where they differ from the URL


def _service(client: stripe.StripeClient, collection: str):
    return getattr(client.v1, SERVICE_NAMES.get(collection, collection))


@pytest.mark.parametrize(
    "collection",
    [c for c in RESOURCES if c not in ("events", "subscriptions")],
)
def test_auto_paging_returns_every_fixture_object(client, billing_fixture, collection) -> None:
    got = [obj.id for obj in _service(client, collection).list().auto_paging_iter()]
    expected = billing_fixture.collections[collection]
    assert len(got) == len(set(got)) == len(expected)
    assert set(got) == {obj["id"] for obj in expected}


def test_lists_are_newest_first(client, billing_fixture) -> None:
    created = [c.created for c in client.v1.customers.list({"limit": 100}).data]
    assert created == sorted(created, reverse=True)


def test_subscriptions_exclude_canceled_unless_asked(client, billing_fixture) -> None:
    subs = billing_fixture.collections["subscriptions"]
    default = list(client.v1.subscriptions.list().auto_paging_iter())
    every = list(client.v1.subscriptions.list({"status": "all"}).auto_paging_iter())
    canceled = [s for s in subs if s["status"] == "canceled"]
    assert len(every) == len(subs)
    assert len(default) == len(subs) - len(canceled)
    assert [s.id for s in client.v1.subscriptions.list({"status": "canceled"}).data] == [s["id"] for s in canceled]


def test_subscription_items_require_subscription(client, billing_fixture) -> None:
    sub = billing_fixture.collections["subscriptions"][0]
    items = client.v1.subscription_items.list({"subscription": sub["id"]})
    assert [i.id for i in items.data] == [i["id"] for i in sub["items"]["data"]]
    assert items.url == f"/v1/subscription_items?subscription={sub['id']}"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.subscription_items.list({})
    assert err.value.param == "subscription"


def test_invoice_embeds_ten_lines_and_pages_the_rest(client, billing_fixture) -> None:
    inv = client.v1.invoices.retrieve(billing_fixture.big_invoice)
    assert len(inv.lines.data) == 10 and inv.lines.has_more
    assert inv.lines.url == f"/v1/invoices/{inv.id}/lines"
    lines = list(client.v1.invoices.line_items.list(inv.id, {"limit": 4}).auto_paging_iter())
    expected = next(i for i in billing_fixture.collections["invoices"] if i["id"] == inv.id)["lines"]["data"]
    assert [line.id for line in lines] == [line["id"] for line in expected]
    assert sum(line.amount for line in lines) == inv.subtotal
    # the same invoice in a list carries the same embedded page
    listed = next(i for i in client.v1.invoices.list({"limit": 100}).data if i.id == inv.id)
    assert len(listed.lines.data) == 10


def test_credit_note_lines(client, billing_fixture) -> None:
    cn = billing_fixture.collections["credit_notes"][0]
    lines = client.v1.credit_notes.line_items.list(cn["id"])
    assert [line.id for line in lines.data] == [line["id"] for line in cn["lines"]["data"]]


def test_created_filters(client, billing_fixture) -> None:
    customers = billing_fixture.collections["customers"]
    pivot = customers[10]["created"]
    gte = list(client.v1.customers.list({"created": {"gte": pivot}}).auto_paging_iter())
    assert {c.id for c in gte} == {c["id"] for c in customers if c["created"] >= pivot}
    lt = list(client.v1.customers.list({"created": {"lt": pivot, "gt": customers[5]["created"]}}).auto_paging_iter())
    assert {c.id for c in lt} == {c["id"] for c in customers[6:10]}
    exact = client.v1.customers.list({"created": pivot})
    assert [c.id for c in exact.data] == [customers[10]["id"]]


def test_ending_before_pages_backwards(client, billing_fixture) -> None:
    newest_first = [c.id for c in client.v1.customers.list({"limit": 100}).data]
    page = client.v1.customers.list({"limit": 5, "ending_before": newest_first[12]})
    assert [c.id for c in page.data] == newest_first[7:12]
    backwards = list(client.v1.customers.list({"limit": 3, "ending_before": newest_first[12]}).auto_paging_iter())
    assert [c.id for c in backwards] == list(reversed(newest_first[:12]))
    after = client.v1.customers.list({"limit": 5, "starting_after": newest_first[12]})
    assert [c.id for c in after.data] == newest_first[13:18] and after.has_more


def test_filters(client, billing_fixture) -> None:
    cus = billing_fixture.collections["customers"][3]
    invoices = client.v1.invoices.list({"customer": cus["id"]})
    assert [i.id for i in invoices.data] == [
        i["id"] for i in billing_fixture.collections["invoices"] if i["customer"] == cus["id"]
    ]
    paid = list(client.v1.invoices.list({"status": "paid"}).auto_paging_iter())
    assert len(paid) == sum(1 for i in billing_fixture.collections["invoices"] if i["status"] == "paid")
    sub_id = billing_fixture.collections["subscriptions"][3]["id"]
    assert [i.id for i in client.v1.invoices.list({"subscription": sub_id}).data] == [billing_fixture.big_invoice]
    ip = client.v1.invoice_payments.list({"invoice": billing_fixture.paid_invoice})
    assert len(ip.data) == 1 and ip.data[0].payment.type == "payment_intent"
    assert len(client.v1.invoice_items.list({"pending": True}).data) == len(billing_fixture.collections["invoiceitems"])
    refunds = client.v1.refunds.list({"charge": billing_fixture.collections["refunds"][0]["charge"]})
    assert len(refunds.data) == 1


def test_expand(client, billing_fixture) -> None:
    page = client.v1.invoices.list({"limit": 3, "expand": ["data.customer"]})
    assert all(isinstance(i.customer, stripe.Customer) for i in page.data)
    charges = client.v1.charges.list({"limit": 2, "expand": ["data.payment_intent", "data.balance_transaction"]})
    assert all(c.payment_intent.object == "payment_intent" for c in charges.data)
    pi = client.v1.payment_intents.retrieve(
        billing_fixture.collections["payment_intents"][0]["id"], {"expand": ["latest_charge.balance_transaction"]}
    )
    assert pi.latest_charge.balance_transaction.object == "balance_transaction"
    sub = client.v1.subscriptions.retrieve(
        billing_fixture.amend_subscription, {"expand": ["latest_invoice", "customer"]}
    )
    assert sub.latest_invoice.object == "invoice" and sub.customer.object == "customer"
    # indexed form, exactly as the SDK's older encoders send it
    raw = httpx.get(
        f"{client._requestor.base_addresses['api']}/v1/invoices",
        params={"limit": 1, "expand[0]": "data.customer"},
        headers=AUTH,
    )
    assert raw.json()["data"][0]["customer"]["object"] == "customer"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.invoices.list({"expand": ["data.currency"]})
    assert err.value.param == "expand"


@needs_reference
def test_served_keys_match_reference(client, billing_fixture) -> None:
    for collection, resource in RESOURCES.items():
        obj = _service(client, collection).list({"limit": 1}).data[0]
        assert set(obj.to_dict().keys()) == reference_keys(resource), collection
    line = client.v1.invoices.line_items.list(billing_fixture.big_invoice, {"limit": 1}).data[0]
    assert set(line.to_dict()) == reference_keys("line_item")


def test_events_window_is_thirty_days(client, billing_fixture) -> None:
    events = list(client.v1.events.list().auto_paging_iter())
    window = [e for e in billing_fixture.collections["events"] if e["created"] >= AS_OF - 30 * DAY]
    assert {e.id for e in events} == {e["id"] for e in window}
    assert 0 < len(window) < len(billing_fixture.collections["events"])
    old = min(billing_fixture.collections["events"], key=lambda e: e["created"])
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.retrieve(old["id"])
    typed = client.v1.events.list({"types": ["customer.created", "invoice.paid"], "limit": 100})
    assert len(typed.data) == len(window)
    assert client.v1.events.list({"type": "invoice.paid"}).data == []


def test_auth_errors_in_stripe_envelope(read_server) -> None:
    bare = httpx.get(f"{read_server.url}/v1/customers")
    assert bare.status_code == 401
    assert bare.json()["error"]["type"] == "invalid_request_error"
    assert "did not provide an API key" in bare.json()["error"]["message"]
    assert bare.headers["Request-Id"].startswith("req_")
    wrong = httpx.get(f"{read_server.url}/v1/customers", headers={"Authorization": "Bearer sk_test_wrong_key_1234"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["message"] == "Invalid API Key provided: sk_test_**********1234"
    bad = stripe.StripeClient("sk_test_wrong_key_1234", base_addresses={"api": read_server.url})
    with pytest.raises(stripe.AuthenticationError):
        bad.v1.customers.list()


def test_not_found_and_bad_params(client, read_server) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.invoices.retrieve("in_missing")
    assert err.value.http_status == 404 and err.value.code == "resource_missing"
    assert err.value.error.message == "No such invoice: 'in_missing'"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.customers.list({"limit": 101})
    assert err.value.http_status == 400 and err.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.customers.list({"starting_after": "cus_missing"})
    assert err.value.param == "starting_after" and err.value.code == "resource_missing"
    raw = httpx.get(f"{read_server.url}/v1/nothing_here", headers=AUTH)
    assert raw.status_code == 404 and "Unrecognized request URL" in raw.json()["error"]["message"]
    assert raw.headers["Stripe-Version"] == "2026-10-28.endive"


def test_sdk_with_explicit_client_options(read_server, billing_fixture) -> None:
    c = sdk(read_server, max_network_retries=2)
    assert c.v1.products.retrieve(billing_fixture.collections["products"][0]["id"]).name == "Seats"


def test_clock_starts_at_manifest_as_of(billing_fixture, tmp_path) -> None:
    from sandbox.billing.app import create_app
    from sandbox.http import SandboxServer

    with SandboxServer(create_app(billing_fixture.root, tmp_path)) as srv:
        assert httpx.get(f"{srv.url}/__sandbox/health").json()["now"] - AS_OF < 60
