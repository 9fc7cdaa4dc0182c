"""Writes other than invoice state changes: customers, subscription amendments (with proration invoice
items) and cancellation, invoice items, refunds and credit notes. Each validates its parameters as Stripe
does, updates the store and emits the events Stripe would, with ``previous_attributes`` on updates."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sandbox.billing import invoicing, objects
from sandbox.billing.errors import StripeError, invalid_param, no_such
from sandbox.billing.events import emit, emit_updated
from sandbox.billing.lists import parse_int
from sandbox.billing.service import Billing, Ctx


def _get(billing: Billing, collection: str, noun: str, obj_id: Any, param: str = "id") -> dict:
    obj = billing.store.get(collection, str(obj_id)) if obj_id else None
    if obj is None:
        if not obj_id:
            raise invalid_param(param, f"Missing required param: {param}.", "parameter_missing")
        raise no_such(noun, str(obj_id), param)
    return obj


def apply_metadata(current: dict, update: Any) -> dict:
    """Stripe's metadata update: keys merge, an empty value unsets a key, ``metadata=""`` clears all."""
    if update == "":
        return {}
    if not isinstance(update, dict):
        raise invalid_param("metadata", "Invalid hash")
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


# -- customers -------------------------------------------------------------------------------------------

CUSTOMER_FIELDS = ("name", "email", "description", "phone")


def create_customer(billing: Billing, ctx: Ctx, params: dict) -> dict:
    cus = objects.customer(
        id=billing.new_id("cus", length=14),
        created=billing.now(),
        name=params.get("name"),
        email=params.get("email"),
        description=params.get("description"),
        phone=params.get("phone"),
        address=params.get("address") if isinstance(params.get("address"), dict) else None,
        metadata=apply_metadata({}, params.get("metadata") or {}),
        preferred_locales=params.get("preferred_locales") or (),
    )
    billing.store.put("customers", cus)
    emit(billing, ctx, "customer.created", cus)
    return cus


def update_customer(billing: Billing, ctx: Ctx, customer_id: str, params: dict) -> dict:
    before = _get(billing, "customers", "customer", customer_id)
    after = copy.deepcopy(before)
    for key in CUSTOMER_FIELDS:
        if key in params:
            after[key] = params[key] or None
    if "metadata" in params:
        after["metadata"] = apply_metadata(after["metadata"], params["metadata"])
    if isinstance(params.get("address"), dict):
        after["address"] = objects._address(params["address"])
    billing.store.put("customers", after)
    emit_updated(billing, ctx, "customer.updated", before, after)
    return after


# -- subscriptions ---------------------------------------------------------------------------------------


