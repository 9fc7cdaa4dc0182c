"""Invoice state changes: finalize, pay (card charge or out of band, with declines), void, mark
uncollectible, and attaching invoice items. Each updates the store and emits the events Stripe would."""

from __future__ import annotations

import copy
import json
from decimal import ROUND_HALF_UP, Decimal

from sandbox.billing import objects
from sandbox.billing.errors import StripeError, no_such
from sandbox.billing.events import emit, emit_updated
from sandbox.billing.lists import Filter, ListQuery, page
from sandbox.billing.service import Billing, Ctx

DECLINING_PAYMENT_METHODS = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "pm_card_chargeDeclinedExpiredCard": ("expired_card", "expired_card", "Your card has expired."),
}
"""Stripe's test payment methods that decline, with (code, decline_code, message)."""

STRIPE_FEE_PERCENT = Decimal("0.029")
STRIPE_FEE_FIXED = 30


def load_invoice(billing: Billing, invoice_id: str) -> dict:
    inv = billing.store.get("invoices", invoice_id)
    if inv is None:
        raise no_such("invoice", invoice_id)
    return billing.store.with_all_lines(inv)


def save_invoice(billing: Billing, inv: dict) -> dict:
    """Recompute the money fields from the lines, store, and return the served form (first lines only)."""
    lines = inv["lines"]["data"]
    amounts = objects.invoice_amounts(
        lines,
        status=inv["status"],
        amount_paid=inv["amount_paid"],
        pre_payment_credit_notes_amount=inv["pre_payment_credit_notes_amount"],
        starting_balance=inv["starting_balance"],
    )
    inv.update(amounts)
    inv["total_taxes"] = objects._total_taxes(lines)
    billing.store.put("invoices", inv)
    return billing.store.get("invoices", inv["id"]) or inv


def served(billing: Billing, invoice_id: str) -> dict:
    return billing.store.get("invoices", invoice_id) or {}


def finalize(billing: Billing, ctx: Ctx, invoice_id: str) -> dict:
    inv = load_invoice(billing, invoice_id)
    if inv["status"] != "draft":
        raise StripeError(
            400,
            "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
            code="invoice_not_editable",
        )
    before = served(billing, invoice_id)
    now = billing.now()
    customer = billing.store.get("customers", inv["customer"])
    if customer is not None:
        seq = customer["next_invoice_sequence"]
        inv["number"] = f"{customer['invoice_prefix']}-{seq:04d}"
        billing.store.put("customers", {**customer, "next_invoice_sequence": seq + 1})
    inv["status"] = "open"
    inv["status_transitions"] = {**inv["status_transitions"], "finalized_at": now}
    inv["effective_at"] = now
    inv["ending_balance"] = inv["starting_balance"]
    inv["hosted_invoice_url"] = f"https://invoice.stripe.com/i/acct_q2csandbox/test_{invoice_id}"
    inv["invoice_pdf"] = f"https://pay.stripe.com/invoice/acct_q2csandbox/test_{invoice_id}/pdf"
    after = save_invoice(billing, inv)
    emit(billing, ctx, "invoice.finalized", after)
    emit_updated(billing, ctx, "invoice.updated", before, after)
    return after


def _fee(amount: int) -> int:
    return int((Decimal(amount) * STRIPE_FEE_PERCENT).quantize(Decimal(1), rounding=ROUND_HALF_UP)) + STRIPE_FEE_FIXED


def payment_for(billing: Billing, invoice_id: str, status: str) -> dict | None:
    """The invoice's latest invoice_payment in ``status`` (open: awaiting a retry; paid: the one to refund)."""
    filters = [Filter("invoice", "=", invoice_id), Filter("status", "=", status)]
    rows, _ = page(billing.store, "invoice_payments", ListQuery(limit=1), filters)
    return json.loads(rows[0]) if rows else None


