"""Writes through the official SDK: each changes state as Stripe would and leaves the right events."""

from __future__ import annotations

import httpx
import pytest
import stripe

from sandbox.billing.app import DEFAULT_TOKEN

from .billing_fixture import AS_OF


def _events(client: stripe.StripeClient, type_: str) -> list:
    return client.v1.events.list({"type": type_, "limit": 100}).data


def test_pay_open_invoice(write_client, billing_fixture) -> None:
    inv = write_client.v1.invoices.pay(billing_fixture.open_invoice)
    assert inv.status == "paid" and inv.amount_remaining == 0 and inv.amount_paid == inv.amount_due
    assert inv.status_transitions.paid_at == AS_OF
    payments = write_client.v1.invoice_payments.list({"invoice": inv.id}).data
    assert len(payments) == 1 and payments[0].status == "paid" and payments[0].amount_paid == inv.amount_paid
    pi = write_client.v1.payment_intents.retrieve(payments[0].payment.payment_intent, {"expand": ["latest_charge"]})
    assert pi.status == "succeeded" and pi.latest_charge.status == "succeeded"
    txn = write_client.v1.balance_transactions.retrieve(pi.latest_charge.balance_transaction)
    assert txn.amount == inv.amount_paid and txn.net == txn.amount - txn.fee
    updated = [e for e in _events(write_client, "invoice.updated") if e.data.object.id == inv.id]
    assert updated[0].data.previous_attributes["status"] == "open"
    assert updated[0].data.previous_attributes["status_transitions"].to_dict() == {"paid_at": None}
    for type_ in ("invoice.paid", "invoice.payment_succeeded", "charge.succeeded", "payment_intent.succeeded"):
        assert len(_events(write_client, type_)) == 1, type_
    with pytest.raises(stripe.InvalidRequestError):
        write_client.v1.invoices.pay(inv.id)


def test_declined_payment_then_retry(write_client, billing_fixture) -> None:
    inv_id = billing_fixture.open_invoice
    with pytest.raises(stripe.CardError) as err:
        write_client.v1.invoices.pay(inv_id, {"payment_method": "pm_card_chargeDeclined"})
    assert err.value.code == "card_declined" and err.value.http_status == 402
    inv = write_client.v1.invoices.retrieve(inv_id)
    assert inv.status == "open" and inv.attempt_count == 1 and inv.amount_paid == 0
    failed = write_client.v1.charges.list({"limit": 100}).data
    assert any(c.status == "failed" and c.failure_code == "card_declined" for c in failed)
    assert len(_events(write_client, "invoice.payment_failed")) == 1
    assert len(_events(write_client, "charge.failed")) == 1
    paid = write_client.v1.invoices.pay(inv_id)
    assert paid.status == "paid"
    payments = write_client.v1.invoice_payments.list({"invoice": inv_id}).data
    assert [p.status for p in payments] == ["paid"]  # the same payment intent, retried


def test_finalize_void_and_uncollectible(write_client, billing_fixture) -> None:
    inv = write_client.v1.invoices.finalize_invoice(billing_fixture.draft_invoice)
    assert inv.status == "open" and inv.number and inv.status_transitions.finalized_at == AS_OF
    assert len(_events(write_client, "invoice.finalized")) == 1
    voided = write_client.v1.invoices.void_invoice(inv.id)
    assert voided.status == "void" and voided.amount_remaining == 0
    assert len(_events(write_client, "invoice.voided")) == 1
    bad = write_client.v1.invoices.mark_uncollectible(billing_fixture.open_invoice)
    assert bad.status == "uncollectible" and bad.status_transitions.marked_uncollectible_at == AS_OF
    assert len(_events(write_client, "invoice.marked_uncollectible")) == 1
    with pytest.raises(stripe.InvalidRequestError):
        write_client.v1.invoices.finalize_invoice(inv.id)


def test_amend_subscription_with_proration(write_client, billing_fixture) -> None:
    sub = write_client.v1.subscriptions.retrieve(billing_fixture.amend_subscription)
    item = sub["items"].data[0]
    updated = write_client.v1.subscriptions.update(
        sub.id, {"items": [{"id": item.id, "quantity": item.quantity + 2, "price": billing_fixture.seat_price_usd_2}]}
    )
    new_item = updated["items"].data[0]
    assert new_item.quantity == item.quantity + 2 and new_item.price.id == billing_fixture.seat_price_usd_2
    prorations = [i for i in write_client.v1.invoice_items.list({"customer": sub.customer}).data if i.proration]
    assert len(prorations) == 2
    credit = next(i for i in prorations if i.amount < 0)
    debit = next(i for i in prorations if i.amount > 0)
    # 20 of 30 days remain in the period
    assert credit.amount == -round(item.price.unit_amount * item.quantity * 20 / 30)
    assert debit.amount == round(4500 * (item.quantity + 2) * 20 / 30)
    assert credit.parent.subscription_details.subscription == sub.id
    events = _events(write_client, "customer.subscription.updated")
    assert len(events) == 1
    assert events[0].data.previous_attributes["items"].data[0].quantity == item.quantity
    assert len(_events(write_client, "invoiceitem.created")) == 2
    canceled = write_client.v1.subscriptions.cancel(sub.id)
    assert canceled.status == "canceled" and canceled.ended_at == AS_OF
    assert len(_events(write_client, "customer.subscription.deleted")) == 1


