"""A small, hand-made billing fixture folder built with the sandbox's own builders.

Enough objects that every list spans several pages at the default limit (10), an invoice with 13 lines, paid,
open, draft, void and uncollectible invoices, a declined charge, a partial refund, a credit note, usage and
proration invoice items, and events both inside and outside the 30-day window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sandbox.billing import objects as o
from sandbox.fixtures import COLLECTIONS, write_collection, write_json

AS_OF = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86400
MONTH = 30 * DAY


@dataclass
class BillingFixture:
    root: Path
    collections: dict[str, list[dict]] = field(default_factory=dict)
    big_invoice: str = ""
    open_invoice: str = ""
    draft_invoice: str = ""
    paid_invoice: str = ""
    paid_charge: str = ""
    amend_subscription: str = ""
    seat_price_usd_2: str = ""

    def count(self, name: str) -> int:
        return len(self.collections.get(name, []))


def _id(prefix: str, *parts: object) -> str:
    return o.make_id(prefix, "fixture", *parts)


def build_fixture(root: Path) -> BillingFixture:
    fx = BillingFixture(root)
    # subscription items are served from the subscriptions' embedded lists, so no file of their own
    c: dict[str, list[dict]] = {name: [] for name in COLLECTIONS["billing"] if name != "subscription_items"}
    start = AS_OF - 200 * DAY

    seats = o.product(id=_id("prod", "seats"), created=start, name="Seats", unit_label="seat", tax_code="txcd_10103001")
    usage = o.product(id=_id("prod", "usage"), created=start + 1, name="API calls")
    support = o.product(id=_id("prod", "support"), created=start + 2, name="Support", active=False)
    c["products"] += [seats, usage, support]
    p_usd = o.price(id=_id("price", "usd"), created=start, product=seats["id"], currency="usd", unit_amount=3000)
    p_usd2 = o.price(id=_id("price", "usd2"), created=start + 1, product=seats["id"], currency="usd", unit_amount=4500)
    p_eur = o.price(id=_id("price", "eur"), created=start + 2, product=seats["id"], currency="eur", unit_amount=2800)
    p_jpy = o.price(id=_id("price", "jpy"), created=start + 3, product=seats["id"], currency="jpy", unit_amount=4000)
    p_use = o.price(
        id=_id("price", "use"),
        created=start + 4,
        product=usage["id"],
        currency="usd",
        unit_amount=2,
        usage_type="metered",
    )
    c["prices"] += [p_usd, p_usd2, p_eur, p_jpy, p_use]
    fx.seat_price_usd_2 = p_usd2["id"]
    prices = [p_usd, p_eur, p_jpy]

    txr = "txr_1Q2cSandboxVat19"
    for n in range(25):
        created = start + n * 5 * DAY
        price = prices[n % 3]
        cur = price["currency"]
        cus = o.customer(
            id=_id("cus", n),
            created=created,
            name=f"Customer {n}",
            email=f"billing{n}@example.com",
            currency=cur,
            address={"country": ["US", "DE", "JP"][n % 3]},
        )
        c["customers"].append(cus)
        sub_id = _id("sub", n)
        period_start = AS_OF - 10 * DAY
        item = o.subscription_item(
            id=_id("si", n),
            created=created,
            subscription=sub_id,
            price=price,
            quantity=1 + n % 4,
            current_period_start=period_start,
            current_period_end=period_start + MONTH,
        )
        canceled = n == 24
        sub = o.subscription(
            id=sub_id,
            created=created,
            customer=cus["id"],
            currency=cur,
            items=[item],
            status="canceled" if canceled else "active",
            canceled_at=AS_OF - DAY if canceled else None,
            ended_at=AS_OF - DAY if canceled else None,
            latest_invoice=_id("in", n),
        )
        c["subscriptions"].append(sub)
        if n == 0:
            fx.amend_subscription = sub_id

        # one invoice per customer; statuses cycle, invoice 3 carries 13 lines
        inv_id = _id("in", n)
        inv_created = AS_OF - (25 - n) * DAY
        status = ["paid", "open", "draft", "paid", "void", "uncollectible", "paid"][n % 7]
        line_count = 13 if n == 3 else 1 + n % 2
        lines = []
        for k in range(line_count):
            amount = price["unit_amount"] * item["quantity"]
            tax = o.tax_on(amount, 19) if cur == "eur" else 0
            lines.append(
                o.invoice_line(
                    id=_id("il", n, k),
                    invoice=inv_id,
                    amount=amount,
                    currency=cur,
                    period_start=period_start,
                    period_end=period_start + MONTH,
                    description=f"{item['quantity']} × Seats (line {k})",
                    quantity=item["quantity"],
                    price=price["id"],
                    product=seats["id"],
                    unit_amount=price["unit_amount"],
                    subscription=sub_id,
                    subscription_item=item["id"],
                    tax_amount=tax,
                    tax_rate=txr if tax else None,
                )
            )
        finalized = None if status == "draft" else inv_created + 3600
        inv = o.invoice(
            id=inv_id,
            created=inv_created,
            customer=cus["id"],
            currency=cur,
            lines=lines,
            status=status,
            number=None if status == "draft" else f"{cus['invoice_prefix']}-0001",
            billing_reason="subscription_cycle",
            subscription=sub_id,
            period_start=period_start,
            period_end=period_start + MONTH,
            finalized_at=finalized,
            paid_at=inv_created + 7200 if status == "paid" else None,
            voided_at=inv_created + 7200 if status == "void" else None,
            marked_uncollectible_at=inv_created + 7200 if status == "uncollectible" else None,
            customer_name=cus["name"],
            customer_email=cus["email"],
        )
        c["invoices"].append(inv)
        if n == 3:
            fx.big_invoice = inv_id
        if n == 1:
            fx.open_invoice = inv_id
        if n == 2:
            fx.draft_invoice = inv_id
        if status == "paid":
            pi_id, ch_id, txn_id = _id("pi", n), _id("ch", n), _id("txn", n)
            paid_at = inv_created + 7200
            amount = inv["amount_paid"]
            c["payment_intents"].append(
                o.payment_intent(
                    id=pi_id, created=paid_at, amount=amount, currency=cur, customer=cus["id"], latest_charge=ch_id
                )
            )
            refunds = []
            if n == 6:  # a partial refund
                re_id = _id("re", n)
                refunds.append(
                    o.refund(
                        id=re_id,
                        created=paid_at + DAY,
                        charge=ch_id,
                        amount=amount // 4,
                        currency=cur,
                        payment_intent=pi_id,
                        customer=cus["id"],
                        balance_transaction=_id("txn", "re", n),
                    )
                )
                c["refunds"] += refunds
                c["balance_transactions"].append(
                    o.balance_transaction(
                        id=_id("txn", "re", n),
                        created=paid_at + DAY,
                        amount=-(amount // 4),
                        currency=cur,
                        source=re_id,
                        type="refund",
                    )
                )
            c["charges"].append(
                o.charge(
                    id=ch_id,
                    created=paid_at,
                    amount=amount,
                    currency=cur,
                    customer=cus["id"],
                    payment_intent=pi_id,
                    balance_transaction=txn_id,
                    refunds=refunds,
                )
            )
            c["balance_transactions"].append(
                o.balance_transaction(id=txn_id, created=paid_at, amount=amount, currency=cur, source=ch_id, fee=30)
            )
            c["invoice_payments"].append(
                o.invoice_payment(
                    id=_id("inpay", n),
                    created=paid_at,
                    invoice=inv_id,
                    payment_intent=pi_id,
                    currency=cur,
                    amount_requested=amount,
                    paid_at=paid_at,
                )
            )
            if n == 0:
                fx.paid_invoice, fx.paid_charge = inv_id, ch_id
        if status == "uncollectible":  # a declined attempt before it was written off
            c["charges"].append(
                o.charge(
                    id=_id("ch", "failed", n),
                    created=inv_created + 3700,
                    amount=inv["amount_due"],
                    currency=cur,
                    customer=cus["id"],
                    payment_intent=_id("pi", "failed", n),
                    status="failed",
                    failure_code="card_declined",
                    failure_message="Your card was declined.",
                )
            )
        if n % 5 == 0:  # usage overage, invoiced later
            c["invoiceitems"].append(
                o.invoiceitem(
                    id=_id("ii", n),
                    customer=cus["id"],
                    currency="usd",
                    amount=1234,
                    date=created + DAY,
                    period_start=period_start,
                    period_end=period_start + MONTH,
                    description="API overage",
                    quantity=617,
                    unit_amount=2,
                    price=p_use["id"],
                    product=usage["id"],
                    subscription=sub_id,
                )
            )

    paid_inv = next(i for i in c["invoices"] if i["id"] == fx.paid_invoice)
    first_line = paid_inv["lines"]["data"][0]
    c["credit_notes"].append(
        o.credit_note(
            id=_id("cn", 0),
            created=AS_OF - 2 * DAY,
            customer=paid_inv["customer"],
            invoice=paid_inv["id"],
            currency=paid_inv["currency"],
            number=f"{paid_inv['number']}-CN-01",
            reason="order_change",
            lines=[
                o.credit_note_line(
                    id=_id("cnli", 0),
                    amount=500,
                    invoice_line_item=first_line["id"],
                    description=first_line["description"],
                )
            ],
            out_of_band_amount=500,
        )
    )

    # events: 15 inside the window, 10 older than 30 days (excluded from lists)
    for n, cus in enumerate(c["customers"]):
        created = AS_OF - (50 - n * 2) * DAY + 5  # n 0..9 older than 30 days
        c["events"].append(o.event(id=_id("evt", n), created=created, type="customer.created", object=cus))
    write_fixture(root, c)
    fx.collections = c
    return fx


def write_fixture(root: Path, collections: dict[str, list[dict]]) -> None:
    for name, objs in collections.items():
        write_collection(root, "billing", name, objs)
    write_json(
        root / "manifest.json",
        {"as_of": "2026-01-01T00:00:00Z", "seed": 0, "scale": "test", "generator_version": "hand"},
    )
