"""The builders' shapes match Stripe's own example objects, and their money fields are consistent."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from sandbox.billing import objects as o

# shared/ sits beside the checkout (as in CI)
REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "stripe" / "fixtures3.json"
# builder name → fixtures3 resource name, for the resources whose served keys are checked end to end
RESOURCES = {
    "customers": "customer",
    "products": "product",
    "prices": "price",
    "subscriptions": "subscription",
    "invoices": "invoice",
    "invoiceitems": "invoiceitem",
    "invoice_payments": "invoice_payment",
    "payment_intents": "payment_intent",
    "charges": "charge",
    "refunds": "refund",
    "credit_notes": "credit_note",
    "balance_transactions": "balance_transaction",
    "events": "event",
}


def reference_keys(resource: str) -> set[str]:
    resources = json.loads(REFERENCE.read_text())["resources"]
    return set(resources[resource]) - o.OMITTED_KEYS.get(resource, frozenset())


needs_reference = pytest.mark.skipif(not REFERENCE.exists(), reason="Stripe reference fixtures not present")


def _line(amount: int, tax: int = 0, behavior: str = "exclusive") -> dict:
    return o.invoice_line(
        id=o.make_id("il", amount, tax),
        invoice="in_x",
        amount=amount,
        currency="eur",
        period_start=1,
        period_end=2,
        tax_amount=tax,
        tax_rate="txr_x" if tax else None,
        tax_behavior=behavior,
    )


def test_invoice_amounts_follow_lines_and_tax() -> None:
    lines = [_line(10000, 1900), _line(5000, 950), _line(1190, 190, "inclusive")]
    inv = o.invoice(id="in_x", created=1, customer="cus_x", currency="eur", lines=lines, status="open")
    assert inv["subtotal"] == 16190
    assert inv["total"] == 16190 + 2850  # inclusive tax is already inside the subtotal
    assert inv["total_excluding_tax"] == 16190 - 190
    assert inv["amount_due"] == inv["total"] and inv["amount_remaining"] == inv["total"] and inv["amount_paid"] == 0
    assert sum(t["amount"] for t in inv["total_taxes"]) == 1900 + 950 + 190
    paid = o.invoice(id="in_x", created=1, customer="cus_x", currency="eur", lines=lines, status="paid", paid_at=5)
    assert paid["amount_paid"] == paid["amount_due"] and paid["amount_remaining"] == 0
    credited = o.invoice(
        id="in_x",
        created=1,
        customer="cus_x",
        currency="eur",
        lines=lines,
        status="open",
        pre_payment_credit_notes_amount=1000,
    )
    assert credited["amount_due"] == inv["total"] - 1000


def test_invoice_from_subscription_has_parent_and_line_parent() -> None:
    line = o.invoice_line(
        id="il_1",
        invoice="in_1",
        amount=100,
        currency="usd",
        period_start=1,
        period_end=2,
        price="price_1",
        product="prod_1",
        subscription="sub_1",
        subscription_item="si_1",
        proration=True,
    )
    inv = o.invoice(id="in_1", created=1, customer="cus_1", currency="usd", lines=[line], subscription="sub_1")
    assert inv["parent"]["subscription_details"]["subscription"] == "sub_1"
    assert line["parent"]["type"] == "subscription_item_details"
    assert line["parent"]["subscription_item_details"]["proration"] is True
    assert line["pricing"]["price_details"] == {"price": "price_1", "product": "prod_1"}


def test_currency_exponents() -> None:
    assert o.to_minor(Decimal("12.34"), "usd") == 1234
    assert o.to_minor(Decimal("1234"), "jpy") == 1234
    assert o.to_minor(Decimal("1.234"), "KWD") == 1234
    assert o.tax_on(1190, 19, inclusive=True) == 190


def test_make_id_is_stable() -> None:
    assert o.make_id("in", "a", 1) == o.make_id("in", "a", 1) != o.make_id("in", "a", 2)
    assert o.make_id("cus", "a", length=14).startswith("cus_1")


@needs_reference
def test_builder_keys_match_reference(billing_fixture) -> None:
    for collection, resource in RESOURCES.items():
        sample = billing_fixture.collections[collection][0]
        assert set(sample) == reference_keys(resource), collection
    inv = billing_fixture.collections["invoices"][0]
    assert set(inv["lines"]["data"][0]) == reference_keys("line_item")
    sub = billing_fixture.collections["subscriptions"][0]
    assert set(sub["items"]["data"][0]) == reference_keys("subscription_item")
    cn = billing_fixture.collections["credit_notes"][0]
    assert set(cn["lines"]["data"][0]) == reference_keys("credit_note_line_item")
