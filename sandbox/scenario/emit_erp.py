"""Render the ERP (NetSuite) side only through ``sandbox.erp.objects`` builders: reference records, and per
customer what the existing sync already posted, with the ERP-side drift the plan injects.

What the sync posted (the clean baseline): every billing posting whose timestamp is at least
:data:`SYNC_LAG_SECONDS` old at as_of, i.e. finalized invoices (except those voided within a day of
finalization), succeeded charges and issued credit notes; voids older than the lag are voided in the ERP too;
an invoice's ``amountPaid`` is the sum of its posted payments. Postings dated before go-live were keyed by
people: no externalId, only the billing id in ``custbody_q2c_billing_id``. Quarantined postings (customer
without ERP record, unmapped product) and injected MISSING / PERIOD_CLOSED / REJECTED victims were never posted,
and neither were their payments and credit notes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal

from sandbox.erp import objects as netsuite
from sandbox.scenario import ground_truth as gt
from sandbox.scenario.company import (
    ACCOUNT,
    ACCOUNTS,
    BANK_ACCOUNT,
    CURRENCIES,
    CURRENCY_ERP_ID,
    DAY,
    DEPARTMENT_FOR_KIND,
    DEPARTMENTS,
    HOUR,
    INCOME_ACCOUNT,
    SUBSIDIARIES,
    SUBSIDIARY_BY_CODE,
    USD_PER_UNIT,
    Period,
    date_str,
    exchange_rate,
    month_key,
    to_major,
)
from sandbox.scenario.simulate import Catalog, Charge, Context, CustomerHistory, Invoice, Line

HOUSE_CUSTOMER_BASE = 100
CUSTOMER_BASE = 1_000
TRANSACTION_BASE = 10_000_000
GLOBAL_TRANSACTION_BASE = 1_000
BLOCKING_INJECTIONS = (gt.INVOICE_MISSING_IN_ERP, gt.POSTING_PERIOD_CLOSED, gt.PRODUCT_UNMAPPED, gt.POSTING_REJECTED)
CURRENCY_SYMBOL = {"usd": "$", "gbp": "£", "eur": "€"}


def sub_ref(code: str) -> tuple[int, str]:
    sub = SUBSIDIARY_BY_CODE[code]
    return sub.erp_id, sub.name


def cur_ref(currency: str) -> tuple[int, str]:
    return CURRENCY_ERP_ID[currency], currency.upper()


def acct_ref(number: str) -> tuple[int, str]:
    account = ACCOUNT[number]
    return account.erp_id, f"{account.number} {account.name}"


def erp_customer_id(index: int) -> str:
    return str(CUSTOMER_BASE + 2 * index)


def money(minor: int, currency: str) -> Decimal:
    return to_major(minor, currency)


class ErpRenderer:
    def __init__(self, ctx: Context, catalog: Catalog) -> None:
        self.ctx = ctx
        self.catalog = catalog
        mapped = sorted(k for k, p in catalog.products.items() if p.erp_item)
        self.item_ids = {key: n + 1 for n, key in enumerate(mapped)}
        self.period_by_key = {p.key: p for p in ctx.periods}

    # -- reference records ------------------------------------------------------------------------------------
    def reference(self) -> Iterator[tuple[str, dict]]:
        created = self.ctx.periods[0].start + "T00:00:00Z"
        everywhere = [sub_ref(s.code) for s in SUBSIDIARIES]
        for currency in CURRENCIES:
            yield (
                "currency",
                netsuite.currency(
                    id=CURRENCY_ERP_ID[currency],
                    symbol=currency.upper(),
                    name={"usd": "US Dollar", "gbp": "British Pound", "eur": "Euro"}[currency],
                    exchange_rate=USD_PER_UNIT[currency],
                    is_base_currency=currency == "usd",
                    display_symbol=CURRENCY_SYMBOL[currency],
                ),
            )
        for sub in SUBSIDIARIES:
            yield (
                "subsidiary",
                netsuite.subsidiary(
                    id=sub.erp_id,
                    name=sub.name,
                    currency=cur_ref(sub.currency),
                    country=sub.country,
                    parent=None if sub.code == "US" else sub_ref("US"),
                    last_modified=created,
                ),
            )
        for account in ACCOUNTS:
            yield (
                "account",
                netsuite.account(
                    id=account.erp_id,
                    acct_number=account.number,
                    acct_name=account.name,
                    acct_type=account.acct_type,
                    subsidiaries=everywhere,
                    currency=cur_ref(account.currency) if account.currency else None,
                    last_modified=created,
                ),
            )
        for dept_id, name in DEPARTMENTS:
            yield (
                "department",
                netsuite.department(id=dept_id, name=name, subsidiaries=everywhere, last_modified=created),
            )
        for key, item_id in self.item_ids.items():
            product = self.catalog.products[key]
            yield (
                "item",
                netsuite.item(
                    id=item_id,
                    item_id=key.upper(),
                    display_name=product.name,
                    income_account=acct_ref(INCOME_ACCOUNT[product.kind]),
                    deferred_revenue_account=acct_ref("2400") if product.kind in ("seat", "addon") else None,
                    external_id=self.catalog.product_id[key],
                    subsidiaries=everywhere,
                    created=created,
                ),
            )
        for period in self.ctx.periods:
            closed = [sub_ref(c) for c in period.closed_for]
            yield (
                "accountingPeriod",
                netsuite.accounting_period(
                    id=period.erp_id,
                    period_name=period.name,
                    start_date=period.start,
                    end_date=period.end,
                    closed_subsidiaries=closed,
                    open_subsidiaries=[sub_ref(s.code) for s in SUBSIDIARIES if s.code not in period.closed_for],
                    last_modified=created,
                ),
            )

    def house(self) -> Iterator[tuple[str, dict]]:
        """Per subsidiary, a customer people invoice directly in the ERP (consulting), with no billing origin:
        its invoices carry no billing key and must be ignored by the reconciliation."""
        rng = random.Random(f"{self.ctx.seed}:{self.ctx.scale.name}:house")
        n = GLOBAL_TRANSACTION_BASE
        for sub in SUBSIDIARIES:
            customer = (HOUSE_CUSTOMER_BASE + sub.erp_id, f"Direct consulting clients ({sub.code})")
            yield (
                "customer",
                netsuite.customer(
                    id=customer[0],
                    entity_id=f"HOUSE-{sub.code}",
                    company_name=customer[1],
                    subsidiary=sub_ref(sub.code),
                    currency=cur_ref(sub.currency),
                    created=self.ctx.periods[0].start + "T00:00:00Z",
                ),
            )
            for _ in range(2):
                n += 1
                at = self.ctx.as_of - rng.randint(10, 300) * DAY
                amount = Decimal(rng.randint(20, 90) * 100)
                yield (
                    "invoice",
                    netsuite.invoice(
                        id=n,
                        entity=customer,
                        subsidiary=sub_ref(sub.code),
                        currency=cur_ref(sub.currency),
                        tran_date=date_str(at),
                        tran_id=f"INV{n}",
                        posting_period=self.period(at),
                        lines=[
                            netsuite.item_line(
                                item=self.item("onboarding"),
                                amount=amount,
                                description="Consulting days",
                                department=(4, "Professional Services"),
                            )
                        ],
                        memo="Consulting engagement invoiced directly",
                        account=acct_ref("1100"),
                        created=at,
                    ),
                )

    def journals(self, fees: dict[tuple[str, str, str], int], first_id: int) -> Iterator[tuple[str, dict]]:
        """Monthly Stripe-fee journals per subsidiary and currency, for months before as_of's month."""
        current = month_key(self.ctx.as_of)
        n = first_id
        for (code, currency, key), fee in sorted(fees.items()):
            if key >= current or fee == 0:
                continue
            n += 1
            period = self.period_by_key[key]
            amount = money(fee, currency)
            base = SUBSIDIARY_BY_CODE[code].currency
            yield (
                "journalEntry",
                netsuite.journal_entry(
                    id=n,
                    subsidiary=sub_ref(code),
                    currency=cur_ref(currency),
                    exchange_rate=exchange_rate(currency, base),
                    tran_date=period.end,
                    tran_id=f"JE{n}",
                    external_id=f"bill-fees-{code.lower()}-{currency}-{key}",
                    posting_period=(period.erp_id, period.name),
                    memo=f"Stripe processing fees {key} ({currency.upper()})",
                    lines=[
                        netsuite.journal_line(account=acct_ref("6100"), debit=amount, memo="Stripe fees"),
                        netsuite.journal_line(
                            account=acct_ref(BANK_ACCOUNT[currency].number), credit=amount, memo="Deducted from payouts"
                        ),
                    ],
                    created=period.end + "T23:00:00Z",
                ),
            )

    # -- helpers ----------------------------------------------------------------------------------------------
    def period(self, t: int) -> tuple[int, str]:
        period: Period = self.period_by_key[month_key(t)]
        return period.erp_id, period.name

    def item(self, key: str) -> tuple[int, str]:
        return self.item_ids[key], key.upper()

    def lines(self, h: CustomerHistory, lines: list[Line], tamper: str | None, rng: random.Random) -> list[dict]:
        out = []
        for n, line in enumerate(lines):
            amount = money(line.amount, h.currency)
            tax = money(line.tax, h.currency)
            if n == 0 and tamper in (gt.INVOICE_AMOUNT_MISMATCH, gt.INVOICE_TAX_MISMATCH):
                delta = money(max(100, line.amount * rng.randint(5, 20) // 100), h.currency)
                amount -= delta  # under-posted: keeps the ERP invoice fully paid, so only the amount differs
                if tamper == gt.INVOICE_TAX_MISMATCH:
                    tax += delta  # net amount moved into tax: the total still matches
            rate = (
                money(line.unit_amount, h.currency)
                if not line.proration
                else ((amount / line.quantity).quantize(Decimal("0.01")) if line.quantity else amount)
            )
            out.append(
                netsuite.item_line(
                    item=self.item(line.product.key),
                    amount=amount,
                    quantity=line.quantity,
                    rate=rate,
                    description=line.description,
                    department=(
                        DEPARTMENT_FOR_KIND[line.product.kind],
                        dict(DEPARTMENTS)[DEPARTMENT_FOR_KIND[line.product.kind]],
                    ),
                    tax_rate=h.tax_rate.percentage if h.tax_rate.percentage else None,
                    tax_amount=tax,
                    custom_fields={"custcol_q2c_billing_line_id": line.id},
                )
            )
        return out

    # -- one customer -----------------------------------------------------------------------------------------
    def render(
        self,
        h: CustomerHistory,
        crm_company_id: str,
        missing_customer: bool,
        expect: list[tuple[str, str]],
    ) -> Iterator[tuple[str, dict]]:
        ctx = self.ctx
        rng = random.Random(f"{ctx.seed}:{ctx.scale.name}:{h.index}:erp")
        counter = iter(range(TRANSACTION_BASE + h.index * 1000, TRANSACTION_BASE + (h.index + 1) * 1000))
        base = SUBSIDIARY_BY_CODE[h.subsidiary].currency
        if missing_customer:
            expect.append((gt.CUSTOMER_UNMATCHED, h.id))
            return
        customer = (erp_customer_id(h.index), h.name)
        yield (
            "customer",
            netsuite.customer(
                id=customer[0],
                entity_id=f"CUS-{h.index:06d}",
                company_name=h.name,
                subsidiary=sub_ref(h.subsidiary),
                currency=cur_ref(h.currency),
                email=h.email,
                external_id=f"bill-{h.id}",
                is_inactive=h.has(gt.POSTING_REJECTED),  # deactivated by someone in the ERP: pushes will be refused
                custom_fields={"custentity_q2c_crm_company_id": crm_company_id},
                created=h.created + HOUR,
                last_modified=ctx.as_of - 10 * DAY if h.has(gt.POSTING_REJECTED) else h.created + HOUR,
            ),
        )
        duplicate_customer = (str(int(customer[0]) + 1), f"{h.name} (old)")
        if h.has(gt.INVOICE_CUSTOMER_MISMATCH):  # a person-created duplicate record, no externalId
            yield (
                "customer",
                netsuite.customer(
                    id=duplicate_customer[0],
                    entity_id=f"CUS-{h.index:06d}-OLD",
                    company_name=duplicate_customer[1],
                    subsidiary=sub_ref(h.subsidiary),
                    currency=cur_ref(h.currency),
                    created=h.created - 30 * DAY,
                ),
            )
        for inv in h.invoices:
            if not self.posted(h, inv):
                continue
            assert inv.finalized_at is not None
            legacy = inv.finalized_at < ctx.go_live
            tamper = inv.injection
            entity = duplicate_customer if tamper == gt.INVOICE_CUSTOMER_MISMATCH else customer
            currency = h.currency
            if tamper == gt.INVOICE_CURRENCY_MISMATCH:
                currency = base if base != h.currency else CURRENCIES[(CURRENCIES.index(h.currency) + 1) % 3]
            subsidiary = h.subsidiary
            if tamper == gt.INVOICE_SUBSIDIARY_MISMATCH:
                subsidiary = SUBSIDIARIES[(SUBSIDIARY_BY_CODE[h.subsidiary].erp_id) % 3].code
            charge = inv.payment.succeeded if inv.payment else None
            payment_posted = charge is not None and charge.created <= ctx.cutoff and tamper != gt.PAYMENT_MISSING_IN_ERP
            voided = inv.voided_at is not None and inv.voided_at <= ctx.cutoff and tamper != gt.INVOICE_STATUS_MISMATCH
            posted_at = min(inv.finalized_at + rng.randint(HOUR, DAY), ctx.cutoff + DAY)
            invoice_id = next(counter)
            tran_id = f"INV{invoice_id}"
            head = dict(
                entity=entity,
                subsidiary=sub_ref(subsidiary),
                currency=cur_ref(currency),
                exchange_rate=exchange_rate(currency, SUBSIDIARY_BY_CODE[subsidiary].currency),
                tran_date=date_str(inv.finalized_at),
                posting_period=self.period(inv.finalized_at),
                due_date=date_str(inv.due_date) if inv.due_date else None,
                account=acct_ref("1100"),
                billing_id=inv.id,
                created=posted_at,
            )
            lines = self.lines(h, inv.lines, tamper, rng)
            yield (
                "invoice",
                netsuite.invoice(
                    id=invoice_id,
                    tran_id=tran_id,
                    external_id=None if legacy else f"bill-{inv.id}",
                    memo=f"Stripe invoice {inv.number}",
                    lines=lines,
                    amount_paid=money(charge.amount, h.currency) if payment_posted and charge else 0,
                    voided=voided,
                    last_modified=max(
                        posted_at,
                        charge.created + HOUR if payment_posted and charge else 0,
                        (inv.voided_at or 0) + HOUR if voided else 0,
                    ),
                    **head,
                ),
            )
            if tamper == gt.INVOICE_DUPLICATE_IN_ERP:  # keyed again by hand from the PDF
                dup_id = next(counter)
                yield (
                    "invoice",
                    netsuite.invoice(
                        id=dup_id,
                        tran_id=f"INV{dup_id}",
                        external_id=None,
                        memo=f"{inv.number} (entered manually)",
                        lines=self.lines(h, inv.lines, None, rng),
                        **{**head, "created": posted_at + 2 * DAY},
                    ),
                )
            if payment_posted and charge is not None:
                yield from self.payment(h, inv, charge, entity, (invoice_id, tran_id), counter, rng)
            for note in inv.credit_notes:
                if note.created > ctx.cutoff or tamper == gt.CREDIT_NOTE_MISSING_IN_ERP:
                    continue
                memo_id = next(counter)
                yield (
                    "creditMemo",
                    netsuite.credit_memo(
                        id=memo_id,
                        entity=entity,
                        subsidiary=sub_ref(h.subsidiary),
                        currency=cur_ref(h.currency),
                        exchange_rate=exchange_rate(h.currency, base),
                        tran_date=date_str(note.created),
                        tran_id=f"CM{memo_id}",
                        external_id=None if note.created < ctx.go_live else f"bill-{note.id}",
                        created_from=(invoice_id, tran_id),
                        posting_period=self.period(note.created),
                        memo=f"Stripe credit note {note.number} (refunded)",
                        billing_id=note.id,
                        account=acct_ref("1100"),
                        lines=[
                            netsuite.item_line(
                                item=self.item(line.product.key),
                                amount=money(amount, h.currency),
                                description=f"Credit: {line.description}",
                                tax_rate=h.tax_rate.percentage if h.tax_rate.percentage else None,
                                tax_amount=money(tax, h.currency),
                            )
                            for _, line, amount, tax in note.lines
                        ],
                        created=min(note.created + rng.randint(HOUR, DAY), ctx.cutoff + DAY),
                    ),
                )
        if h.has(gt.INVOICE_ORPHAN_IN_ERP):  # claims a billing origin billing never had (a deleted draft)
            orphan_id = next(counter)
            ghost = ctx.id("in", h.index, "orphan")
            at = rng.randint(max(h.created, ctx.go_live) + DAY, ctx.as_of - 10 * DAY)
            expect.append((gt.INVOICE_ORPHAN_IN_ERP, str(orphan_id)))
            yield (
                "invoice",
                netsuite.invoice(
                    id=orphan_id,
                    entity=customer,
                    subsidiary=sub_ref(h.subsidiary),
                    currency=cur_ref(h.currency),
                    exchange_rate=exchange_rate(h.currency, base),
                    tran_date=date_str(at),
                    tran_id=f"INV{orphan_id}",
                    external_id=f"bill-{ghost}",
                    billing_id=ghost,
                    posting_period=self.period(at),
                    memo="Stripe invoice (draft)",
                    account=acct_ref("1100"),
                    created=at + HOUR,
                    lines=[
                        netsuite.item_line(
                            item=self.item("onboarding"),
                            amount=Decimal(rng.randint(5, 50) * 100),
                            description="Onboarding & training package",
                        )
                    ],
                ),
            )

    def payment(
        self,
        h: CustomerHistory,
        inv: Invoice,
        charge: Charge,
        entity: tuple[str, str],
        invoice_ref: tuple[int, str],
        counter: Iterator[int],
        rng: random.Random,
    ) -> Iterator[tuple[str, dict]]:
        ctx = self.ctx
        base = SUBSIDIARY_BY_CODE[h.subsidiary].currency
        amount = money(charge.amount, h.currency)
        received = amount
        if inv.injection == gt.PAYMENT_AMOUNT_MISMATCH:  # keyed with a typo: the surplus sits unapplied
            received = amount + money(max(100, charge.amount * rng.randint(3, 15) // 100), h.currency)
        payment_id = next(counter)
        head = dict(
            customer=entity,
            subsidiary=sub_ref(h.subsidiary),
            currency=cur_ref(h.currency),
            exchange_rate=exchange_rate(h.currency, base),
            tran_date=date_str(charge.created),
            posting_period=self.period(charge.created),
            billing_id=charge.id,
        )
        posted_at = min(charge.created + rng.randint(HOUR, DAY), ctx.cutoff + DAY)
        yield (
            "customerPayment",
            netsuite.customer_payment(
                id=payment_id,
                tran_id=f"PYMT{payment_id}",
                external_id=None if charge.created < ctx.go_live else f"bill-{charge.id}",
                payment=received,
                applies=[netsuite.apply_line(doc=invoice_ref, amount=amount, ref_num=invoice_ref[1])],
                memo=f"Stripe payment for {inv.number}",
                created=posted_at,
                **head,
            ),
        )
        if inv.injection == gt.PAYMENT_DUPLICATE_IN_ERP:  # entered again from the bank statement, left unapplied
            dup_id = next(counter)
            yield (
                "customerPayment",
                netsuite.customer_payment(
                    id=dup_id,
                    tran_id=f"PYMT{dup_id}",
                    external_id=None,
                    payment=amount,
                    memo=f"Bank receipt {inv.number}",
                    created=posted_at + DAY,
                    **head,
                ),
            )

    def posted(self, h: CustomerHistory, inv: Invoice) -> bool:
        """Whether the existing sync (or, before go-live, a person) posted this invoice."""
        if inv.finalized_at is None or inv.finalized_at > self.ctx.cutoff:
            return False
        if inv.injection in BLOCKING_INJECTIONS:
            return False
        if any(not line.product.erp_item for line in inv.lines):
            return False
        # voided within a day: gone before the sync picked it up
        return not (inv.voided_at is not None and inv.voided_at - inv.finalized_at < DAY)
