"""One customer's billing life, simulated in neutral dataclasses (no API shapes here).

A customer signs a deal, gets a subscription (seats, monthly or annual, maybe usage overage), is invoiced
every period, pays by card (sometimes failing and retrying) or by bank transfer, amends seats mid-term
(prorations), gets partial refunds through credit notes, and occasionally gets one-off invoices (some voided,
some left open). The plan's injections shape this life where they need to (e.g. a one-off invoice dated in a
closed period); the emitters then render it in each system's API shapes and apply the ERP/CRM-side drift.

Each customer has its own RNG seeded by (seed, scale, index), so customers can be generated one at a time,
in any order, and always come out the same.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from sandbox.billing.objects import make_id, tax_on
from sandbox.scenario import ground_truth as gt
from sandbox.scenario.company import (
    ADDON_PRODUCT,
    ANNUAL_MONTHS_CHARGED,
    CROSS_CURRENCY,
    DAY,
    GO_LIVE_MONTHS_BEFORE_AS_OF,
    HOUR,
    SEAT_PRODUCTS,
    SERVICE_PRODUCT,
    SUBSIDIARY_BY_CODE,
    SYNC_LAG_SECONDS,
    US_TAX,
    USAGE_PRODUCTS,
    VAT,
    VICTIM_MIN_AGE_SECONDS,
    Period,
    ProductDef,
    Scale,
    TaxRate,
    add_months,
    month_end_last_second,
    month_start,
    ts,
    utc,
)
from sandbox.scenario.plan import Injection, subsidiary_of

ERP_TAMPER_CODES = (
    gt.INVOICE_AMOUNT_MISMATCH,
    gt.INVOICE_TAX_MISMATCH,
    gt.INVOICE_CURRENCY_MISMATCH,
    gt.INVOICE_CUSTOMER_MISMATCH,
    gt.INVOICE_SUBSIDIARY_MISMATCH,
    gt.INVOICE_DUPLICATE_IN_ERP,
)
PAYMENT_TAMPER_CODES = (gt.PAYMENT_DUPLICATE_IN_ERP, gt.PAYMENT_AMOUNT_MISMATCH)

_ADJECTIVES = (
    "Blue",
    "Northern",
    "Bright",
    "Quantum",
    "Silver",
    "Rapid",
    "Granite",
    "Harbor",
    "Summit",
    "Vertex",
    "Cedar",
    "Nimbus",
    "Atlas",
    "Orbit",
    "Polar",
    "Crimson",
    "Golden",
    "Lumen",
    "Prairie",
    "Coastal",
)
_NOUNS = (
    "Analytics",
    "Logistics",
    "Robotics",
    "Health",
    "Foods",
    "Energy",
    "Media",
    "Labs",
    "Systems",
    "Freight",
    "Retail",
    "Capital",
    "Dynamics",
    "Networks",
    "Studios",
    "Pharma",
    "Motors",
    "Textiles",
    "Software",
    "Farms",
)
_SUFFIX = {"US": ("Inc.", "LLC", "Corp."), "UK": ("Ltd", "PLC", "Ltd"), "DE": ("GmbH", "AG", "GmbH")}
_FIRST = ("Ada", "Ben", "Chloe", "Dan", "Eva", "Finn", "Grace", "Hugo", "Iris", "Jonas", "Kara", "Leo", "Mia", "Noah")
_LAST = ("Smith", "Müller", "Jones", "Schmidt", "Brown", "Fischer", "Taylor", "Weber", "Wilson", "Becker")


@dataclass
class Catalog:
    """Billing ids of the catalogue, shared by every customer."""

    products: dict[str, ProductDef]
    product_id: dict[str, str]
    price_id: dict[tuple[str, str, str], str]  # (product key, currency, "month"|"year"|"once") → price id


@dataclass
class Context:
    seed: int
    scale: Scale
    as_of: int
    catalog: Catalog
    periods: list[Period]

    def id(self, prefix: str, *parts: object) -> str:
        return make_id(prefix, self.seed, self.scale.name, *parts)

    @property
    def cutoff(self) -> int:
        """The existing sync has posted everything timestamped at or before this."""
        return self.as_of - SYNC_LAG_SECONDS

    @property
    def go_live(self) -> int:
        return ts(add_months(utc(self.as_of), -GO_LIVE_MONTHS_BEFORE_AS_OF))

    def period_for(self, t: int) -> Period:
        key = utc(t).strftime("%Y-%m")
        for period in self.periods:
            if period.key == key:
                return period
        raise ValueError(f"no accounting period for {key}")


@dataclass
class Line:
    id: str
    product: ProductDef
    amount: int
    tax: int
    quantity: int
    unit_amount: int
    price: str | None
    description: str
    period_start: int
    period_end: int
    subscription: str | None = None
    subscription_item: str | None = None
    invoice_item: str | None = None
    proration: bool = False


@dataclass
class InvoiceItem:
    id: str
    created: int
    line: Line
    invoice: str | None


@dataclass
class Refund:
    id: str
    created: int
    amount: int
    balance_transaction: str


@dataclass
class Charge:
    id: str
    created: int
    amount: int
    status: str  # succeeded | failed
    method: str  # card | bank
    failure_code: str | None = None
    balance_transaction: str | None = None
    fee: int = 0
    refunds: list[Refund] = field(default_factory=list)


@dataclass
class Payment:
    """One payment intent paying one invoice, with every attempt (charge) made."""

    pi_id: str
    inpay_id: str
    created: int
    amount: int
    charges: list[Charge] = field(default_factory=list)

    @property
    def succeeded(self) -> Charge | None:
        return next((c for c in self.charges if c.status == "succeeded"), None)


@dataclass
class CreditNote:
    id: str
    created: int
    number: str
    lines: list[tuple[str, Line, int, int]]  # (cnli id, credited invoice line, amount, tax)
    refund: Refund | None
    charge: Charge | None

    @property
    def total(self) -> int:
        return sum(amount + tax for _, _, amount, tax in self.lines)


@dataclass
class Invoice:
    id: str
    created: int
    currency: str
    lines: list[Line]
    collection_method: str
    billing_reason: str
    period_start: int
    period_end: int
    subscription: Subscription | None = None
    finalized_at: int | None = None
    due_date: int | None = None
    paid_at: int | None = None
    voided_at: int | None = None
    uncollectible_at: int | None = None
    paid_out_of_band: bool = False
    payment: Payment | None = None
    credit_notes: list[CreditNote] = field(default_factory=list)
    number: str | None = None
    manual: bool = False
    injection: str | None = None  # the catalog code whose victim this is (None: clean)

    @property
    def subtotal(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def tax(self) -> int:
        return sum(line.tax for line in self.lines)

    @property
    def total(self) -> int:
        return self.subtotal + self.tax

    def status_at(self, t: int) -> str:
        if self.voided_at is not None and self.voided_at <= t:
            return "void"
        if self.paid_at is not None and self.paid_at <= t:
            return "paid"
        if self.uncollectible_at is not None and self.uncollectible_at <= t:
            return "uncollectible"
        if self.finalized_at is not None and self.finalized_at <= t:
            return "open"
        return "draft"


@dataclass
class SubItem:
    id: str
    product: ProductDef
    price: str
    unit_amount: int
    quantity: int
    created: int


@dataclass
class Amendment:
    at: int
    item: SubItem
    old_quantity: int
    new_quantity: int


@dataclass
class Subscription:
    id: str
    created: int
    anchor: datetime
    interval: str  # month | year
    items: list[SubItem]
    collection_method: str
    deal_key: str | None  # which CRM deal backs it (None: no deal)
    canceled_at: int | None = None
    ended_at: int | None = None
    amendments: list[Amendment] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    current_period: tuple[int, int] = (0, 0)

    @property
    def months(self) -> int:
        return 1 if self.interval == "month" else 12

    def contract_value(self) -> int:
        """Annual value of the licensed items at their current quantities, minor units (what the deal states)."""
        per_year = 12 if self.interval == "month" else 1
        return sum(item.quantity * item.unit_amount * per_year for item in self.items)


@dataclass
class CustomerHistory:
    index: int
    subsidiary: str
    id: str
    name: str
    email: str
    contacts: list[tuple[str, str, str]]  # (first, last, email)
    domain: str
    currency: str
    tax_rate: TaxRate
    address: dict
    created: int
    invoice_prefix: str
    injections: list[Injection]
    subscriptions: list[Subscription] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)  # every invoice, finalized ones in number order
    invoice_items: list[InvoiceItem] = field(default_factory=list)
    deal_closed_at: int = 0
    deal_created_at: int = 0

    def has(self, code: str) -> bool:
        return any(i.code == code for i in self.injections)

    def injection(self, code: str) -> Injection | None:
        return next((i for i in self.injections if i.code == code), None)


# -- the simulation -------------------------------------------------------------------------------------------
class _Sim:
    def __init__(self, ctx: Context, index: int, injections: list[Injection]) -> None:
        self.ctx = ctx
        self.index = index
        self.rng = random.Random(f"{ctx.seed}:{ctx.scale.name}:{index}")
        self.injections = injections
        self.codes = {i.code for i in injections}
        self.quiet = gt.POSTING_REJECTED in self.codes  # nothing may happen near as_of but the victim
        self.counter = 0
        self.history_expected: list[tuple[str, str]] = []

    def nid(self, prefix: str, kind: str) -> str:
        self.counter += 1
        return self.ctx.id(prefix, self.index, kind, self.counter)

    def tax_for(self, amount: int, rate: TaxRate) -> int:
        return tax_on(amount, rate.percentage) if rate.percentage else 0

    # customer ---------------------------------------------------------------------------------------------
    def customer(self) -> CustomerHistory:
        rng, ctx = self.rng, self.ctx
        code = subsidiary_of(self.index)
        sub = SUBSIDIARY_BY_CODE[code]
        currency = CROSS_CURRENCY[code] if rng.random() < 0.12 else sub.currency
        tax_rate = rng.choice(US_TAX) if code == "US" else VAT[code]
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {self.index:05d} {rng.choice(_SUFFIX[code])}"
        domain = f"{name.split()[0].lower()}{name.split()[1].lower()}{self.index}.example"
        contacts = []
        for n in range(rng.randint(1, 3)):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            contacts.append((first, last, f"{first.lower()}.{n}{self.index}@{domain}"))
        lo, hi = ctx.scale.tenure_months
        tenure = rng.randint(lo, hi)
        if self.injections:
            tenure = max(tenure, 8)  # hosts need closed months and some posted history
        as_of_dt = utc(ctx.as_of)
        month0 = add_months(month_start(as_of_dt.year, as_of_dt.month), -tenure)
        shape = rng.random()
        if self.quiet:
            start_dt = month0.replace(day=rng.randint(5, 20), hour=rng.randint(8, 17), minute=rng.randint(0, 59))
        elif shape < 0.10:
            start_dt = month0  # 00:00:00 on the first: invoices on the month boundary
        elif shape < 0.18:
            start_dt = month_end_last_second(month0.year, month0.month)  # 23:59:59 on the last day, every month
        else:
            start_dt = month0.replace(
                day=rng.randint(1, 28), hour=rng.randint(0, 23), minute=rng.randint(0, 59), second=rng.randint(0, 59)
            )
        start = ts(start_dt)
        created = start - rng.randint(HOUR, 2 * DAY)
        cus_id = ctx.id("cus", self.index)
        history = CustomerHistory(
            index=self.index,
            subsidiary=code,
            id=cus_id,
            name=name,
            email=contacts[0][2],
            contacts=contacts,
            domain=domain,
            currency=currency,
            tax_rate=tax_rate,
            address={
                "country": sub.country,
                "state": tax_rate.jurisdiction if code == "US" else None,
                "city": {"US": "Austin", "UK": "Leeds", "DE": "Köln"}[code],
                "line1": f"{self.index} Main Street",
                "postal_code": f"{10000 + self.index % 89999}",
            },
            created=created,
            invoice_prefix=make_id("", ctx.seed, self.index)[2:10].upper(),
            injections=self.injections,
        )
        history.deal_closed_at = created - rng.randint(1, 10) * DAY
        history.deal_created_at = history.deal_closed_at - rng.randint(20, 90) * DAY
        self.history = history
        self.main_subscription(start_dt)
        if gt.SUBSCRIPTION_WITHOUT_DEAL in self.codes:
            self.addon_subscription()
        self.manual_invoices()
        self.victims()
        if not self.quiet:
            self.credit_notes()
        self.number_invoices()
        return history

    # subscriptions ----------------------------------------------------------------------------------------
    def main_subscription(self, start_dt: datetime) -> None:
        rng, ctx = self.rng, self.ctx
        monthly = self.quiet or rng.random() < ctx.scale.monthly_share
        product = rng.choices(SEAT_PRODUCTS, weights=(5, 4, 1))[0]
        quantity = rng.randint(3, 150)
        collection = "charge_automatically" if self.quiet or rng.random() < 0.8 else "send_invoice"
        usage = USAGE_PRODUCTS[rng.randrange(2)] if monthly and rng.random() < 0.4 else None
        cancel = (not self.injections) and rng.random() < 0.08
        amend = monthly and not self.quiet and rng.random() < 0.25
        self.subscription(start_dt, product, quantity, monthly, collection, usage, cancel, amend, deal_key="main")

    def addon_subscription(self) -> None:
        """A self-serve add-on bought in the billing portal, with no deal behind it (SUBSCRIPTION_WITHOUT_DEAL)."""
        ctx, h = self.ctx, self.history
        start = max(h.created + DAY, ctx.as_of - self.rng.randint(60, 200) * DAY)
        sub = self.subscription(
            utc(start),
            ADDON_PRODUCT,
            self.rng.randint(2, 20),
            True,
            "charge_automatically",
            None,
            False,
            False,
            deal_key=None,
        )
        self.expect(gt.SUBSCRIPTION_WITHOUT_DEAL, sub.id)

    def subscription(
        self,
        start_dt: datetime,
        product: ProductDef,
        quantity: int,
        monthly: bool,
        collection: str,
        usage: ProductDef | None,
        cancel: bool,
        amend: bool,
        deal_key: str | None,
    ) -> Subscription:
        rng, ctx, h = self.rng, self.ctx, self.history
        interval = "month" if monthly else "year"
        start = ts(start_dt)
        sub_id = self.nid("sub", "subscription")
        unit = product.unit_amounts[h.currency] * (1 if monthly else ANNUAL_MONTHS_CHARGED)
        item = SubItem(
            self.nid("si", "item"),
            product,
            ctx.catalog.price_id[(product.key, h.currency, interval)],
            unit,
            quantity,
            start,
        )
        sub = Subscription(sub_id, start, start_dt, interval, [item], collection, deal_key)
        h.subscriptions.append(sub)
        periods = []
        k = 0
        while True:
            ps = ts(add_months(start_dt, k * sub.months))
            if ps > ctx.as_of:
                break
            periods.append((ps, ts(add_months(start_dt, (k + 1) * sub.months))))
            k += 1
        if cancel and len(periods) >= 6:
            stop = rng.randint(4, len(periods) - 1)
            periods = periods[:stop]
            sub.canceled_at = periods[-1][0] + rng.randint(1, 20) * DAY
            sub.ended_at = periods[-1][1]
        sub.current_period = periods[-1]
        if amend and len(periods) >= 3:
            which = rng.randint(1, len(periods) - 2)
            ps, pe = periods[which]
            at = ps + rng.randint(HOUR, pe - ps - HOUR)
            if at <= ctx.as_of - VICTIM_MIN_AGE_SECONDS:
                new_quantity = quantity + rng.randint(1, max(2, quantity // 2))
                sub.amendments.append(Amendment(at, item, quantity, new_quantity))
        pending: list[InvoiceItem] = []
        previous: tuple[int, int] | None = None
        for n, (ps, pe) in enumerate(periods):
            inv = Invoice(
                self.nid("in", "invoice"),
                ps,
                h.currency,
                [],
                collection,
                "subscription_create" if n == 0 else "subscription_cycle",
                ps,
                pe,
                subscription=sub,
            )
            qty = quantity
            for amendment in sub.amendments:
                if amendment.at <= ps:
                    qty = amendment.new_quantity
                elif ps < amendment.at < pe:
                    pending.extend(self.prorations(sub, amendment, ps, pe))
            inv.lines.append(
                self.line(inv, product, qty, unit, item.price, ps, pe, subscription=sub_id, subscription_item=item.id)
            )
            for ii in [p for p in pending if p.created <= ps]:
                ii.invoice = inv.id
                inv.lines.append(ii.line)
                pending.remove(ii)
            if usage is not None and previous is not None:
                used = rng.choice((0, rng.randint(5, 400)))
                if used:
                    pending_usage = self.invoice_item(usage, used, ps, previous, sub_id)
                    pending_usage.invoice = inv.id
                    inv.lines.append(pending_usage.line)
            previous = (ps, pe)
            if ctx.as_of - ps >= HOUR:
                inv.finalized_at = ps
                if inv.collection_method == "send_invoice":
                    inv.due_date = ps + 30 * DAY
                self.collect(inv)
            sub.invoices.append(inv)
            h.invoices.append(inv)
        for amendment in sub.amendments:
            item.quantity = amendment.new_quantity
        return sub

    def line(
        self,
        inv: Invoice,
        product: ProductDef,
        quantity: int,
        unit: int,
        price: str | None,
        ps: int,
        pe: int,
        **links: object,
    ) -> Line:
        amount = quantity * unit
        label = f"{quantity} × {product.name}"
        return Line(
            self.nid("il", "line"),
            product,
            amount,
            self.tax_for(amount, self.history.tax_rate),
            quantity,
            unit,
            price,
            label,
            ps,
            pe,
            **links,
        )  # type: ignore[arg-type]

    def invoice_item(
        self,
        product: ProductDef,
        quantity: int,
        created: int,
        period: tuple[int, int],
        subscription: str | None,
        *,
        amount: int | None = None,
        proration: bool = False,
        description: str | None = None,
        price: str | None = None,
        item: SubItem | None = None,
    ) -> InvoiceItem:
        h = self.history
        unit = product.unit_amounts[h.currency]
        amount = quantity * unit if amount is None else amount
        line = Line(
            self.nid("il", "line"),
            product,
            amount,
            self.tax_for(amount, h.tax_rate),
            quantity,
            unit,
            price or self.ctx.catalog.price_id[(product.key, h.currency, "once")],
            description or f"{quantity} × {product.name}",
            period[0],
            period[1],
            subscription=subscription,
            subscription_item=item.id if item else None,
            proration=proration,
        )
        ii = InvoiceItem(self.nid("ii", "invoiceitem"), created, line, None)
        line.invoice_item = ii.id
        h.invoice_items.append(ii)
        return ii

    def prorations(self, sub: Subscription, amendment: Amendment, ps: int, pe: int) -> list[InvoiceItem]:
        """Stripe's two proration items: credit for unused time on the old quantity, charge for the new."""
        item = amendment.item
        remaining = pe - amendment.at
        credit = -((amendment.old_quantity * item.unit_amount * remaining + (pe - ps) // 2) // (pe - ps))
        charge = (amendment.new_quantity * item.unit_amount * remaining + (pe - ps) // 2) // (pe - ps)
        return [
            self.invoice_item(
                item.product,
                amendment.old_quantity,
                amendment.at,
                (amendment.at, pe),
                sub.id,
                amount=credit,
                proration=True,
                price=item.price,
                item=item,
                description=f"Unused time on {amendment.old_quantity} × {item.product.name}",
            ),
            self.invoice_item(
                item.product,
                amendment.new_quantity,
                amendment.at,
                (amendment.at, pe),
                sub.id,
                amount=charge,
                proration=True,
                price=item.price,
                item=item,
                description=f"Remaining time on {amendment.new_quantity} × {item.product.name}",
            ),
        ]

    # collection ------------------------------------------------------------------------------------------
    def charge(self, at: int, amount: int, method: str, ok: bool) -> Charge:
        prefix = "ch" if method == "card" else "py"
        charge = Charge(self.nid(prefix, "charge"), at, amount, "succeeded" if ok else "failed", method)
        if ok:
            charge.balance_transaction = self.nid("txn", "bt")
            charge.fee = (amount * 29 + 500) // 1000 + 30 if method == "card" else min((amount * 8 + 500) // 1000, 500)
        else:
            charge.failure_code = self.rng.choice(("card_declined", "insufficient_funds", "expired_card"))
        return charge

    def pay(self, inv: Invoice, at: int, method: str, attempts_ok: list[bool]) -> None:
        """Attempt payment at ``at`` then every few days; the invoice is paid by the first success."""
        if at > self.ctx.as_of:
            return  # the customer has not paid yet
        payment = Payment(self.nid("pi", "pi"), self.nid("inpay", "inpay"), at, inv.total)
        inv.payment = payment
        t = at
        for n, ok in enumerate(attempts_ok):
            if t > self.ctx.as_of:
                break
            payment.charges.append(self.charge(t, inv.total, method, ok))
            if ok:
                inv.paid_at = t
                return
            t += (3, 2, 2, 2)[min(n, 3)] * DAY
        if inv.paid_at is None and inv.finalized_at is not None:
            marked = inv.finalized_at + 14 * DAY
            if marked <= self.ctx.as_of and len(payment.charges) == len(attempts_ok):
                inv.uncollectible_at = marked

    def collect(self, inv: Invoice) -> None:
        rng, ctx = self.rng, self.ctx
        assert inv.finalized_at is not None
        if inv.collection_method == "charge_automatically":
            if self.quiet or rng.random() >= 0.08:
                outcomes = [True]
            else:
                outcomes = [False] + [rng.random() < 0.7 for _ in range(3)]
                if any(outcomes):  # stop at the first success; four failures end in uncollectible
                    outcomes = outcomes[: outcomes.index(True) + 1]
            self.pay(inv, inv.finalized_at, "card", outcomes)
        else:
            if rng.random() < 0.08:
                return  # left unpaid: stays open, past due
            at = inv.finalized_at + rng.randint(3, 35) * DAY + rng.randint(0, DAY - 1)
            if at <= ctx.as_of:
                self.pay(inv, at, "bank", [True])

    # one-off invoices --------------------------------------------------------------------------------------
    def manual(
        self, at: int, product: ProductDef, fate: str, *, injection: str | None = None, fate_at: int | None = None
    ) -> Invoice:
        """A one-off invoice (services, or a new SKU) finalized at ``at``; ``fate``: card | bank | open | void |
        oob | draft."""
        h = self.history
        inv = Invoice(
            self.nid("in", "invoice"),
            at,
            h.currency,
            [],
            "send_invoice" if fate != "card" else "charge_automatically",
            "manual",
            at,
            at,
            manual=True,
            injection=injection,
        )
        inv.lines.append(
            self.line(
                inv,
                product,
                1,
                product.unit_amounts[h.currency],
                self.ctx.catalog.price_id[(product.key, h.currency, "once")],
                at,
                at,
            )
        )
        if fate == "draft":
            h.invoices.append(inv)
            return inv
        inv.finalized_at = at
        if inv.collection_method == "send_invoice":
            inv.due_date = at + 30 * DAY
        if fate == "card":
            self.pay(inv, at, "card", [True])
        elif fate == "bank":
            self.pay(inv, fate_at or at + 3 * DAY, "bank", [True])
        elif fate == "void":
            inv.voided_at = fate_at
        elif fate == "oob":
            inv.paid_at = fate_at
            inv.paid_out_of_band = True
        h.invoices.append(inv)
        return inv

    def manual_invoices(self) -> None:
        """Baseline one-offs (services): most paid, some voided (quickly: never posted; later: voided in the
        ERP too), some left open, and now and then a draft still being prepared."""
        rng, ctx, h = self.rng, self.ctx, self.history
        if self.quiet or rng.random() >= 0.15:
            return
        at = rng.randint(h.created + DAY, ctx.as_of - HOUR)
        fate = rng.choices(("card", "bank", "void_fast", "void_late", "open", "draft"), weights=(5, 3, 1, 1, 1, 1))[0]
        if fate == "void_fast":
            self.manual(at, SERVICE_PRODUCT, "void", fate_at=min(ctx.as_of, at + rng.randint(HOUR, 12 * HOUR)))
        elif fate == "void_late":
            self.manual(at, SERVICE_PRODUCT, "void", fate_at=min(ctx.as_of, at + rng.randint(2, 9) * DAY))
        elif fate == "bank":
            self.manual(at, SERVICE_PRODUCT, "bank", fate_at=at + rng.randint(2, 20) * DAY)
        elif fate == "draft":
            self.manual(ctx.as_of - rng.randint(HOUR, 20 * HOUR), SERVICE_PRODUCT, "draft")
        else:
            self.manual(at, SERVICE_PRODUCT, fate)

    # injected victims -------------------------------------------------------------------------------------
    def expect(self, code: str, subject: str) -> None:
        self.history_expected.append((code, subject))

    def open_window(self) -> tuple[int, int]:
        """First instant of the earliest month still open for this subsidiary, and the latest victim time."""
        as_of_dt = utc(self.ctx.as_of)
        first = month_start(as_of_dt.year, as_of_dt.month)
        if self.history.subsidiary != "US":
            first = add_months(first, -1)
        return ts(first), self.ctx.as_of - VICTIM_MIN_AGE_SECONDS

    def closed_time(self, k: int) -> int:
        """A moment in a month closed for this subsidiary, after the customer existed."""
        as_of_dt = utc(self.ctx.as_of)
        previous = add_months(month_start(as_of_dt.year, as_of_dt.month), -1)
        if self.history.subsidiary == "US" and k == 0:
            return ts(month_end_last_second(previous.year, previous.month))  # closed for the US only
        closed_until = ts(previous) - 1
        return self.rng.randint(self.history.created + DAY, closed_until - DAY)

    def victims(self) -> None:
        rng, ctx, h = self.rng, self.ctx, self.history
        lo, hi = self.open_window()
        for injection in self.injections:
            code, k = injection.code, injection.k
            if code == gt.INVOICE_MISSING_IN_ERP:
                if k == 0:  # month boundary: 00:00:00 on the 1st (US), 23:59:59 on the last day of an open month
                    as_of_dt = utc(ctx.as_of)
                    this_month = ts(month_start(as_of_dt.year, as_of_dt.month))
                    at = this_month if h.subsidiary == "US" else this_month - 1
                else:
                    at = rng.randint(lo, hi)
                inv = self.manual(at, SERVICE_PRODUCT, "open", injection=code)
                self.expect(code, inv.id)
            elif code == gt.POSTING_PERIOD_CLOSED:
                inv = self.manual(self.closed_time(k), SERVICE_PRODUCT, "card" if k % 2 else "open", injection=code)
                self.expect(code, inv.id)
            elif code == gt.INVOICE_STATUS_MISMATCH:
                at = rng.randint(max(h.created + DAY, ctx.as_of - 150 * DAY), ctx.as_of - 20 * DAY)
                if k % 2 == 0:  # paid out of band in billing, still open in the ERP
                    inv = self.manual(at, SERVICE_PRODUCT, "oob", injection=code, fate_at=at + 7 * DAY)
                else:  # voided in billing after it was posted, still live in the ERP
                    inv = self.manual(at, SERVICE_PRODUCT, "void", injection=code, fate_at=at + 3 * DAY)
                self.expect(code, inv.id)
            elif code == gt.PAYMENT_MISSING_IN_ERP:
                at = rng.randint(lo, hi - 3 * DAY)
                inv = self.manual(at, SERVICE_PRODUCT, "bank", fate_at=at + 2 * DAY)
                charge = inv.payment.succeeded if inv.payment else None
                assert charge is not None
                inv.injection = code
                self.expect(code, charge.id)
            elif code == gt.CREDIT_NOTE_MISSING_IN_ERP:
                at = rng.randint(lo, hi - 5 * DAY)
                inv = self.manual(at, SERVICE_PRODUCT, "card")
                note = self.credit_note(inv, at + 3 * DAY)
                inv.injection = code
                self.expect(code, note.id)
            elif code == gt.PRODUCT_UNMAPPED:
                product = ctx.catalog.products[injection.product_key or ""]
                self.manual(rng.randint(ctx.as_of - 40 * DAY, ctx.as_of - 8 * DAY), product, "card", injection=code)
                self.expect(code, ctx.catalog.product_id[product.key])
            elif code == gt.POSTING_REJECTED:
                inv = self.manual(ctx.as_of - rng.randint(6 * HOUR, 30 * HOUR), SERVICE_PRODUCT, "open", injection=code)
                self.expect(code, inv.id)
            elif code in ERP_TAMPER_CODES:
                inv = self.pick_posted_invoice() or self.manual(self.posted_time(), SERVICE_PRODUCT, "card")
                inv.injection = code
                self.expect(code, inv.id)
            elif code in PAYMENT_TAMPER_CODES:
                inv = self.pick_posted_invoice(paid=True) or self.manual(self.posted_time(), SERVICE_PRODUCT, "card")
                inv.injection = code
                charge = inv.payment.succeeded if inv.payment else None
                assert charge is not None
                self.expect(code, charge.id)

    def posted_time(self) -> int:
        return self.rng.randint(
            max(self.history.created + DAY, self.ctx.go_live + DAY), self.ctx.as_of - VICTIM_MIN_AGE_SECONDS - DAY
        )

    def pick_posted_invoice(self, paid: bool = False) -> Invoice | None:
        """A clean subscription invoice the sync posted long ago (after go-live), to tamper with in the ERP."""
        limit = self.ctx.as_of - VICTIM_MIN_AGE_SECONDS
        candidates = []
        for inv in self.history.invoices:
            if inv.manual or inv.injection or inv.finalized_at is None or inv.credit_notes:
                continue
            if not (self.ctx.go_live <= inv.finalized_at <= limit) or inv.total <= 0:
                continue
            status = inv.status_at(self.ctx.as_of)
            charge = inv.payment.succeeded if inv.payment else None
            if (status == "paid" and charge is not None and charge.created <= limit) or (
                status == "open" and not paid and not (inv.payment and inv.payment.charges)
            ):
                candidates.append(inv)
        return self.rng.choice(candidates) if candidates else None

    # credit notes ------------------------------------------------------------------------------------------
    def credit_note(self, inv: Invoice, at: int) -> CreditNote:
        """A post-payment credit note refunding part of the invoice's first line (refunded to the card)."""
        line = inv.lines[0]
        amount = max(1, line.amount * self.rng.randint(10, 40) // 100)
        tax = self.tax_for(amount, self.history.tax_rate)
        charge = inv.payment.succeeded if inv.payment else None
        note = CreditNote(self.nid("cn", "cn"), at, "", [(self.nid("cnli", "cnli"), line, amount, tax)], None, charge)
        if charge is not None:
            note.refund = Refund(self.nid("re", "refund"), at, amount + tax, self.nid("txn", "bt"))
            charge.refunds.append(note.refund)
        inv.credit_notes.append(note)
        return note

    def credit_notes(self) -> None:
        rng, ctx = self.rng, self.ctx
        for inv in self.history.invoices:
            if inv.injection or inv.status_at(ctx.as_of) != "paid" or inv.paid_out_of_band or rng.random() >= 0.04:
                continue
            assert inv.paid_at is not None
            at = inv.paid_at + rng.randint(2, 40) * DAY
            if at <= ctx.as_of and inv.lines[0].amount > 0:
                self.credit_note(inv, at)

    def number_invoices(self) -> None:
        h = self.history
        h.invoices.sort(key=lambda i: (i.finalized_at is None, i.finalized_at or i.created, i.id))
        n = 0
        for inv in h.invoices:
            if inv.finalized_at is None:
                continue
            n += 1
            inv.number = f"{h.invoice_prefix}-{n:04d}"
            for c, note in enumerate(inv.credit_notes, start=1):
                note.number = f"{inv.number}-CN-{c:02d}"


def simulate_customer(
    ctx: Context, index: int, injections: list[Injection]
) -> tuple[CustomerHistory, list[tuple[str, str]]]:
    """The customer's full billing history and the (exception_type, subject_key) pairs its billing-side
    injections already determine (the emitters add the CRM/ERP-side ones)."""
    sim = _Sim(ctx, index, injections)
    history = sim.customer()
    return history, sim.history_expected