def pay(billing: Billing, ctx: Ctx, invoice_id: str, params: dict) -> dict:
    """POST /v1/invoices/{id}/pay: finalizes a draft first; charges the card unless paid out of band."""
    inv = load_invoice(billing, invoice_id)
    if inv["status"] == "paid":
        raise StripeError(400, "Invoice is already paid.")
    if inv["status"] == "void":
        raise StripeError(400, "You cannot pay a void invoice.", code="invoice_not_editable")
    if inv["status"] == "draft":
        finalize(billing, ctx, invoice_id)
        inv = load_invoice(billing, invoice_id)
    before = served(billing, invoice_id)
    now = billing.now()
    amount = inv["amount_remaining"]
    out_of_band = str(params.get("paid_out_of_band", "")).lower() == "true"
    if out_of_band or amount == 0:
        return _mark_paid(billing, ctx, inv, before, amount, now)
    method = params.get("payment_method") or "pm_card_visa"
    customer_id = inv["customer"]
    pending = payment_for(billing, invoice_id, "open")
    pi_id = pending["payment"]["payment_intent"] if pending else billing.new_id("pi")
    existing_pi = billing.store.get("payment_intents", pi_id)
    charge_id = billing.new_id("ch")
    decline = DECLINING_PAYMENT_METHODS.get(method)
    if decline is not None:
        code, decline_code, message = decline
        ch = objects.charge(
            id=charge_id,
            created=now,
            amount=amount,
            currency=inv["currency"],
            customer=customer_id,
            payment_intent=pi_id,
            status="failed",
            failure_code=code,
            failure_message=message,
            payment_method=method,
            description=f"Payment for Invoice {inv['number']}",
        )
        error = {
            "charge": charge_id,
            "code": code,
            "decline_code": decline_code,
            "message": message,
            "type": "card_error",
        }
        pi = objects.payment_intent(
            id=pi_id,
            created=existing_pi["created"] if existing_pi else now,
            amount=amount,
            currency=inv["currency"],
            customer=customer_id,
            status="requires_payment_method",
            latest_charge=charge_id,
            payment_method=None,
            description=f"Payment for Invoice {inv['number']}",
            last_payment_error=error,
        )
        billing.store.put("charges", ch)
        billing.store.put("payment_intents", pi)
        if existing_pi is None:
            emit(billing, ctx, "payment_intent.created", pi)
            ip = objects.invoice_payment(
                id=billing.new_id("inpay"),
                created=now,
                invoice=invoice_id,
                payment_intent=pi_id,
                currency=inv["currency"],
                amount_requested=amount,
                status="open",
            )
            billing.store.put("invoice_payments", ip)
        emit(billing, ctx, "charge.failed", ch)
        emit(billing, ctx, "payment_intent.payment_failed", pi)
        inv["attempt_count"] += 1
        inv["attempted"] = True
        inv["next_payment_attempt"] = now + 3 * 86400
        after = save_invoice(billing, inv)
        emit_updated(billing, ctx, "invoice.updated", before, after)
        emit(billing, ctx, "invoice.payment_failed", after)
        _subscription_after_payment(billing, ctx, after, succeeded=False)
        raise StripeError(
            402,
            message,
            type="card_error",
            code=code,
            extra={"decline_code": decline_code, "charge": charge_id, "payment_intent": pi},
        )
    txn_id = billing.new_id("txn")
    fee = _fee(amount)
    ch = objects.charge(
        id=charge_id,
        created=now,
        amount=amount,
        currency=inv["currency"],
        customer=customer_id,
        payment_intent=pi_id,
        status="succeeded",
        balance_transaction=txn_id,
        payment_method=method,
        description=f"Payment for Invoice {inv['number']}",
    )
    txn = objects.balance_transaction(
        id=txn_id,
        created=now,
        amount=amount,
        currency=inv["currency"],
        source=charge_id,
        type="charge",
        fee=fee,
        description=f"Payment for Invoice {inv['number']}",
        status="pending",
    )
    pi = objects.payment_intent(
        id=pi_id,
        created=existing_pi["created"] if existing_pi else now,
        amount=amount,
        currency=inv["currency"],
        customer=customer_id,
        status="succeeded",
        latest_charge=charge_id,
        payment_method=method,
        description=f"Payment for Invoice {inv['number']}",
    )
    billing.store.put("balance_transactions", txn)
    billing.store.put("charges", ch)
    billing.store.put("payment_intents", pi)
    if existing_pi is None:
        emit(billing, ctx, "payment_intent.created", pi)
    if pending is not None:
        ip = {
            **pending,
            "amount_paid": amount,
            "status": "paid",
            "status_transitions": {**pending["status_transitions"], "paid_at": now},
        }
    else:
        ip = objects.invoice_payment(
            id=billing.new_id("inpay"),
            created=now,
            invoice=invoice_id,
            payment_intent=pi_id,
            currency=inv["currency"],
            amount_requested=amount,
            status="paid",
            paid_at=now,
        )
    billing.store.put("invoice_payments", ip)
    emit(billing, ctx, "charge.succeeded", ch)
    emit(billing, ctx, "payment_intent.succeeded", pi)
    emit(billing, ctx, "invoice_payment.paid", ip)
    return _mark_paid(billing, ctx, inv, before, amount, now)


