"""Render a simulated customer's CRM side (HubSpot CRM v3) only through ``sandbox.crm.objects`` builders.

A customer is a company with contacts, a closed-won deal (amount = the subscription's annual contract value,
with line items) and sometimes other deals that rightly have no subscription: an open upsell, a closed-lost
one, a closed-won expansion signed in the last two days (inside the grace period). Some customers' companies
were merged with a duplicate (the loser's id survives in the winner's ``hs_merged_object_ids``). Prospects
(companies with open or lost deals and no billing customer) come along with some customers.

Ids are numeric and derived from the customer index, so they are stable and never collide.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sandbox.crm import objects as hubspot
from sandbox.scenario import ground_truth as gt
from sandbox.scenario.company import DAY, HOUR, SUBSIDIARY_BY_CODE, VICTIM_MIN_AGE_SECONDS, to_major
from sandbox.scenario.simulate import Catalog, Context, CustomerHistory

COMPANY_BASE = 20_000_000_000
CONTACT_BASE = 30_000_000_000
DEAL_BASE = 40_000_000_000
LINE_ITEM_BASE = 50_000_000_000
PRODUCT_BASE = 1_000_000

DEAL_SLOTS = ("main", "unprovisioned", "open_upsell", "closed_lost", "recent_won", "prospect")


@dataclass(frozen=True)
class CrmIds:
    company: str
    loser: str  # the duplicate merged into the company (or deleted, for an unmatched customer)
    prospect: str
    deals: dict[str, str]


def crm_ids(index: int) -> CrmIds:
    deals = {slot: str(DEAL_BASE + index * 8 + n) for n, slot in enumerate(DEAL_SLOTS)}
    return CrmIds(
        str(COMPANY_BASE + index * 4), str(COMPANY_BASE + index * 4 + 1), str(COMPANY_BASE + index * 4 + 2), deals
    )


def crm_products(ctx: Context, catalog: Catalog, created: int) -> list[dict]:
    out = []
    for n, (key, product) in enumerate(sorted(catalog.products.items())):
        frequency = {"seat": "monthly", "addon": "monthly"}.get(product.kind)
        out.append(
            hubspot.product(
                id=PRODUCT_BASE + n,
                name=product.name,
                price=to_major(product.unit_amounts["usd"], "usd"),
                created_ms=created * 1000,
                hs_sku=key,
                recurringbillingfrequency=frequency,
                stripe_product_id=catalog.product_id[key],
            )
        )
    return out


def crm_product_id(catalog: Catalog, key: str) -> str:
    return str(PRODUCT_BASE + sorted(catalog.products).index(key))


class CrmRenderer:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def customer_metadata(self, h: CustomerHistory) -> dict:
        """The billing customer's link to the CRM: stale on the loser id, or pointing at a deleted company."""
        ids = crm_ids(h.index)
        company = ids.loser if h.has(gt.CUSTOMER_MERGED_STALE_REF) or self._deleted(h) else ids.company
        return {"hubspot_company_id": company, "subsidiary": h.subsidiary}

    def _deleted(self, h: CustomerHistory) -> bool:
        injection = h.injection(gt.CUSTOMER_UNMATCHED)
        return injection is not None and injection.k % 2 == 0  # even: no CRM company; odd: no ERP customer

    def erp_missing(self, h: CustomerHistory) -> bool:
        injection = h.injection(gt.CUSTOMER_UNMATCHED)
        return injection is not None and injection.k % 2 == 1

    def render(
        self, h: CustomerHistory, erp_customer_id: str | None, expect: list[tuple[str, str]]
    ) -> Iterator[tuple[str, dict]]:
        ctx = self.ctx
        rng = random.Random(f"{ctx.seed}:{ctx.scale.name}:{h.index}:crm")
        ids = crm_ids(h.index)
        sub = SUBSIDIARY_BY_CODE[h.subsidiary]
        main = next(s for s in h.subscriptions if s.deal_key == "main")
        merged = h.has(gt.CUSTOMER_MERGED_STALE_REF) or (not self._deleted(h) and rng.random() < 0.08)
        company_created = h.deal_created_at - rng.randint(5, 60) * DAY
        last_change = max(h.deal_closed_at, *(a.at for a in main.amendments)) if main.amendments else h.deal_closed_at
        if self._deleted(h):
            expect.append((gt.CUSTOMER_UNMATCHED, h.id))
        else:
            if merged:
                last_change = max(last_change, h.created + rng.randint(10, 60) * DAY)
            yield (
                "companies",
                hubspot.company(
                    id=ids.company,
                    name=h.name,
                    created_ms=company_created * 1000,
                    updated_ms=min(last_change, ctx.as_of) * 1000,
                    domain=h.domain,
                    country=sub.country_name,
                    industry=rng.choice(
                        (
                            "COMPUTER_SOFTWARE",
                            "LOGISTICS_AND_SUPPLY_CHAIN",
                            "HOSPITAL_HEALTH_CARE",
                            "FINANCIAL_SERVICES",
                            "RETAIL",
                        )
                    ),
                    stripe_customer_id=h.id,
                    netsuite_customer_id=erp_customer_id,
                    subsidiary=h.subsidiary,
                    merged_object_ids=(ids.loser,) if merged else (),
                ),
            )
            if h.has(gt.CUSTOMER_MERGED_STALE_REF):
                expect.append((gt.CUSTOMER_MERGED_STALE_REF, h.id))
        company_alive = not self._deleted(h)
        for n, (first, last, email) in enumerate(h.contacts):
            contact_id = str(CONTACT_BASE + h.index * 8 + n)
            yield (
                "contacts",
                hubspot.contact(
                    id=contact_id,
                    email=email,
                    created_ms=(company_created + n * DAY) * 1000,
                    firstname=first,
                    lastname=last,
                    company=h.name,
                    phone=f"+1555{h.index:07d}"[:12],
                ),
            )
            if company_alive:
                yield (
                    "associations",
                    hubspot.association(
                        from_type="contacts", from_id=contact_id, to_type="companies", to_id=ids.company, primary=True
                    ),
                )
        first_contact = str(CONTACT_BASE + h.index * 8)

        # the closed-won deal behind the main subscription: amount = annual contract value
        value = to_major(main.contract_value(), h.currency)
        if h.has(gt.CONTRACT_VALUE_MISMATCH):
            value = value + (value * Decimal(rng.randint(10, 25)) / 100).quantize(Decimal(1))
            expect.append((gt.CONTRACT_VALUE_MISMATCH, ids.deals["main"]))
        item = main.items[0]
        yield from self.deal(
            h,
            ids,
            "main",
            f"{h.name} — {item.product.name}",
            value,
            "closedwon",
            h.deal_created_at,
            h.deal_closed_at,
            last_change,
            main.id,
            first_contact,
            company_alive,
            line=(
                item.product.key,
                item.quantity,
                to_major(item.unit_amount, h.currency),
                "monthly" if main.interval == "month" else "annually",
            ),
        )
        if h.has(gt.DEAL_WITHOUT_SUBSCRIPTION):  # signed, never provisioned in billing
            closed = rng.randint(max(h.created, ctx.as_of - 120 * DAY), ctx.as_of - VICTIM_MIN_AGE_SECONDS)
            amount = to_major(
                item.unit_amount * rng.randint(5, 30) * (12 if main.interval == "month" else 1), h.currency
            )
            expect.append((gt.DEAL_WITHOUT_SUBSCRIPTION, ids.deals["unprovisioned"]))
            yield from self.deal(
                h,
                ids,
                "unprovisioned",
                f"{h.name} — expansion",
                amount,
                "closedwon",
                closed - 30 * DAY,
                closed,
                closed,
                None,
                first_contact,
                company_alive,
            )
        # deals that rightly have no subscription: open upsells, lost ones, one signed inside the grace period
        roll = rng.random()
        if roll < 0.2:
            amount = to_major(item.unit_amount * rng.randint(5, 40) * 12, h.currency)
            yield from self.deal(
                h,
                ids,
                "open_upsell",
                f"{h.name} — upsell",
                amount,
                "contractsent",
                ctx.as_of - 20 * DAY,
                ctx.as_of + 25 * DAY,
                ctx.as_of - 2 * DAY,
                None,
                first_contact,
                company_alive,
            )
        elif roll < 0.32:
            amount = to_major(item.unit_amount * rng.randint(5, 40) * 12, h.currency)
            closed = rng.randint(h.created, ctx.as_of - DAY)
            yield from self.deal(
                h,
                ids,
                "closed_lost",
                f"{h.name} — second team",
                amount,
                "closedlost",
                closed - 40 * DAY,
                closed,
                closed,
                None,
                first_contact,
                company_alive,
            )
        elif roll < 0.36:  # signed yesterday: provisioning still inside the grace period
            closed = ctx.as_of - rng.randint(2 * HOUR, 36 * HOUR)
            amount = to_major(item.unit_amount * rng.randint(5, 40) * 12, h.currency)
            yield from self.deal(
                h,
                ids,
                "recent_won",
                f"{h.name} — renewal uplift",
                amount,
                "closedwon",
                closed - 20 * DAY,
                closed,
                closed,
                None,
                first_contact,
                company_alive,
            )
        if rng.random() < 0.3:
            yield from self.prospect(h, ids, rng)

    def deal(
        self,
        h: CustomerHistory,
        ids: CrmIds,
        slot: str,
        name: str,
        amount: Decimal,
        stage: str,
        created: int,
        closed: int,
        updated: int,
        subscription_id: str | None,
        contact_id: str,
        with_company: bool,
        line: tuple[str, int, Decimal, str] | None = None,
    ) -> Iterator[tuple[str, dict]]:
        deal_id = ids.deals[slot]
        as_of = self.ctx.as_of
        yield (
            "deals",
            hubspot.deal(
                id=deal_id,
                dealname=name,
                amount=amount.quantize(Decimal("0.01")),
                deal_currency_code=h.currency.upper(),
                dealstage=stage,
                created_ms=min(created, as_of) * 1000,
                updated_ms=min(max(updated, created), as_of) * 1000,
                closedate_ms=closed * 1000,
                stripe_subscription_id=subscription_id,
            ),
        )
        if with_company:
            yield (
                "associations",
                hubspot.association(
                    from_type="deals", from_id=deal_id, to_type="companies", to_id=ids.company, primary=True
                ),
            )
        yield (
            "associations",
            hubspot.association(from_type="deals", from_id=deal_id, to_type="contacts", to_id=contact_id),
        )
        if line is not None:
            key, quantity, price, frequency = line
            line_id = str(LINE_ITEM_BASE + h.index * 8 + DEAL_SLOTS.index(slot))
            yield (
                "line_items",
                hubspot.line_item(
                    id=line_id,
                    name=self.ctx.catalog.products[key].name,
                    quantity=quantity,
                    price=price,
                    currency=h.currency.upper(),
                    created_ms=min(created, as_of) * 1000,
                    updated_ms=min(max(updated, created), as_of) * 1000,
                    hs_product_id=crm_product_id(self.ctx.catalog, key),
                    hs_recurring_billing_period="P12M",
                    recurringbillingfrequency=frequency,
                ),
            )
            yield (
                "associations",
                hubspot.association(from_type="deals", from_id=deal_id, to_type="line_items", to_id=line_id),
            )

    def prospect(self, h: CustomerHistory, ids: CrmIds, rng: random.Random) -> Iterator[tuple[str, dict]]:
        """A company that never bought: its deal is open or lost, and rightly has no subscription."""
        sub = SUBSIDIARY_BY_CODE[h.subsidiary]
        created = rng.randint(h.deal_created_at, self.ctx.as_of - 30 * DAY)
        yield (
            "companies",
            hubspot.company(
                id=ids.prospect,
                name=f"Prospect {h.index:05d} {sub.code}",
                created_ms=created * 1000,
                domain=f"prospect{h.index}.example",
                country=sub.country_name,
                subsidiary=h.subsidiary,
            ),
        )
        stage = rng.choice(("qualifiedtobuy", "presentationscheduled", "closedlost"))
        closed = created + rng.randint(20, 25) * DAY if stage == "closedlost" else self.ctx.as_of + 30 * DAY
        deal_id = ids.deals["prospect"]
        yield (
            "deals",
            hubspot.deal(
                id=deal_id,
                dealname=f"Prospect {h.index:05d} — new business",
                amount=Decimal(rng.randint(5, 80) * 1000),
                deal_currency_code=sub.currency.upper(),
                dealstage=stage,
                created_ms=created * 1000,
                updated_ms=min(closed, self.ctx.as_of) * 1000,
                closedate_ms=closed * 1000,
            ),
        )
        yield (
            "associations",
            hubspot.association(
                from_type="deals", from_id=deal_id, to_type="companies", to_id=ids.prospect, primary=True
            ),
        )
