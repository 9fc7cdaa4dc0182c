"""Render a simulated customer as Stripe objects, only through ``sandbox.billing.objects`` builders.

Objects are rendered as of the scenario's ``as_of``; events (last 30 days only, as Stripe keeps them) carry
the object as it was at the event's time, rendered by the same functions with an earlier instant.
"""

from __future__ import annotations

from collections.abc import Iterator

from sandbox.billing import objects as stripe
from sandbox.scenario.company import (
    ADDON_PRODUCT,
    ANNUAL_MONTHS_CHARGED,
    CURRENCIES,
    DAY,
    HISTORY_MONTHS,
    SEAT_PRODUCTS,
    SERVICE_PRODUCT,
    SUBSIDIARY_BY_CODE,
    USAGE_PRODUCTS,
    ProductDef,
    TaxRate,
    add_months,
    ts,
    utc,
)
from sandbox.scenario.simulate import Catalog, Charge, Context, CreditNote, CustomerHistory, Invoice, Subscription

EVENT_WINDOW_SECONDS = 30 * DAY
Emitted = Iterator[tuple[str, dict]]  # (collection, object)


def tax_rate_id(rate: TaxRate) -> str:
    return stripe.make_id("txr", "q2c-sandbox", rate.key)


def build_catalog(
    seed: int, scale: str, as_of: int, unmapped: list[ProductDef]
) -> tuple[Catalog, list[tuple[str, dict]]]:
    """Products and prices (seat: monthly + annual per currency; add-on: monthly; usage, services, new SKUs:
    one-time per currency) and their Stripe objects."""
    created = ts(add_months(utc(as_of), -(HISTORY_MONTHS + 2)))
    products: dict[str, ProductDef] = {}
    product_id: dict[str, str] = {}
    price_id: dict[tuple[str, str, str], str] = {}
    out: list[tuple[str, dict]] = []
    for n, product in enumerate((*SEAT_PRODUCTS, ADDON_PRODUCT, *USAGE_PRODUCTS, SERVICE_PRODUCT, *unmapped)):
        launched = created if product.kind != "unmapped" else as_of - 60 * DAY + n * 3600
        pid = stripe.make_id("prod", seed, scale, product.key)
        products[product.key] = product
        product_id[product.key] = pid
        prices = []
        for currency in CURRENCIES:
            unit = product.unit_amounts[currency]
            variants = (
                [("month", unit), ("year", unit * ANNUAL_MONTHS_CHARGED)]
                if product.kind == "seat"
                else ([("month", unit)] if product.kind == "addon" else [("once", unit)])
            )
            for interval, amount in variants:
                key = (product.key, currency, interval)
                price_id[key] = stripe.make_id("price", seed, scale, *key)
                prices.append(
                    stripe.price(
                        id=price_id[key],
                        created=launched,
                        product=pid,
                        currency=currency,
                        unit_amount=amount,
                        interval=None if interval == "once" else interval,
                        nickname=f"{product.name} ({currency.upper()}, {interval})",
                        lookup_key=f"{product.key}_{currency}_{interval}",
                    )
                )
        default = price_id[(product.key, "usd", "month" if product.kind in ("seat", "addon") else "once")]
        out.append(
            (
                "products",
                stripe.product(
                    id=pid,
                    created=launched,
                    name=product.name,
                    default_price=default,
                    unit_label=product.unit_label,
                    tax_code="txcd_10103001" if product.kind != "service" else "txcd_20030000",
                    metadata={"sku": product.key},
                ),
            )
        )
        out.extend(("prices", p) for p in prices)
    return Catalog(products, product_id, price_id), out