def test_partial_refund(write_client, billing_fixture) -> None:
    charge = write_client.v1.charges.retrieve(billing_fixture.paid_charge)
    refund = write_client.v1.refunds.create({"charge": charge.id, "amount": 100, "reason": "requested_by_customer"})
    assert refund.amount == 100 and refund.status == "succeeded"
    after = write_client.v1.charges.retrieve(charge.id)
    assert after.amount_refunded == 100 and not after.refunded and after.refunds.data[0].id == refund.id
    event = _events(write_client, "charge.refunded")[0]
    assert event.data.previous_attributes["amount_refunded"] == 0
    with pytest.raises(stripe.InvalidRequestError) as err:
        write_client.v1.refunds.create({"charge": charge.id, "amount": charge.amount})
    assert err.value.param == "amount"
    rest = write_client.v1.refunds.create({"charge": charge.id})
    assert rest.amount == charge.amount - 100
    assert write_client.v1.charges.retrieve(charge.id).refunded


def test_credit_note_on_paid_invoice_with_refund(write_client, billing_fixture) -> None:
    inv = write_client.v1.invoices.retrieve(billing_fixture.paid_invoice)
    line = inv.lines.data[0]
    cn = write_client.v1.credit_notes.create(
        {
            "invoice": inv.id,
            "lines": [{"type": "invoice_line_item", "invoice_line_item": line.id, "amount": 1000}],
            "refund_amount": 1000,
            "reason": "product_unsatisfactory",
        }
    )
    assert cn.type == "post_payment" and cn.total == 1000 and cn.refunds[0].amount_refunded == 1000
    assert cn.number.endswith("-CN-02")  # the fixture already holds one
    after = write_client.v1.invoices.retrieve(inv.id)
    assert after.post_payment_credit_notes_amount == inv.post_payment_credit_notes_amount + 1000
    assert len(_events(write_client, "credit_note.created")) == 1
    assert len(_events(write_client, "refund.created")) == 1


def test_credit_note_on_open_invoice_reduces_amount_due(write_client, billing_fixture) -> None:
    inv = write_client.v1.invoices.retrieve(billing_fixture.open_invoice)
    cn = write_client.v1.credit_notes.create(
        {
            "invoice": inv.id,
            "lines": [{"type": "custom_line_item", "unit_amount": 700, "quantity": 1, "description": "Goodwill"}],
        }
    )
    assert cn.type == "pre_payment"
    after = write_client.v1.invoices.retrieve(inv.id)
    assert after.amount_due == inv.amount_due - 700 and after.amount_remaining == inv.amount_remaining - 700


def test_customers_and_invoice_items(write_client) -> None:
    cus = write_client.v1.customers.create({"name": "New Co", "email": "ap@new.example", "metadata": {"crm_id": "42"}})
    assert cus.id.startswith("cus_") and cus.created == AS_OF and cus.metadata["crm_id"] == "42"
    upd = write_client.v1.customers.update(cus.id, {"metadata": {"crm_id": "", "erp_id": "7"}, "name": "New Co Ltd"})
    assert upd.metadata.to_dict() == {"erp_id": "7"} and upd.name == "New Co Ltd"
    event = _events(write_client, "customer.updated")[0]
    assert event.data.previous_attributes.to_dict() == {"metadata": {"crm_id": "42"}, "name": "New Co"}
    assert event.request.id and event.api_version == "2026-10-28.endive"
    item = write_client.v1.invoice_items.create(
        {"customer": cus.id, "amount": 1500, "currency": "usd", "description": "Setup"}
    )
    assert item.amount == 1500 and item.invoice is None
    assert _events(write_client, "customer.created")[0].data.object.id == cus.id


def test_idempotency_key_replays_and_rejects_other_params(write_server) -> None:
    url = f"{write_server.url}/v1/customers"
    headers = {"Authorization": f"Bearer {DEFAULT_TOKEN}", "Idempotency-Key": "key-1"}
    first = httpx.post(url, data={"name": "A"}, headers=headers)
    again = httpx.post(url, data={"name": "A"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    other = httpx.post(url, data={"name": "B"}, headers=headers)
    assert other.status_code == 400 and other.json()["error"]["type"] == "idempotency_error"
    client = stripe.StripeClient(DEFAULT_TOKEN, base_addresses={"api": write_server.url})
    with pytest.raises(stripe.IdempotencyError):
        client.v1.customers.create({"name": "C"}, {"idempotency_key": "key-1"})
