"""Builders for Stripe objects in the shapes of API version ``2026-10-28.endive``.

Every builder takes business fields as keyword arguments and returns a complete object: every key the real
API returns for that resource (checked by a test against Stripe's own example objects in
``reference/stripe/fixtures3.json``, minus :data:`OMITTED_KEYS`). The scenario generator writes fixtures
with these builders and the server builds objects created through the API with them, so both agree.

Conventions: money is integer minor units (``to_minor`` converts a Decimal with the ISO-4217 exponent;
JPY has 0 decimals, KWD 3), times are unix seconds (UTC), currencies are lower-case ISO codes, ids are
passed in (``make_id`` derives stable ones).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

API_VERSION = "2026-10-28.endive"
"""The API version served (what stripe-python 16.1.0 pins); sent back in the ``Stripe-Version`` header."""

INVOICE_LINES_EMBEDDED = 10
"""An invoice (and a credit note) embeds the first 10 of its lines; the rest come from ``.../lines``."""

CURRENCY_EXPONENT: dict[str, int] = {
    **dict.fromkeys(["usd", "eur", "gbp", "chf", "cad", "aud", "nzd", "sek", "nok", "dkk", "pln", "czk"], 2),
    **dict.fromkeys(["sgd", "hkd", "mxn", "brl", "inr", "zar", "ils", "aed", "cny", "huf", "ron"], 2),
    **dict.fromkeys(["jpy", "krw", "vnd", "clp", "isk", "pyg", "ugx", "xaf", "xof", "bif", "djf"], 0),
    **dict.fromkeys(["gnf", "kmf", "mga", "rwf", "vuv", "xpf"], 0),
    **dict.fromkeys(["kwd", "bhd", "jod", "omr", "tnd"], 3),
}
"""ISO-4217 minor-unit exponents of the currencies the sandbox knows (Stripe's zero- and three-decimal lists)."""

OMITTED_KEYS: dict[str, frozenset[str]] = {
    # Removed in 2025-03-31.basil (moved to parent.subscription_details); Stripe's example object still lists it.
    "invoice": frozenset({"subscription"}),
}
"""Deliberate differences from the keys of Stripe's example objects, per resource (the one list; see README)."""

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def make_id(prefix: str, *parts: object, length: int = 24) -> str:
    """A stable Stripe-looking id (``in_1Q…``) derived from ``parts``: the same parts give the same id."""
    digest = int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=24).digest(), "big")
    chars = []
    for _ in range(length - 1):
        digest, rem = divmod(digest, 62)
        chars.append(_BASE62[rem])
    return f"{prefix}_1{''.join(chars)}"