class BillingRenderer:
    """Stripe objects of one customer; keeps the price objects subscription items embed."""

    def __init__(self, ctx: Context, prices: dict[str, dict]) -> None:
        self.ctx = ctx
        self.prices = prices

    # -- per object -------------------------------------------------------------------------------------------
    def customer(self, h: CustomerHistory, metadata: dict) -> dict:
        invoiced = sum(1 for i in h.invoices if i.number)
        delinquent = any(
            i.status_at(self.ctx.as_of) == "open" and i.due_date and i.due_date < self.ctx.as_of for i in h.invoices
        )
        return stripe.customer(
            id=h.id,
            created=h.created,
            name=h.name,
            email=h.email,
            currency=h.currency,
            address=h.address,
            metadata=metadata,
            invoice_prefix=h.invoice_prefix,
            next_invoice_sequence=invoiced + 1,
            delinquent=delinquent,
            preferred_locales=["de-DE"] if h.subsidiary == "DE" else ["en"],
        )

    def subscription(self, h: CustomerHistory, sub: Subscription, metadata: dict) -> tuple[dict, list[dict]]:
        ps, pe = sub.current_period
        items = [
            stripe.subscription_item(
                id=item.id,
                created=item.created,
                subscription=sub.id,
                price=self.prices[item.price],
                quantity=item.quantity,
                current_period_start=ps,
                current_period_end=pe,
            )
            for item in sub.items
        ]
        latest = sub.invoices[-1] if sub.invoices else None
        status = "active"
        if sub.ended_at is not None and sub.ended_at <= self.ctx.as_of:
            status = "canceled"
        elif latest and latest.status_at(self.ctx.as_of) == "open" and latest.payment and latest.payment.charges:
            status = "past_due"
        obj = stripe.subscription(
            id=sub.id,
            created=sub.created,
            customer=h.id,
            currency=h.currency,
            items=items,
            status=status,
            start_date=sub.created,
            billing_cycle_anchor=sub.created,
            cancel_at=sub.ended_at if sub.canceled_at else None,
            canceled_at=sub.canceled_at,
            ended_at=sub.ended_at if status == "canceled" else None,
            cancellation_reason="cancellation_requested" if sub.canceled_at else None,
            latest_invoice=latest.id if latest else None,
            collection_method=sub.collection_method,
            days_until_due=30 if sub.collection_method == "send_invoice" else None,
            metadata=metadata,
        )
        return obj, items

    def invoice(self, h: CustomerHistory, inv: Invoice, at: int, sub_metadata: dict | None) -> dict:
        """The invoice as it stood at ``at`` (as_of for the fixture, earlier for event snapshots)."""
        status = inv.status_at(at)

        def seen(t: int | None) -> int | None:
            return t if t is not None and t <= at else None

        rate = tax_rate_id(h.tax_rate) if h.tax_rate.percentage else None
        lines = [
            stripe.invoice_line(
                id=line.id,
                invoice=inv.id,
                amount=line.amount,
                currency=inv.currency,
                period_start=line.period_start,
                period_end=line.period_end,
                description=line.description,
                quantity=line.quantity,
                price=line.price,
                product=self.ctx.catalog.product_id[line.product.key],
                unit_amount=line.unit_amount,
                subscription=line.subscription,
                subscription_item=line.subscription_item,
                invoice_item=line.invoice_item,
                proration=line.proration,
                tax_amount=line.tax,
                tax_rate=rate,
            )
            for line in inv.lines
        ]
        attempts = sum(1 for c in (inv.payment.charges if inv.payment else []) if c.created <= at)
        credited = sum(n.total for n in inv.credit_notes if n.created <= at)
        sub = SUBSIDIARY_BY_CODE[h.subsidiary]
        return stripe.invoice(
            id=inv.id,
            created=inv.created,
            customer=h.id,
            currency=inv.currency,
            lines=lines,
            status=status,
            number=inv.number if status != "draft" else None,
            billing_reason=inv.billing_reason,
            subscription=inv.subscription.id if inv.subscription else None,
            subscription_metadata=sub_metadata,
            period_start=inv.period_start,
            period_end=inv.period_end,
            due_date=inv.due_date,
            collection_method=inv.collection_method,
            finalized_at=seen(inv.finalized_at),
            paid_at=seen(inv.paid_at),
            voided_at=seen(inv.voided_at),
            marked_uncollectible_at=seen(inv.uncollectible_at),
            attempt_count=attempts,
            post_payment_credit_notes_amount=credited,
            customer_name=h.name,
            customer_email=h.email,
            customer_address=h.address,
            account_country=sub.country,
            account_name=sub.name,
            description="One-off services" if inv.manual else None,
        )

    def charge(self, h: CustomerHistory, inv: Invoice, charge: Charge, at: int) -> dict:
        refunds = [self.refund(h, inv, charge, r.id) for r in charge.refunds if r.created <= at]
        return stripe.charge(
            id=charge.id,
            created=charge.created,
            amount=charge.amount,
            currency=inv.currency,
            customer=h.id,
            payment_intent=inv.payment.pi_id if inv.payment else None,
            status=charge.status,
            failure_code=charge.failure_code,
            failure_message=None if charge.failure_code is None else "Your card was declined.",
            balance_transaction=charge.balance_transaction,
            refunds=refunds,
            payment_method=_payment_method(charge, inv.currency),
            description=f"Payment for Invoice {inv.number}",
            billing_name=h.name,
        )

    def refund(self, h: CustomerHistory, inv: Invoice, charge: Charge, refund_id: str) -> dict:
        refund = next(r for r in charge.refunds if r.id == refund_id)
        return stripe.refund(
            id=refund.id,
            created=refund.created,
            charge=charge.id,
            amount=refund.amount,
            currency=inv.currency,
            payment_intent=inv.payment.pi_id if inv.payment else None,
            customer=h.id,
            reason="requested_by_customer",
            balance_transaction=refund.balance_transaction,
            payment_method=_payment_method(charge, inv.currency),
        )

    def payment_intent(self, h: CustomerHistory, inv: Invoice, at: int) -> dict:
        assert inv.payment is not None
        charges = [c for c in inv.payment.charges if c.created <= at]
        last = charges[-1] if charges else None
        succeeded = last is not None and last.status == "succeeded"
        error = None
        if last is not None and not succeeded:
            error = {
                "type": "card_error",
                "code": last.failure_code,
                "decline_code": last.failure_code,
                "message": "Your card was declined.",
            }
        return stripe.payment_intent(
            id=inv.payment.pi_id,
            created=inv.payment.created,
            amount=inv.payment.amount,
            currency=inv.currency,
            customer=h.id,
            status="succeeded" if succeeded else "requires_payment_method",
            latest_charge=last.id if last else None,
            payment_method=_payment_method(last, inv.currency) if last else None,
            description=f"Payment for Invoice {inv.number}",
            last_payment_error=error,
        )

    def credit_note(self, h: CustomerHistory, inv: Invoice, note: CreditNote) -> dict:
        rate = tax_rate_id(h.tax_rate) if h.tax_rate.percentage else None
        lines = [
            stripe.credit_note_line(
                id=cnli,
                amount=amount,
                description=f"Partial credit: {line.description}",
                invoice_line_item=line.id,
                tax_amount=tax,
                tax_rate=rate,
            )
            for cnli, line, amount, tax in note.lines
        ]
        return stripe.credit_note(
            id=note.id,
            created=note.created,
            customer=h.id,
            invoice=inv.id,
            currency=inv.currency,
            lines=lines,
            number=note.number,
            type="post_payment",
            reason="product_unsatisfactory",
            refund=note.refund.id if note.refund else None,
        )

    # -- the whole customer -----------------------------------------------------------------------------------
    def render(self, h: CustomerHistory, customer_metadata: dict, deal_ids: dict[str, str]) -> Emitted:
        as_of = self.ctx.as_of
        window = as_of - EVENT_WINDOW_SECONDS
        events: list[tuple[int, str, str, dict]] = []

        def event(t: int, kind: str, subject: str, obj_at: dict) -> None:
            if window <= t <= as_of:
                events.append((t, kind, subject, obj_at))

        customer = self.customer(h, customer_metadata)
        yield "customers", customer
        event(h.created, "customer.created", h.id, customer)
        sub_meta: dict[str, dict] = {}
        for sub in h.subscriptions:
            meta = {"hubspot_deal_id": deal_ids[sub.deal_key]} if sub.deal_key in deal_ids else {}
            sub_meta[sub.id] = meta
            obj, items = self.subscription(h, sub, meta)
            yield "subscriptions", obj
            for item in items:
                yield "subscription_items", item
            event(sub.created, "customer.subscription.created", sub.id, obj)
        for ii in h.invoice_items:
            line = ii.line
            obj = stripe.invoiceitem(
                id=ii.id,
                customer=h.id,
                currency=h.currency,
                amount=line.amount,
                date=ii.created,
                period_start=line.period_start,
                period_end=line.period_end,
                description=line.description,
                invoice=ii.invoice,
                quantity=line.quantity,
                unit_amount=line.unit_amount,
                price=line.price,
                product=self.ctx.catalog.product_id[line.product.key],
                subscription=line.subscription,
                proration=line.proration,
            )
            yield "invoiceitems", obj
            event(ii.created, "invoiceitem.created", ii.id, obj)
        for inv in h.invoices:
            meta = sub_meta.get(inv.subscription.id) if inv.subscription else None
            yield "invoices", self.invoice(h, inv, as_of, meta)
            for t, kind in (
                (inv.created, "invoice.created"),
                (inv.finalized_at, "invoice.finalized"),
                (inv.paid_at, "invoice.paid"),
                (inv.voided_at, "invoice.voided"),
                (inv.uncollectible_at, "invoice.marked_uncollectible"),
            ):
                if t is not None and window <= t <= as_of:
                    event(t, kind, inv.id, self.invoice(h, inv, t, meta))
            if inv.payment is None:
                continue
            payment = inv.payment
            yield "payment_intents", self.payment_intent(h, inv, as_of)
            yield (
                "invoice_payments",
                stripe.invoice_payment(
                    id=payment.inpay_id,
                    created=payment.created,
                    invoice=inv.id,
                    payment_intent=payment.pi_id,
                    currency=inv.currency,
                    amount_requested=payment.amount,
                    status="paid" if payment.succeeded else "open",
                    paid_at=payment.succeeded.created if payment.succeeded else None,
                ),
            )
            for charge in payment.charges:
                yield "charges", self.charge(h, inv, charge, as_of)
                kind = "charge.succeeded" if charge.status == "succeeded" else "charge.failed"
                if window <= charge.created <= as_of:
                    event(charge.created, kind, charge.id, self.charge(h, inv, charge, charge.created))
                    pi_kind = (
                        "payment_intent.succeeded" if charge.status == "succeeded" else "payment_intent.payment_failed"
                    )
                    event(charge.created, pi_kind, payment.pi_id, self.payment_intent(h, inv, charge.created))
                if charge.balance_transaction:
                    yield (
                        "balance_transactions",
                        stripe.balance_transaction(
                            id=charge.balance_transaction,
                            created=charge.created,
                            amount=charge.amount,
                            currency=inv.currency,
                            source=charge.id,
                            type="charge" if charge.method == "card" else "payment",
                            fee=charge.fee,
                            description=f"Payment for Invoice {inv.number}",
                        ),
                    )
                for refund in charge.refunds:
                    yield "refunds", self.refund(h, inv, charge, refund.id)
                    yield (
                        "balance_transactions",
                        stripe.balance_transaction(
                            id=refund.balance_transaction,
                            created=refund.created,
                            amount=-refund.amount,
                            currency=inv.currency,
                            source=refund.id,
                            type="refund",
                            description="REFUND FOR CHARGE",
                        ),
                    )
                    if window <= refund.created <= as_of:
                        event(refund.created, "charge.refunded", charge.id, self.charge(h, inv, charge, refund.created))
            for note in inv.credit_notes:
                obj = self.credit_note(h, inv, note)
                yield "credit_notes", obj
                event(note.created, "credit_note.created", note.id, obj)
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        for t, kind, subject, obj in events:
            yield (
                "events",
                stripe.event(
                    id=self.ctx.id("evt", subject, kind, t),
                    created=t,
                    type=kind,
                    object=obj,
                ),
            )


def _payment_method(charge: Charge | None, currency: str) -> str | None:
    if charge is None:
        return None
    if charge.method == "card":
        return "pm_card_visa"
    return "pm_sepa_debit" if currency == "eur" else ("pm_bacs_debit" if currency == "gbp" else "pm_us_bank_account")
