"""Changes made through Stripe's API reach raw through /v1/events: exactly the affected rows change, and
each holds the object's newest state."""

from __future__ import annotations

from pipelines.sources.billing import settings
from tests.pipelines.conftest import endpoints_of

from .support import (
    changed_ids,
    fixture_objects,
    ingest,
    list_all,
    loaded,
    payloads,
    retried,
    retrieve,
    rows_by_id,
    sdk,
    write,
)

TABLES = [c.table.name for c in settings.COLLECTIONS] + [
    c.child.name for c in settings.COLLECTIONS if c.child is not None
]
TABLES += ["balance_transactions", "events"]


def pick_targets(scenario_dir) -> dict[str, str]:
    """An open invoice to pay, an active subscription to amend, a charge to refund: unrelated to each other."""
    invoices = fixture_objects(scenario_dir, "invoices")
    open_invoice = next(i for i in invoices if i["status"] == "open")
    invoice_sub = (open_invoice["parent"] or {}).get("subscription_details", {}).get("subscription")
    subscription = next(
        s
        for s in fixture_objects(scenario_dir, "subscriptions")
        if s["status"] == "active" and s["id"] != invoice_sub and s["customer"] != open_invoice["customer"]
    )
    charge = next(
        c
        for c in fixture_objects(scenario_dir, "charges")
        if c["status"] == "succeeded"
        and c["amount_refunded"] == 0
        and c["amount"] > 1000
        and c["customer"] not in (open_invoice["customer"], subscription["customer"])
    )
    return {
        "invoice": open_invoice["id"],
        "line": open_invoice["lines"]["data"][0]["id"],
        "subscription": subscription["id"],
        "item": subscription["items"]["data"][0]["id"],
        "quantity": subscription["items"]["data"][0]["quantity"],
        "charge": charge["id"],
    }


def make_changes(endpoint, targets: dict, fixture_items: set[str], prefix: str = "t") -> dict[str, set[str]]:
    """Pay an invoice, credit part of it (with a refund), amend a subscription with proration and refund part
    of another charge; returns the ids each table should now hold changed."""
    client = sdk(endpoint)
    v1 = client.v1
    invoice_sub = retrieve(endpoint, f"/v1/invoices/{targets['invoice']}")["parent"]
    invoice_sub = ((invoice_sub or {}).get("subscription_details") or {}).get("subscription")
    sub_before = retrieve(endpoint, f"/v1/subscriptions/{invoice_sub}") if invoice_sub else None

    invoice = write(v1.invoices.pay, targets["invoice"], {"payment_method": "pm_card_visa"}, key=f"{prefix}-pay")
    assert invoice.status == "paid"
    (payment,) = [p for p in retried(v1.invoice_payments.list, {"invoice": invoice.id}).data if p.status == "paid"]
    intent = retried(v1.payment_intents.retrieve, payment.payment.payment_intent)
    paid_charge = retried(v1.charges.retrieve, intent.latest_charge)

    credit_note = write(
        v1.credit_notes.create,
        {
            "invoice": invoice.id,
            "lines": [{"type": "invoice_line_item", "invoice_line_item": targets["line"], "amount": 500}],
            "refund_amount": 500,
            "reason": "order_change",
        },
        key=f"{prefix}-credit-note",
    )
    credit_refund = retried(v1.refunds.retrieve, credit_note.refunds[0].refund)

    write(
        v1.subscriptions.update,
        targets["subscription"],
        {
            "items": [{"id": targets["item"], "quantity": targets["quantity"] + 2}],
            "proration_behavior": "create_prorations",
        },
        key=f"{prefix}-amend",
    )
    customer = retrieve(endpoint, f"/v1/subscriptions/{targets['subscription']}")["customer"]
    items = retried(v1.invoice_items.list, {"customer": customer, "limit": 10}).data
    prorations = [i.id for i in items if i.proration]
    prorations = [i for i in prorations if i not in fixture_items]

    refund = write(v1.refunds.create, {"charge": targets["charge"], "amount": 700}, key=f"{prefix}-refund")

    subs = {targets["subscription"]}
    if sub_before is not None and retrieve(endpoint, f"/v1/subscriptions/{invoice_sub}") != sub_before:
        subs.add(invoice_sub)
    return {
        "invoices": {invoice.id},
        "invoice_lines": set(),  # paying and crediting do not change an invoice's lines
        "invoice_payments": {payment.id},
        "payment_intents": {intent.id},
        "charges": {paid_charge.id, targets["charge"]},
        "refunds": {credit_refund.id, refund.id},
        "credit_notes": {credit_note.id},
        "credit_note_lines": {line.id for line in credit_note.lines.data},
        "subscriptions": subs,
        "subscription_items": {targets["item"]},
        "invoiceitems": set(prorations),
        "balance_transactions": {
            paid_charge.balance_transaction,
            credit_refund.balance_transaction,
            refund.balance_transaction,
        },
        "customers": set(),
        "products": set(),
        "prices": set(),
    }


def test_api_changes_change_exactly_those_rows(sandbox, scenario_dir, tmp_path) -> None:
    endpoint = endpoints_of(sandbox)["billing"]
    ingest(tmp_path, endpoint)
    before = {t: rows_by_id(tmp_path, t) for t in TABLES}
    events_before = set(before["events"])

    fixture_items = {i["id"] for i in fixture_objects(scenario_dir, "invoiceitems")}
    targets = pick_targets(scenario_dir)
    expected = make_changes(endpoint, targets, fixture_items)
    assert len(expected["invoiceitems"]) == 2  # a credit for the unused time and a charge for the rest

    summary = ingest(tmp_path, endpoint)
    after = {t: rows_by_id(tmp_path, t) for t in TABLES}
    changed = {t: changed_ids(before[t], after[t]) for t in TABLES}

    new_events = {e["id"] for e in list_all(endpoint, "/v1/events")} - events_before
    assert changed.pop("events") == new_events and new_events
    assert changed == expected
    assert sum(loaded(summary).values()) == sum(len(ids) for ids in expected.values()) + len(new_events)

    # each changed row holds the object as the API serves it now, not an older state from its events
    paths = {
        "invoices": "/v1/invoices/{}",
        "invoice_payments": "/v1/invoice_payments/{}",
        "payment_intents": "/v1/payment_intents/{}",
        "charges": "/v1/charges/{}",
        "refunds": "/v1/refunds/{}",
        "credit_notes": "/v1/credit_notes/{}",
        "subscriptions": "/v1/subscriptions/{}",
        "invoiceitems": "/v1/invoiceitems/{}",
        "balance_transactions": "/v1/balance_transactions/{}",
    }
    for table, path in paths.items():
        raw = payloads(tmp_path, table)
        for object_id in expected[table]:
            assert raw[object_id] == retrieve(endpoint, path.format(object_id)), (table, object_id)
    items = retrieve(endpoint, f"/v1/subscriptions/{targets['subscription']}")["items"]["data"]
    (served,) = [i for i in items if i["id"] == targets["item"]]
    assert payloads(tmp_path, "subscription_items")[targets["item"]] == served
    assert served["quantity"] == targets["quantity"] + 2

    # and then nothing more happens: one events page, one balance-transactions page, nothing written
    quiet = ingest(tmp_path, endpoint)
    assert loaded(quiet) == {} and quiet.pages == 2