def to_minor(amount: Decimal, currency: str) -> int:
    """A major-unit Decimal to integer minor units of ``currency`` (half-up), e.g. 12.34 USD → 1234, 1234 JPY → 1234."""
    exponent = CURRENCY_EXPONENT.get(currency.lower(), 2)
    scaled = (Decimal(amount) * (Decimal(10) ** exponent)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(scaled)


def tax_on(amount: int, percentage: Decimal | str | int, *, inclusive: bool = False) -> int:
    """Tax in minor units on a line ``amount`` at ``percentage`` (half-up); for inclusive prices the part inside."""
    rate = Decimal(str(percentage)) / 100
    tax = Decimal(amount) * rate / (1 + rate) if inclusive else Decimal(amount) * rate
    return int(tax.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _address(address: dict | None) -> dict | None:
    if address is None:
        return None
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return {k: address.get(k) for k in keys}


def _list(data: list[dict], url: str, *, has_more: bool = False) -> dict:
    return {"data": data, "has_more": has_more, "object": "list", "url": url}


# -- catalogue ---------------------------------------------------------------------------------------------


def customer(
    *,
    id: str,  # noqa: A002 - Stripe's field name
    created: int,
    name: str | None = None,
    email: str | None = None,
    currency: str | None = None,
    address: dict | None = None,
    phone: str | None = None,
    description: str | None = None,
    metadata: dict | None = None,
    invoice_prefix: str | None = None,
    next_invoice_sequence: int = 1,
    balance: int = 0,
    delinquent: bool = False,
    tax_exempt: str = "none",
    preferred_locales: Sequence[str] = (),
    default_payment_method: str | None = None,
) -> dict:
    """A customer. Args: id, created, name, email, currency (set once it has been billed), address
    ({city, country, line1, line2, postal_code, state}), phone, description, metadata, invoice_prefix
    (default from the id), next_invoice_sequence, balance, delinquent, tax_exempt (none|exempt|reverse),
    preferred_locales, default_payment_method."""
    prefix = invoice_prefix or hashlib.blake2b(id.encode(), digest_size=4).hexdigest().upper()[:7]
    return {
        "address": _address(address),
        "balance": balance,
        "created": created,
        "currency": currency,
        "default_source": None,
        "delinquent": delinquent,
        "description": description,
        "discount": None,
        "email": email,
        "id": id,
        "invoice_prefix": prefix,
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": default_payment_method,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": dict(metadata or {}),
        "name": name,
        "next_invoice_sequence": next_invoice_sequence,
        "object": "customer",
        "phone": phone,
        "preferred_locales": list(preferred_locales),
        "shipping": None,
        "tax_exempt": tax_exempt,
        "test_clock": None,
    }


def product(
    *,
    id: str,  # noqa: A002
    created: int,
    name: str,
    description: str | None = None,
    active: bool = True,
    default_price: str | None = None,
    metadata: dict | None = None,
    tax_code: str | None = None,
    unit_label: str | None = None,
    updated: int | None = None,
) -> dict:
    """A product. Args: id, created, name, description, active, default_price (price id), metadata,
    tax_code (e.g. ``txcd_10103001`` SaaS), unit_label (``seat``), updated (default created)."""
    return {
        "active": active,
        "created": created,
        "default_price": default_price,
        "description": description,
        "id": id,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": dict(metadata or {}),
        "name": name,
        "object": "product",
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": tax_code,
        "type": "service",
        "unit_label": unit_label,
        "updated": updated if updated is not None else created,
        "url": None,
    }


def price(
    *,
    id: str,  # noqa: A002
    created: int,
    product: str,
    currency: str,
    unit_amount: int,
    interval: str | None = "month",
    interval_count: int = 1,
    usage_type: str = "licensed",
    nickname: str | None = None,
    lookup_key: str | None = None,
    tax_behavior: str = "exclusive",
    active: bool = True,
    metadata: dict | None = None,
) -> dict:
    """A per-unit price. Args: id, created, product (id), currency, unit_amount (minor units), interval
    (month|year, or None for a one-time price), interval_count, usage_type (licensed = seats,
    metered = usage), nickname, lookup_key, tax_behavior (exclusive|inclusive|unspecified), active, metadata."""
    recurring = None
    if interval is not None:
        recurring = {
            "interval": interval,
            "interval_count": interval_count,
            "meter": None,
            "trial_period_days": None,
            "usage_type": usage_type,
        }
    return {
        "active": active,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": currency,
        "custom_unit_amount": None,
        "id": id,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": dict(metadata or {}),
        "nickname": nickname,
        "object": "price",
        "product": product,
        "recurring": recurring,
        "tax_behavior": tax_behavior,
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def plan_from_price(price_obj: dict) -> dict:
    """The legacy ``plan`` Stripe still embeds in subscription items, derived from a recurring price."""
    recurring = price_obj.get("recurring") or {}
    return {
        "active": price_obj["active"],
        "amount": price_obj["unit_amount"],
        "amount_decimal": price_obj["unit_amount_decimal"],
        "billing_scheme": price_obj["billing_scheme"],
        "created": price_obj["created"],
        "currency": price_obj["currency"],
        "id": price_obj["id"],
        "interval": recurring.get("interval", "month"),
        "interval_count": recurring.get("interval_count", 1),
        "livemode": False,
        "metadata": dict(price_obj.get("metadata") or {}),
        "meter": recurring.get("meter"),
        "nickname": price_obj.get("nickname"),
        "object": "plan",
        "product": price_obj["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": recurring.get("usage_type", "licensed"),
    }


# -- subscriptions -----------------------------------------------------------------------------------------


def subscription_item(
    *,
    id: str,  # noqa: A002
    created: int,
    subscription: str,
    price: dict,
    quantity: int | None,
    current_period_start: int,
    current_period_end: int,
    metadata: dict | None = None,
    tax_rates: Sequence[dict] = (),
) -> dict:
    """A subscription item. Args: id, created, subscription (id), price (the full price object, embedded as
    Stripe does), quantity (None for metered prices), current_period_start/end (per item since basil),
    metadata, tax_rates (tax_rate objects)."""
    return {
        "billing_thresholds": None,
        "created": created,
        "current_period_end": current_period_end,
        "current_period_start": current_period_start,
        "discounts": [],
        "id": id,
        "metadata": dict(metadata or {}),
        "object": "subscription_item",
        "plan": plan_from_price(price),
        "price": price,
        "quantity": quantity,
        "subscription": subscription,
        "tax_rates": list(tax_rates),
    }


def subscription(
    *,
    id: str,  # noqa: A002
    created: int,
    customer: str,
    currency: str,
    items: Sequence[dict],
    status: str = "active",
    start_date: int | None = None,
    billing_cycle_anchor: int | None = None,
    cancel_at: int | None = None,
    cancel_at_period_end: bool = False,
    canceled_at: int | None = None,
    ended_at: int | None = None,
    cancellation_reason: str | None = None,
    latest_invoice: str | None = None,
    collection_method: str = "charge_automatically",
    days_until_due: int | None = None,
    description: str | None = None,
    metadata: dict | None = None,
    trial_start: int | None = None,
    trial_end: int | None = None,
    default_payment_method: str | None = None,
) -> dict:
    """A subscription with its items embedded (``items.data``, url ``/v1/subscription_items?subscription=…``).
    Args: id, created, customer, currency, items (from :func:`subscription_item`), status (incomplete|
    trialing|active|past_due|unpaid|canceled|paused), start_date and billing_cycle_anchor (default created),
    cancel_at, cancel_at_period_end, canceled_at, ended_at, cancellation_reason (cancellation_requested|
    payment_failed|payment_disputed), latest_invoice, collection_method (charge_automatically|send_invoice),
    days_until_due (send_invoice), description, metadata, trial_start, trial_end, default_payment_method."""
    return {
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": billing_cycle_anchor if billing_cycle_anchor is not None else created,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": cancel_at,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": canceled_at,
        "cancellation_details": {"comment": None, "feedback": None, "reason": cancellation_reason},
        "collection_method": collection_method,
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "days_until_due": days_until_due,
        "default_payment_method": default_payment_method,
        "default_source": None,
        "default_tax_rates": [],
        "description": description,
        "discounts": [],
        "ended_at": ended_at,
        "id": id,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": _list(list(items), f"/v1/subscription_items?subscription={id}"),
        "latest_invoice": latest_invoice,
        "livemode": False,
        "managed_payments": None,
        "metadata": dict(metadata or {}),
        "next_pending_invoice_item_invoice": None,
        "object": "subscription",
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": start_date if start_date is not None else created,
        "status": status,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": trial_start,
    }


# -- invoices ----------------------------------------------------------------------------------------------


def _line_taxes(
    amount: int, tax_amount: int, tax_rate: str | None, tax_behavior: str, taxability_reason: str
) -> list[dict]:
    """A line's ``taxes`` list (invoice and credit note lines alike): one entry when it has a tax rate."""
    if tax_rate is None:
        return []
    taxable = amount - tax_amount if tax_behavior == "inclusive" else amount
    return [
        line_tax(
            amount=tax_amount,
            tax_rate=tax_rate,
            taxable_amount=taxable,
            tax_behavior=tax_behavior,
            taxability_reason=taxability_reason,
        )
    ]


def line_tax(
    *,
    amount: int,
    tax_rate: str,
    taxable_amount: int,
    tax_behavior: str = "exclusive",
    taxability_reason: str = "standard_rated",
) -> dict:
    """One entry of a line's ``taxes`` (and, summed per rate, of an invoice's ``total_taxes``)."""
    return {
        "amount": amount,
        "tax_behavior": tax_behavior,
        "tax_rate_details": {"tax_rate": tax_rate},
        "taxability_reason": taxability_reason,
        "taxable_amount": taxable_amount,
        "type": "tax_rate_details",
    }


def invoice_line(
    *,
    id: str,  # noqa: A002
    invoice: str,
    amount: int,
    currency: str,
    period_start: int,
    period_end: int,
    description: str | None = None,
    quantity: int | None = 1,
    price: str | None = None,
    product: str | None = None,
    unit_amount: int | None = None,
    subscription: str | None = None,
    subscription_item: str | None = None,
    invoice_item: str | None = None,
    proration: bool = False,
    tax_amount: int = 0,
    tax_rate: str | None = None,
    tax_behavior: str = "exclusive",
    taxability_reason: str = "standard_rated",
    metadata: dict | None = None,
) -> dict:
    """An invoice line (object ``line_item``). Args: id (``il_…``), invoice, amount (minor units; excludes tax
    when tax_behavior is exclusive, includes it when inclusive), currency, period_start/end, description,
    quantity, price/product ids (``pricing.price_details``), unit_amount, subscription; the parent is
    ``subscription_item_details`` when subscription_item is given, else ``invoice_item_details`` for
    invoice_item (usage overage, proration); proration flag; tax_amount with tax_rate (``txr_…``) gives one
    ``taxes`` entry (tax_behavior, taxability_reason); metadata."""
    parent: dict[str, Any] | None = None
    if subscription_item is not None:
        parent = {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": invoice_item,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription,
                "subscription_item": subscription_item,
            },
            "type": "subscription_item_details",
        }
    elif invoice_item is not None:
        parent = {
            "invoice_item_details": {
                "invoice_item": invoice_item,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription,
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        }
    taxes = _line_taxes(amount, tax_amount, tax_rate, tax_behavior, taxability_reason)
    pricing = None
    if price is not None:
        pricing = {
            "price_details": {"price": price, "product": product},
            "type": "price_details",
            "unit_amount_decimal": str(unit_amount if unit_amount is not None else amount),
        }
    return {
        "amount": amount,
        "currency": currency,
        "description": description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "id": id,
        "invoice": invoice,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "object": "line_item",
        "parent": parent,
        "period": {"end": period_end, "start": period_start},
        "pretax_credit_amounts": [],
        "pricing": pricing,
        "quantity": quantity,
        "quantity_decimal": str(quantity) if quantity is not None else None,
        "subscription": subscription,
        "subtotal": amount,
        "taxes": taxes,
    }


def _total_taxes(lines: Sequence[dict]) -> list[dict]:
    """Per (rate, behaviour, reason), the sum of the lines' taxes, as Stripe's ``total_taxes``."""
    merged: dict[tuple, dict] = {}
    for line in lines:
        for tax in line.get("taxes") or []:
            rate = (tax.get("tax_rate_details") or {}).get("tax_rate")
            key = (rate, tax["tax_behavior"], tax["taxability_reason"])
            if key not in merged:
                merged[key] = {**tax, "amount": 0, "taxable_amount": 0, "tax_rate_details": {"tax_rate": rate}}
            merged[key]["amount"] += tax["amount"]
            merged[key]["taxable_amount"] += tax["taxable_amount"]
    return list(merged.values())


def invoice_amounts(
    lines: Sequence[dict],
    *,
    status: str,
    amount_paid: int | None = None,
    pre_payment_credit_notes_amount: int = 0,
    starting_balance: int = 0,
) -> dict[str, int]:
    """The invoice's money fields from its lines, always consistent:
    subtotal = Σ line amounts; total = subtotal + exclusive tax; amount_due = total − pre-payment credit notes
    − applied customer credit (negative starting_balance); amount_remaining = amount_due − amount_paid
    (0 once void or paid, as Stripe shows)."""
    subtotal = sum(line["amount"] for line in lines)
    exclusive = sum(t["amount"] for line in lines for t in line.get("taxes") or [] if t["tax_behavior"] == "exclusive")
    inclusive = sum(t["amount"] for line in lines for t in line.get("taxes") or [] if t["tax_behavior"] == "inclusive")
    total = subtotal + exclusive
    credit_applied = min(max(-starting_balance, 0), max(total, 0))
    amount_due = max(total - pre_payment_credit_notes_amount - credit_applied, 0)
    paid = amount_paid if amount_paid is not None else (amount_due if status == "paid" else 0)
    remaining = 0 if status in ("paid", "void") else max(amount_due - paid, 0)
    return {
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal - inclusive,
        "total": total,
        "total_excluding_tax": subtotal - inclusive,
        "amount_due": amount_due,
        "amount_paid": paid,
        "amount_remaining": remaining,
    }


def invoice(
    *,
    id: str,  # noqa: A002
    created: int,
    customer: str,
    currency: str,
    lines: Sequence[dict],
    status: str = "draft",
    number: str | None = None,
    billing_reason: str = "manual",
    subscription: str | None = None,
    subscription_metadata: dict | None = None,
    period_start: int | None = None,
    period_end: int | None = None,
    due_date: int | None = None,
    collection_method: str = "charge_automatically",
    finalized_at: int | None = None,
    paid_at: int | None = None,
    voided_at: int | None = None,
    marked_uncollectible_at: int | None = None,
    amount_paid: int | None = None,
    attempt_count: int = 0,
    pre_payment_credit_notes_amount: int = 0,
    post_payment_credit_notes_amount: int = 0,
    starting_balance: int = 0,
    customer_name: str | None = None,
    customer_email: str | None = None,
    customer_address: dict | None = None,
    customer_tax_exempt: str = "none",
    account_country: str = "US",
    account_name: str | None = None,
    description: str | None = None,
    metadata: dict | None = None,
    next_payment_attempt: int | None = None,
    auto_advance: bool | None = None,
) -> dict:
    """An invoice with ALL its lines in ``lines.data`` (the fixture form; the server embeds the first 10).
    Args: id, created, customer, currency, lines (from :func:`invoice_line`), status (draft|open|paid|void|
    uncollectible), number (set once finalized, e.g. ``ABC1234-0001``), billing_reason (subscription_create|
    subscription_cycle|subscription_update|manual|upcoming|…), subscription (+ subscription_metadata) sets
    ``parent.subscription_details``, period_start/end (default created), due_date (send_invoice),
    collection_method, status times finalized_at/paid_at/voided_at/marked_uncollectible_at,
    amount_paid (default: all of amount_due when paid), attempt_count (failed payments count too),
    pre/post_payment_credit_notes_amount, starting_balance (negative = customer credit applied),
    customer_name/email/address/tax_exempt (snapshots), account_country/name (the issuing entity),
    description, metadata, next_payment_attempt, auto_advance (default: True while draft/open)."""
    amounts = invoice_amounts(
        lines,
        status=status,
        amount_paid=amount_paid,
        pre_payment_credit_notes_amount=pre_payment_credit_notes_amount,
        starting_balance=starting_balance,
    )
    parent = None
    if subscription is not None:
        parent = {
            "quote_details": None,
            "subscription_details": {"metadata": dict(subscription_metadata or {}), "subscription": subscription},
            "type": "subscription_details",
        }
    finalized = status != "draft"
    total_taxes = _total_taxes(lines)
    return {
        "account_country": account_country,
        "account_name": account_name,
        "account_tax_ids": None,
        **amounts,
        "amount_overpaid": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": attempt_count,
        "attempted": attempt_count > 0 or status == "paid",
        "auto_advance": auto_advance if auto_advance is not None else status in ("draft", "open"),
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": collection_method,
        "created": created,
        "currency": currency,
        "custom_fields": None,
        "customer": customer,
        "customer_account": None,
        "customer_address": _address(customer_address),
        "customer_email": customer_email,
        "customer_name": customer_name,
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": customer_tax_exempt,
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": description,
        "discounts": [],
        "due_date": due_date,
        "effective_at": finalized_at,
        "ending_balance": (starting_balance if finalized else None),
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/acct_q2csandbox/test_{id}" if finalized else None,
        "id": id,
        "invoice_pdf": f"https://pay.stripe.com/invoice/acct_q2csandbox/test_{id}/pdf" if finalized else None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": _list(list(lines), f"/v1/invoices/{id}/lines"),
        "livemode": False,
        "metadata": dict(metadata or {}),
        "next_payment_attempt": next_payment_attempt,
        "number": number,
        "object": "invoice",
        "on_behalf_of": None,
        "parent": parent,
        "payment_settings": {"default_mandate": None, "payment_method_options": None, "payment_method_types": None},
        "period_end": period_end if period_end is not None else created,
        "period_start": period_start if period_start is not None else created,
        "post_payment_credit_notes_amount": post_payment_credit_notes_amount,
        "pre_payment_credit_notes_amount": pre_payment_credit_notes_amount,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": starting_balance,
        "statement_descriptor": None,
        "status": status,
        "status_transitions": {
            "finalized_at": finalized_at,
            "marked_uncollectible_at": marked_uncollectible_at,
            "paid_at": paid_at,
            "voided_at": voided_at,
        },
        "subtotal": amounts["subtotal"],
        "test_clock": None,
        "total_discount_amounts": [],
        "total_pretax_credit_amounts": [],
        "total_taxes": total_taxes,
        "webhooks_delivered_at": created,
    }


def invoiceitem(
    *,
    id: str,  # noqa: A002
    customer: str,
    currency: str,
    amount: int,
    date: int,
    period_start: int,
    period_end: int,
    description: str | None = None,
    invoice: str | None = None,
    quantity: int = 1,
    unit_amount: int | None = None,
    price: str | None = None,
    product: str | None = None,
    subscription: str | None = None,
    proration: bool = False,
    metadata: dict | None = None,
) -> dict:
    """An invoice item: a usage overage or a proration (negative amount = credit for unused time).
    Args: id (``ii_…``), customer, currency, amount (minor units), date (creation time), period_start/end,
    description, invoice (None while pending), quantity, unit_amount, price/product ids, subscription
    (sets ``parent.subscription_details``), proration, metadata."""
    parent = None
    if subscription is not None:
        parent = {
            "subscription_details": {"subscription": subscription, "subscription_item": None},
            "type": "subscription_details",
        }
    pricing = None
    if price is not None:
        pricing = {
            "price_details": {"price": price, "product": product},
            "type": "price_details",
            "unit_amount_decimal": str(unit_amount if unit_amount is not None else amount),
        }
    return {
        "amount": amount,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "date": date,
        "description": description,
        "discountable": not proration,
        "discounts": [],
        "id": id,
        "invoice": invoice,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "net_amount": amount,
        "object": "invoiceitem",
        "parent": parent,
        "period": {"end": period_end, "start": period_start},
        "pricing": pricing,
        "proration": proration,
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "tax_rates": [],
        "test_clock": None,
    }


# -- payments ----------------------------------------------------------------------------------------------


def invoice_payment(
    *,
    id: str,  # noqa: A002
    created: int,
    invoice: str,
    payment_intent: str,
    currency: str,
    amount_requested: int,
    status: str = "paid",
    amount_paid: int | None = None,
    paid_at: int | None = None,
    canceled_at: int | None = None,
    is_default: bool = True,
) -> dict:
    """The link between an invoice and its payment intent (charges carry no ``invoice`` key in this version).
    Args: id (``inpay_…``), created, invoice, payment_intent, currency, amount_requested, status
    (open|paid|canceled), amount_paid (default amount_requested when paid, else None), paid_at, canceled_at,
    is_default."""
    if amount_paid is None and status == "paid":
        amount_paid = amount_requested
    return {
        "amount_paid": amount_paid,
        "amount_requested": amount_requested,
        "created": created,
        "currency": currency,
        "id": id,
        "invoice": invoice,
        "is_default": is_default,
        "livemode": False,
        "object": "invoice_payment",
        "payment": {"payment_intent": payment_intent, "type": "payment_intent"},
        "status": status,
        "status_transitions": {"canceled_at": canceled_at, "paid_at": paid_at},
    }


def payment_intent(
    *,
    id: str,  # noqa: A002
    created: int,
    amount: int,
    currency: str,
    customer: str | None,
    status: str = "succeeded",
    latest_charge: str | None = None,
    payment_method: str | None = "pm_card_visa",
    description: str | None = None,
    metadata: dict | None = None,
    last_payment_error: dict | None = None,
    canceled_at: int | None = None,
    cancellation_reason: str | None = None,
) -> dict:
    """A payment intent. Args: id (``pi_…``), created, amount, currency, customer, status (succeeded|
    requires_payment_method after a decline|processing|canceled), latest_charge, payment_method, description,
    metadata, last_payment_error (``{type, code, decline_code, message}``), canceled_at, cancellation_reason."""
    return {
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": amount if status == "succeeded" else 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": canceled_at,
        "cancellation_reason": cancellation_reason,
        "capture_method": "automatic",
        "client_secret": f"{id}_secret_{hashlib.blake2b(id.encode(), digest_size=12).hexdigest()}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "description": description,
        "excluded_payment_method_types": None,
        "id": id,
        "last_payment_error": last_payment_error,
        "latest_charge": latest_charge,
        "livemode": False,
        "managed_payments": None,
        "metadata": dict(metadata or {}),
        "next_action": None,
        "object": "payment_intent",
        "on_behalf_of": None,
        "payment_method": payment_method,
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def _card_details(amount: int) -> dict:
    return {
        "card": {
            "amount_authorized": amount,
            "authorization_code": None,
            "brand": "visa",
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
            "country": "US",
            "exp_month": 12,
            "exp_year": 2034,
            "extended_authorization": {"status": "disabled"},
            "fingerprint": "q2cSandboxCard01",
            "funding": "credit",
            "incremental_authorization": {"status": "unavailable"},
            "installments": None,
            "last4": "4242",
            "mandate": None,
            "multicapture": {"status": "unavailable"},
            "network": "visa",
            "network_token": {"used": False},
            "network_transaction_id": None,
            "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
            "regulated_status": "unregulated",
            "three_d_secure": None,
            "wallet": None,
        },
        "type": "card",
    }


def charge(
    *,
    id: str,  # noqa: A002
    created: int,
    amount: int,
    currency: str,
    customer: str | None,
    payment_intent: str | None,
    status: str = "succeeded",
    failure_code: str | None = None,
    failure_message: str | None = None,
    balance_transaction: str | None = None,
    refunds: Sequence[dict] = (),
    payment_method: str | None = "pm_card_visa",
    description: str | None = None,
    metadata: dict | None = None,
    billing_name: str | None = None,
) -> dict:
    """A charge, succeeded or failed. Args: id (``ch_…``), created, amount, currency, customer,
    payment_intent, status (succeeded|failed|pending), failure_code (card_declined, insufficient_funds,
    expired_card …) and failure_message, balance_transaction (``txn_…``, None when failed), refunds (refund
    objects; amount_refunded and refunded follow from them), payment_method, description, metadata,
    billing_name."""
    succeeded = status == "succeeded"
    refunded_total = sum(r["amount"] for r in refunds if r.get("status") in ("succeeded", "pending"))
    if succeeded:
        outcome = {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    else:
        outcome = {
            "advice_code": "try_again_later",
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "declined_by_network",
            "reason": "generic_decline" if failure_code == "card_declined" else failure_code,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined",
        }
    return {
        "amount": amount,
        "amount_captured": amount if succeeded else 0,
        "amount_refunded": refunded_total,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": balance_transaction,
        "billing_details": {
            "address": _address({}),
            "email": None,
            "name": billing_name,
            "phone": None,
            "tax_id": None,
        },
        "calculated_statement_descriptor": "Q2C SANDBOX",
        "captured": succeeded,
        "created": created,
        "currency": currency,
        "customer": customer,
        "description": description,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None if succeeded else failure_code,
        "failure_message": None if succeeded else failure_message,
        "fraud_details": {},
        "id": id,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "object": "charge",
        "on_behalf_of": None,
        "outcome": outcome,
        "paid": succeeded,
        "payment_intent": payment_intent,
        "payment_method": payment_method,
        "payment_method_details": _card_details(amount),
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/q2csandbox_{id}" if succeeded else None,
        "refunded": succeeded and refunded_total >= amount,
        "refunds": _list(list(refunds), f"/v1/charges/{id}/refunds"),
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def refund(
    *,
    id: str,  # noqa: A002
    created: int,
    charge: str,
    amount: int,
    currency: str,
    payment_intent: str | None = None,
    customer: str | None = None,
    reason: str | None = None,
    status: str = "succeeded",
    balance_transaction: str | None = None,
    metadata: dict | None = None,
    payment_method: str | None = "pm_card_visa",
) -> dict:
    """A refund of all or part of a charge. Args: id (``re_…``), created, charge, amount, currency,
    payment_intent, customer, reason (duplicate|fraudulent|requested_by_customer|None), status (succeeded|
    pending|failed|canceled), balance_transaction, metadata, payment_method."""
    return {
        "amount": amount,
        "balance_transaction": balance_transaction,
        "charge": charge,
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "destination_details": {
            "card": {"reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund"},
            "type": "card",
        },
        "id": id,
        "metadata": dict(metadata or {}),
        "object": "refund",
        "payment_intent": payment_intent,
        "payment_method": payment_method,
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": status,
        "transfer_reversal": None,
    }


# -- credit notes ------------------------------------------------------------------------------------------


def credit_note_line(
    *,
    id: str,  # noqa: A002
    amount: int,
    description: str | None = None,
    quantity: int = 1,
    invoice_line_item: str | None = None,
    unit_amount: int | None = None,
    tax_amount: int = 0,
    tax_rate: str | None = None,
    tax_behavior: str = "exclusive",
    taxability_reason: str = "standard_rated",
    metadata: dict | None = None,
) -> dict:
    """A credit note line. Args: id (``cnli_…``), amount (minor units, excluding exclusive tax), description,
    quantity, invoice_line_item (``il_…``: type invoice_line_item; None: custom_line_item with unit_amount),
    tax_amount with tax_rate (``txr_…``), tax_behavior, taxability_reason, metadata."""
    taxes = _line_taxes(amount, tax_amount, tax_rate, tax_behavior, taxability_reason)
    custom = invoice_line_item is None
    unit = unit_amount if unit_amount is not None else (amount if custom else None)
    line: dict[str, Any] = {
        "amount": amount,
        "description": description,
        "discount_amount": 0,
        "discount_amounts": [],
        "id": id,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "object": "credit_note_line_item",
        "pretax_credit_amounts": [],
        "quantity": quantity,
        "tax_rates": [],
        "taxes": taxes,
        "type": "custom_line_item" if custom else "invoice_line_item",
        "unit_amount": unit if custom else None,
        "unit_amount_decimal": str(unit) if custom and unit is not None else None,
    }
    if not custom:
        line["invoice_line_item"] = invoice_line_item  # Stripe sends this key only on invoice_line_item lines
    return line


def credit_note(
    *,
    id: str,  # noqa: A002
    created: int,
    customer: str,
    invoice: str,
    currency: str,
    lines: Sequence[dict],
    number: str,
    type: str = "post_payment",  # noqa: A002
    reason: str | None = None,
    status: str = "issued",
    memo: str | None = None,
    refund: str | None = None,
    out_of_band_amount: int | None = None,
    voided_at: int | None = None,
    effective_at: int | None = None,
    metadata: dict | None = None,
) -> dict:
    """A credit note with ALL its lines (the server embeds the first 10). Amounts follow from the lines:
    subtotal = Σ line amounts; total = subtotal + exclusive tax. Args: id (``cn_…``), created, customer,
    invoice, currency, lines (from :func:`credit_note_line`), number (``<invoice number>-CN-01``), type
    (pre_payment: reduces an open invoice | post_payment: after payment, refunded or credited), reason
    (duplicate|fraudulent|order_change|product_unsatisfactory), status (issued|void), memo, refund
    (``re_…`` returned with a post-payment note), out_of_band_amount, voided_at, effective_at, metadata."""
    subtotal = sum(line["amount"] for line in lines)
    exclusive = sum(t["amount"] for line in lines for t in line.get("taxes") or [] if t["tax_behavior"] == "exclusive")
    inclusive = sum(t["amount"] for line in lines for t in line.get("taxes") or [] if t["tax_behavior"] == "inclusive")
    total = subtotal + exclusive
    refunds = (
        []
        if refund is None
        else [
            {
                "amount_refunded": total - (out_of_band_amount or 0),
                "payment_record_refund": None,
                "refund": refund,
                "type": "refund",
            }
        ]
    )
    return {
        "amount": total,
        "amount_shipping": 0,
        "created": created,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "customer_balance_transaction": None,
        "discount_amount": 0,
        "discount_amounts": [],
        "effective_at": effective_at if effective_at is not None else created,
        "id": id,
        "invoice": invoice,
        "lines": _list(list(lines), f"/v1/credit_notes/{id}/lines"),
        "livemode": False,
        "memo": memo,
        "metadata": dict(metadata or {}),
        "number": number,
        "object": "credit_note",
        "out_of_band_amount": out_of_band_amount,
        "pdf": f"https://pay.stripe.com/credit_notes/acct_q2csandbox/test_{id}/pdf",
        "post_payment_amount": total if type == "post_payment" else 0,
        "pre_payment_amount": total if type == "pre_payment" else 0,
        "pretax_credit_amounts": [],
        "reason": reason,
        "refunds": refunds,
        "shipping_cost": None,
        "status": status,
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal - inclusive,
        "total": total,
        "total_excluding_tax": subtotal - inclusive,
        "total_taxes": _total_taxes(lines),
        "type": type,
        "voided_at": voided_at,
    }


def balance_transaction(
    *,
    id: str,  # noqa: A002
    created: int,
    amount: int,
    currency: str,
    source: str,
    type: str = "charge",  # noqa: A002
    fee: int = 0,
    description: str | None = None,
    available_on: int | None = None,
    status: str | None = None,
    exchange_rate: str | None = None,
) -> dict:
    """A movement of the account balance. Args: id (``txn_…``), created, amount (negative for refunds),
    currency, source (``ch_…``/``re_…``), type (charge|refund|payment_failure_refund|adjustment …), fee,
    description, available_on (default created + 2 days), status (default available once available_on
    has passed relative to created, else pending), exchange_rate."""
    available = available_on if available_on is not None else created + 2 * 86400
    category = {"charge": "charge", "payment": "charge", "refund": "refund", "payment_refund": "refund"}.get(type, type)
    return {
        "amount": amount,
        "available_on": available,
        "balance_type": "payments",
        "created": created,
        "currency": currency,
        "description": description,
        "exchange_rate": exchange_rate,
        "fee": fee,
        "fee_details": []
        if not fee
        else [
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": "Stripe processing fees",
                "type": "stripe_fee",
            }
        ],
        "id": id,
        "net": amount - fee,
        "object": "balance_transaction",
        "reporting_category": category,
        "source": source,
        "status": status or "available",
        "type": type,
    }


def event(
    *,
    id: str,  # noqa: A002
    created: int,
    type: str,  # noqa: A002
    object: dict,  # noqa: A002
    previous_attributes: dict | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
    api_version: str = API_VERSION,
    pending_webhooks: int = 0,
) -> dict:
    """An event. Args: id (``evt_…``), created, type (``invoice.paid`` …), object (the resource as it was
    after the change, in full), previous_attributes (the changed fields' old values, on ``*.updated``),
    request_id / idempotency_key (the API request that caused it; None for automatic changes),
    api_version, pending_webhooks."""
    data: dict[str, Any] = {"object": object}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "api_version": api_version,
        "created": created,
        "data": data,
        "id": id,
        "livemode": False,
        "object": "event",
        "pending_webhooks": pending_webhooks,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type,
    }