def _mark_paid(billing: Billing, ctx: Ctx, inv: dict, before: dict, amount: int, now: int) -> dict:
    inv["status"] = "paid"
    inv["amount_paid"] = inv["amount_paid"] + amount
    inv["attempted"] = True
    inv["attempt_count"] += 1 if amount else 0
    inv["auto_advance"] = False
    inv["next_payment_attempt"] = None
    inv["status_transitions"] = {**inv["status_transitions"], "paid_at": now}
    after = save_invoice(billing, inv)
    emit_updated(billing, ctx, "invoice.updated", before, after)
    emit(billing, ctx, "invoice.paid", after)
    emit(billing, ctx, "invoice.payment_succeeded", after)
    _subscription_after_payment(billing, ctx, after, succeeded=True)
    return after


def _subscription_after_payment(billing: Billing, ctx: Ctx, inv: dict, *, succeeded: bool) -> None:
    """A subscription's status follows its latest invoice: past_due on a failed payment, active once paid."""
    parent = inv.get("parent") or {}
    sub_id = (parent.get("subscription_details") or {}).get("subscription")
    sub = billing.store.get("subscriptions", sub_id) if sub_id else None
    if sub is None or sub["status"] == "canceled":
        return
    new_status = "active" if succeeded else "past_due"
    if sub["status"] == new_status or (not succeeded and sub["status"] not in ("active", "trialing")):
        return
    updated = {**copy.deepcopy(sub), "status": new_status}
    billing.store.put("subscriptions", updated)
    emit_updated(billing, ctx, "customer.subscription.updated", sub, updated)


def void(billing: Billing, ctx: Ctx, invoice_id: str) -> dict:
    return _close(
        billing,
        ctx,
        invoice_id,
        ("open", "uncollectible"),
        "void",
        "voided_at",
        "invoice.voided",
        "You can only void an open or uncollectible invoice",
    )


def mark_uncollectible(billing: Billing, ctx: Ctx, invoice_id: str) -> dict:
    return _close(
        billing,
        ctx,
        invoice_id,
        ("open",),
        "uncollectible",
        "marked_uncollectible_at",
        "invoice.marked_uncollectible",
        "You can only mark an open invoice as uncollectible",
    )


def _close(
    billing: Billing,
    ctx: Ctx,
    invoice_id: str,
    allowed: tuple[str, ...],
    status: str,
    transition: str,
    event: str,
    refusal: str,
) -> dict:
    """Move an invoice to a terminal unpaid status (void / uncollectible), stamping its transition time."""
    inv = load_invoice(billing, invoice_id)
    if inv["status"] not in allowed:
        raise StripeError(400, f"{refusal}, but this one is {inv['status']}.", code="invoice_not_editable")
    before = served(billing, invoice_id)
    inv["status"] = status
    inv["auto_advance"] = False
    inv["next_payment_attempt"] = None
    inv["status_transitions"] = {**inv["status_transitions"], transition: billing.now()}
    after = save_invoice(billing, inv)
    emit_updated(billing, ctx, "invoice.updated", before, after)
    emit(billing, ctx, event, after)
    return after


def attach_item(billing: Billing, ctx: Ctx, invoice_id: str, item: dict) -> None:
    """An invoice item added to a draft invoice becomes one of its lines."""
    inv = load_invoice(billing, invoice_id)
    if inv["status"] != "draft":
        raise StripeError(
            400, "You can only add invoice items to draft invoices.", code="invoice_not_editable", param="invoice"
        )
    before = served(billing, invoice_id)
    pricing = item.get("pricing") or {}
    details = pricing.get("price_details") or {}
    sub = ((item.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    line = objects.invoice_line(
        id=billing.new_id("il"),
        invoice=invoice_id,
        amount=item["amount"],
        currency=item["currency"],
        period_start=item["period"]["start"],
        period_end=item["period"]["end"],
        description=item["description"],
        quantity=item["quantity"],
        price=details.get("price"),
        product=details.get("product"),
        subscription=sub,
        invoice_item=item["id"],
        proration=item["proration"],
        metadata=item["metadata"],
    )
    inv["lines"]["data"].append(line)
    after = save_invoice(billing, inv)
    emit_updated(billing, ctx, "invoice.updated", before, after)