def _proration_amount(unit_amount: int, quantity: int, fraction: Decimal) -> int:
    return int((Decimal(unit_amount) * quantity * fraction).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%d %b %Y")


def _items_param(params: dict) -> list[dict]:
    items = params.get("items") or []
    if isinstance(items, dict):
        items = [items[k] for k in sorted(items, key=int)]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise invalid_param("items", "Invalid array")
    return items


def update_subscription(billing: Billing, ctx: Ctx, sub_id: str, params: dict) -> dict:
    """Amend items (quantity / price; new items; ``deleted``), metadata, description, cancel_at_period_end.
    With ``proration_behavior`` create_prorations (the default) or always_invoice, a change mid-period creates
    two pending invoice items per changed item: a credit for the unused time and a charge for the rest."""
    before = _get(billing, "subscriptions", "subscription", sub_id)
    if before["status"] == "canceled":
        raise StripeError(400, "A canceled subscription can only update its cancellation_details and metadata.")
    after = copy.deepcopy(before)
    now = parse_int(params["proration_date"], "proration_date") if params.get("proration_date") else billing.now()
    behavior = params.get("proration_behavior") or "create_prorations"
    if behavior not in ("create_prorations", "none", "always_invoice"):
        raise invalid_param("proration_behavior", f"Invalid proration_behavior: {behavior}")
    items = {i["id"]: i for i in after["items"]["data"]}
    changes: list[tuple[dict | None, dict | None]] = []
    for n, change in enumerate(_items_param(params)):
        item_id = change.get("id")
        old = items.get(item_id) if item_id else None
        if item_id and old is None:
            raise no_such("subscription_item", item_id, f"items[{n}][id]")
        if str(change.get("deleted", "")).lower() == "true":
            if old is None:
                raise invalid_param(f"items[{n}][id]", "Missing required param: items[0][id].", "parameter_missing")
            del items[item_id]
            billing.store.docs.delete("subscription_items", item_id)
            changes.append((old, None))
            continue
        price_id = change.get("price") or (old["price"]["id"] if old else None)
        price = _get(billing, "prices", "price", price_id, f"items[{n}][price]")
        if price["currency"] != after["currency"]:
            raise invalid_param(f"items[{n}][price]", "The price specified does not match the subscription's currency.")
        quantity = (
            parse_int(change["quantity"], f"items[{n}][quantity]")
            if "quantity" in change
            else (old["quantity"] if old else 1)
        )
        if old is not None:
            new = {**old, "price": price, "plan": objects.plan_from_price(price), "quantity": quantity}
            if "metadata" in change:
                new["metadata"] = apply_metadata(old["metadata"], change["metadata"])
        else:
            anchor = next(iter(items.values()), None)
            new = objects.subscription_item(
                id=billing.new_id("si", length=14),
                created=billing.now(),
                subscription=sub_id,
                price=price,
                quantity=quantity,
                current_period_start=anchor["current_period_start"] if anchor else billing.now(),
                current_period_end=anchor["current_period_end"] if anchor else billing.now() + 30 * 86400,
            )
        items[new["id"]] = new
        billing.store.put("subscription_items", new)
        changes.append((old, new))
    after["items"]["data"] = list(items.values())
    if "metadata" in params:
        after["metadata"] = apply_metadata(after["metadata"], params["metadata"])
    if "description" in params:
        after["description"] = params["description"] or None
    if "cancel_at_period_end" in params:
        flag = str(params["cancel_at_period_end"]).lower() == "true"
        after["cancel_at_period_end"] = flag
        first = next(iter(items.values()), None)
        after["cancel_at"] = first["current_period_end"] if flag and first else None
        after["canceled_at"] = billing.now() if flag else None
        after["cancellation_details"] = {
            **after["cancellation_details"],
            "reason": "cancellation_requested" if flag else None,
        }
    billing.store.put("subscriptions", after)
    proration_items = [] if behavior == "none" else _prorations(billing, after, changes, now)
    for item in proration_items:
        billing.store.put("invoiceitems", item)
        emit(billing, ctx, "invoiceitem.created", item)
    emit_updated(billing, ctx, "customer.subscription.updated", before, after)
    return after


def _prorations(billing: Billing, sub: dict, changes: list[tuple[dict | None, dict | None]], now: int) -> list[dict]:
    result = []
    for old, new in changes:
        ref = new or old
        assert ref is not None
        start, end = ref["current_period_start"], ref["current_period_end"]
        if not (start <= now < end):
            continue
        if old and new and old["price"]["id"] == new["price"]["id"] and old["quantity"] == new["quantity"]:
            continue
        fraction = Decimal(end - now) / Decimal(end - start)
        for item, sign, label in ((old, -1, "Unused time on"), (new, 1, "Remaining time on")):
            if item is None or item["price"].get("recurring", {}).get("usage_type") == "metered":
                continue
            qty = item["quantity"] or 0
            product = billing.store.get("products", item["price"]["product"]) or {"name": item["price"]["product"]}
            amount = sign * _proration_amount(item["price"]["unit_amount"], qty, fraction)
            when = "after" if sign < 0 else "from"
            result.append(
                objects.invoiceitem(
                    id=billing.new_id("ii"),
                    customer=sub["customer"],
                    currency=sub["currency"],
                    amount=amount,
                    date=billing.now(),
                    period_start=now,
                    period_end=end,
                    description=f"{label} {qty} × {product['name']} {when} {_day(now)}",
                    quantity=qty,
                    unit_amount=item["price"]["unit_amount"],
                    price=item["price"]["id"],
                    product=item["price"]["product"],
                    subscription=sub["id"],
                    proration=True,
                )
            )
    return result


def cancel_subscription(billing: Billing, ctx: Ctx, sub_id: str, params: dict) -> dict:
    before = _get(billing, "subscriptions", "subscription", sub_id)
    if before["status"] == "canceled":
        raise StripeError(400, "A canceled subscription can only update its cancellation_details and metadata.")
    now = billing.now()
    after = copy.deepcopy(before)
    after.update({"status": "canceled", "canceled_at": now, "ended_at": now, "cancel_at_period_end": False})
    details = params.get("cancellation_details") if isinstance(params.get("cancellation_details"), dict) else {}
    after["cancellation_details"] = {
        "comment": details.get("comment"),
        "feedback": details.get("feedback"),
        "reason": "cancellation_requested",
    }
    billing.store.put("subscriptions", after)
    emit(billing, ctx, "customer.subscription.deleted", after, None)
    return after


# -- invoice items ---------------------------------------------------------------------------------------


def create_invoiceitem(billing: Billing, ctx: Ctx, params: dict) -> dict:
    cus = _get(billing, "customers", "customer", params.get("customer"), "customer")
    quantity = parse_int(params.get("quantity", 1), "quantity")
    price = None
    pricing = params.get("pricing") if isinstance(params.get("pricing"), dict) else {}
    price_id = params.get("price") or pricing.get("price")
    if price_id:
        price = _get(billing, "prices", "price", price_id, "price")
        amount = price["unit_amount"] * quantity
        unit = price["unit_amount"]
        currency = price["currency"]
    elif "amount" in params:
        amount = parse_int(params["amount"], "amount")
        unit = amount // quantity if quantity else amount
        currency = params.get("currency") or cus.get("currency")
    elif "unit_amount_decimal" in params or "unit_amount" in params:
        unit = parse_int(params.get("unit_amount_decimal") or params.get("unit_amount"), "unit_amount_decimal")
        amount = unit * quantity
        currency = params.get("currency") or cus.get("currency")
    else:
        raise invalid_param("amount", "Missing required param: amount.", "parameter_missing")
    if not currency:
        raise invalid_param("currency", "Missing required param: currency.", "parameter_missing")
    period = params.get("period") if isinstance(params.get("period"), dict) else {}
    now = billing.now()
    invoice_id = params.get("invoice") or None
    sub_id = params.get("subscription") or None
    if sub_id:
        _get(billing, "subscriptions", "subscription", sub_id, "subscription")
    item = objects.invoiceitem(
        id=billing.new_id("ii"),
        customer=cus["id"],
        currency=str(currency).lower(),
        amount=amount,
        date=now,
        period_start=parse_int(period.get("start", now), "period[start]"),
        period_end=parse_int(period.get("end", now), "period[end]"),
        description=params.get("description"),
        invoice=invoice_id,
        quantity=quantity,
        unit_amount=unit,
        price=price["id"] if price else None,
        product=price["product"] if price else None,
        subscription=sub_id,
        metadata=apply_metadata({}, params.get("metadata") or {}),
    )
    if invoice_id:
        invoicing.attach_item(billing, ctx, invoice_id, item)
    billing.store.put("invoiceitems", item)
    emit(billing, ctx, "invoiceitem.created", item)
    return item


# -- refunds ---------------------------------------------------------------------------------------------

REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def create_refund(billing: Billing, ctx: Ctx, params: dict, *, created_by_credit_note: bool = False) -> dict:
    """A full or partial refund of a succeeded charge (by ``charge`` or ``payment_intent``)."""
    if params.get("charge"):
        ch = _get(billing, "charges", "charge", params["charge"], "charge")
    elif params.get("payment_intent"):
        pi = _get(billing, "payment_intents", "payment_intent", params["payment_intent"], "payment_intent")
        if not pi.get("latest_charge"):
            raise invalid_param(
                "payment_intent", f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund."
            )
        ch = _get(billing, "charges", "charge", pi["latest_charge"], "payment_intent")
    else:
        raise invalid_param(
            "charge",
            "One of the following params should be provided for this request: charge or payment_intent.",
            "parameter_missing",
        )
    if ch["status"] != "succeeded":
        raise invalid_param("charge", f"Charge {ch['id']} has not succeeded and cannot be refunded.")
    left = ch["amount"] - ch["amount_refunded"]
    if left <= 0:
        raise StripeError(
            400, f"Charge {ch['id']} has already been refunded.", code="charge_already_refunded", param="charge"
        )
    amount = parse_int(params["amount"], "amount") if "amount" in params else left
    if amount <= 0:
        raise invalid_param("amount", "This value must be greater than or equal to 1.", "parameter_invalid_integer")
    if amount > left:
        raise StripeError(
            400,
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
            code="amount_too_large",
            param="amount",
        )
    reason = params.get("reason") or None
    if reason is not None and reason not in REFUND_REASONS:
        raise invalid_param("reason", f"Invalid reason: must be one of {', '.join(REFUND_REASONS)}")
    now = billing.now()
    refund_id, txn_id = billing.new_id("re"), billing.new_id("txn")
    rf = objects.refund(
        id=refund_id,
        created=now,
        charge=ch["id"],
        amount=amount,
        currency=ch["currency"],
        payment_intent=ch["payment_intent"],
        customer=ch["customer"],
        reason=reason,
        balance_transaction=txn_id,
        metadata=apply_metadata({}, params.get("metadata") or {}),
    )
    txn = objects.balance_transaction(
        id=txn_id,
        created=now,
        amount=-amount,
        currency=ch["currency"],
        source=refund_id,
        type="refund",
        description="REFUND FOR CHARGE",
        status="pending",
    )
    billing.store.put("balance_transactions", txn)
    billing.store.put("refunds", rf)
    after = copy.deepcopy(ch)
    after["refunds"]["data"] = [rf, *after["refunds"]["data"]]
    after["amount_refunded"] = ch["amount_refunded"] + amount
    after["refunded"] = after["amount_refunded"] >= after["amount"]
    billing.store.put("charges", after)
    emit(billing, ctx, "refund.created", rf)
    emit(
        billing,
        ctx,
        "charge.refunded",
        after,
        {k: ch[k] for k in ("amount_refunded", "refunded", "refunds") if ch[k] != after[k]},
    )
    return rf


# -- credit notes ----------------------------------------------------------------------------------------

CREDIT_NOTE_REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")


def _credit_lines(billing: Billing, inv: dict, params: dict) -> list[dict]:
    raw = params.get("lines") or []
    if isinstance(raw, dict):
        raw = [raw[k] for k in sorted(raw, key=int)]
    by_id = {line["id"]: line for line in inv["lines"]["data"]}
    result = []
    for n, spec in enumerate(raw):
        kind = spec.get("type")
        if kind == "invoice_line_item":
            line = by_id.get(spec.get("invoice_line_item", ""))
            if line is None:
                raise no_such("invoice line item", spec.get("invoice_line_item", ""), f"lines[{n}][invoice_line_item]")
            if "amount" in spec:
                amount = parse_int(spec["amount"], f"lines[{n}][amount]")
            else:
                qty = parse_int(spec.get("quantity", line["quantity"] or 1), f"lines[{n}][quantity]")
                amount = line["amount"] * qty // max(line["quantity"] or 1, 1)
            if amount > line["amount"]:
                raise invalid_param(
                    f"lines[{n}][amount]", "The credit amount cannot exceed the invoice line item amount."
                )
            tax = next(iter(line.get("taxes") or []), None)
            tax_amount = tax["amount"] * amount // line["amount"] if tax and line["amount"] else 0
            result.append(
                objects.credit_note_line(
                    id=billing.new_id("cnli"),
                    amount=amount,
                    description=line["description"],
                    quantity=parse_int(spec.get("quantity", 1), f"lines[{n}][quantity]"),
                    invoice_line_item=line["id"],
                    tax_amount=tax_amount,
                    tax_rate=tax["tax_rate_details"]["tax_rate"] if tax else None,
                    tax_behavior=tax["tax_behavior"] if tax else "exclusive",
                )
            )
        elif kind == "custom_line_item":
            unit = parse_int(spec.get("unit_amount") or spec.get("unit_amount_decimal"), f"lines[{n}][unit_amount]")
            qty = parse_int(spec.get("quantity", 1), f"lines[{n}][quantity]")
            result.append(
                objects.credit_note_line(
                    id=billing.new_id("cnli"),
                    amount=unit * qty,
                    description=spec.get("description"),
                    quantity=qty,
                    unit_amount=unit,
                )
            )
        else:
            raise invalid_param(
                f"lines[{n}][type]", "Invalid type: must be one of invoice_line_item or custom_line_item"
            )
    if not result and "amount" in params:
        amount = parse_int(params["amount"], "amount")
        result.append(
            objects.credit_note_line(id=billing.new_id("cnli"), amount=amount, description="Credit", unit_amount=amount)
        )
    if not result:
        raise invalid_param("lines", "You must pass either `lines` or `amount`.", "parameter_missing")
    return result


def create_credit_note(billing: Billing, ctx: Ctx, params: dict) -> dict:
    """A credit note on a finalized invoice: pre-payment (open invoice: lowers amount_due) or post-payment
    (paid invoice: ``refund_amount`` refunds the charge, the rest is credited out of band)."""
    if not params.get("invoice"):
        raise invalid_param("invoice", "Missing required param: invoice.", "parameter_missing")
    inv = invoicing.load_invoice(billing, str(params["invoice"]))
    if inv["status"] in ("draft", "void"):
        raise invalid_param("invoice", f"You can't create a credit note for an invoice with status {inv['status']}.")
    reason = params.get("reason") or None
    if reason is not None and reason not in CREDIT_NOTE_REASONS:
        raise invalid_param("reason", f"Invalid reason: must be one of {', '.join(CREDIT_NOTE_REASONS)}")
    lines = _credit_lines(billing, inv, params)
    now = billing.now()
    cn_type = "pre_payment" if inv["status"] in ("open", "uncollectible") else "post_payment"
    total = sum(line["amount"] for line in lines) + sum(
        t["amount"] for line in lines for t in line["taxes"] if t["tax_behavior"] == "exclusive"
    )
    credited = inv["pre_payment_credit_notes_amount"] + inv["post_payment_credit_notes_amount"]
    creditable = inv["total"] - credited
    if total > creditable:
        message = f"The credit note total ({total}) exceeds the invoice's remaining creditable amount ({creditable})."
        raise invalid_param("lines", message)
    refund_id = None
    refund_amount = parse_int(params["refund_amount"], "refund_amount") if params.get("refund_amount") else 0
    if cn_type == "post_payment" and refund_amount:
        payment = invoicing.payment_for(billing, inv["id"], "paid")
        if payment is None:
            raise invalid_param("refund_amount", "This invoice has no payment to refund.")
        pi = billing.store.get("payment_intents", payment["payment"]["payment_intent"]) or {}
        refund_id = create_refund(billing, ctx, {"charge": pi.get("latest_charge"), "amount": str(refund_amount)})["id"]
    existing = billing.store.docs.count("credit_notes", {"invoice": inv["id"]})
    out_of_band = total - refund_amount if cn_type == "post_payment" and total > refund_amount else None
    cn = objects.credit_note(
        id=billing.new_id("cn"),
        created=now,
        customer=inv["customer"],
        invoice=inv["id"],
        currency=inv["currency"],
        lines=lines,
        number=f"{inv['number']}-CN-{existing + 1:02d}",
        type=cn_type,
        reason=reason,
        memo=params.get("memo"),
        refund=refund_id,
        out_of_band_amount=out_of_band,
        metadata=apply_metadata({}, params.get("metadata") or {}),
    )
    billing.store.put("credit_notes", cn)
    emit(billing, ctx, "credit_note.created", billing.store.get("credit_notes", cn["id"]) or cn)
    before = invoicing.served(billing, inv["id"])
    if cn_type == "pre_payment":
        inv["pre_payment_credit_notes_amount"] += total
    else:
        inv["post_payment_credit_notes_amount"] += total
    after = invoicing.save_invoice(billing, inv)
    if after["status"] == "open" and after["amount_remaining"] == 0:
        # fully credited before payment: Stripe marks the invoice paid
        inv["status"] = "paid"
        inv["status_transitions"] = {**inv["status_transitions"], "paid_at": now}
        after = invoicing.save_invoice(billing, inv)
        emit(billing, ctx, "invoice.paid", after)
    emit_updated(billing, ctx, "invoice.updated", before, after)
    return billing.store.get("credit_notes", cn["id"]) or cn
