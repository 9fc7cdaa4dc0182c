"""A small CRM fixture folder built with the sandbox's own builders.

The folder has more than 100 companies (so lists page), a merge (company 1003 absorbed 1200 and 1201,
which are absent from the file), archived records, and associations (one still naming a merged-away id).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import hubspot

from sandbox.crm import objects
from sandbox.crm.app import DEFAULT_TOKEN
from sandbox.fixtures import write_collection
from sandbox.http import SandboxServer

BASE_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
AS_OF = 1_769_860_800  # 2026-01-31T12:00:00Z, after every fixture timestamp
HOUR_MS = 3_600_000

COMPANY_IDS = range(1001, 1151)  # 150 companies
ARCHIVED_COMPANY = 1150
WINNER, LOSERS = 1003, ("1200", "1201")
CONTACT_IDS = range(2001, 2031)
ARCHIVED_CONTACT = 2030
DEAL_IDS = range(3001, 3041)
PRODUCT_IDS = range(4001, 4006)
LINE_ITEM_IDS = range(5001, 5061)


@dataclass
class CrmFixture:
    root: Path
    counts: dict[str, int] = field(default_factory=dict)  # active (listed) records per type
    company_updated_ms: dict[str, int] = field(default_factory=dict)


def company_updated_ms(cid: int) -> int:
    # two companies per hour, so lastmodified ties exist and ordering must break them by id
    return BASE_MS + ((cid - 1001) // 2) * HOUR_MS


def build_fixture(root: Path) -> CrmFixture:
    fx = CrmFixture(root)
    companies = []
    for cid in COMPANY_IDS:
        updated = company_updated_ms(cid)
        fx.company_updated_ms[str(cid)] = updated
        companies.append(
            objects.company(
                id=cid,
                name=f"Company {cid}",
                domain=f"c{cid}.example.com",
                country=("US", "GB", "DE")[cid % 3],
                industry="COMPUTER_SOFTWARE",
                created_ms=BASE_MS - 86_400_000,
                updated_ms=updated,
                stripe_customer_id=f"cus_{cid}",
                netsuite_customer_id=str(700 + cid) if cid % 2 else None,
                subsidiary=("US", "UK", "DE")[cid % 3],
                merged_object_ids=LOSERS if cid == WINNER else (),
                archived=cid == ARCHIVED_COMPANY,
                archived_ms=updated if cid == ARCHIVED_COMPANY else None,
            )
        )
    write_collection(root, "crm", "companies", companies)
    fx.counts["companies"] = len(companies) - 1

    contacts = [
        objects.contact(
            id=k,
            email=f"person{k}@example.com",
            firstname="Pat",
            lastname=f"Person{k}",
            created_ms=BASE_MS,
            updated_ms=BASE_MS + k,
            archived=k == ARCHIVED_CONTACT,
        )
        for k in CONTACT_IDS
    ]
    write_collection(root, "crm", "contacts", contacts)
    fx.counts["contacts"] = len(contacts) - 1

    stages = objects.DEAL_STAGES
    deals = [
        objects.deal(
            id=d,
            dealname=f"Deal {d}",
            amount=Decimal("1200.50") * (d - 3000),
            deal_currency_code=("USD", "GBP", "EUR")[d % 3],
            dealstage=stages[d % len(stages)],
            created_ms=BASE_MS,
            updated_ms=BASE_MS + (d - 3000) * 60_000,
            closedate_ms=BASE_MS + 10 * 86_400_000,
            stripe_subscription_id=f"sub_{d}" if stages[d % len(stages)] == "closedwon" else None,
        )
        for d in DEAL_IDS
    ]
    write_collection(root, "crm", "deals", deals)
    fx.counts["deals"] = len(deals)

    products = [
        objects.product(
            id=p,
            name=f"Plan {p}",
            price="49.00",
            hs_sku=f"SKU-{p}",
            recurringbillingfrequency="monthly",
            stripe_product_id=f"prod_{p}",
            created_ms=BASE_MS,
        )
        for p in PRODUCT_IDS
    ]
    write_collection(root, "crm", "products", products)
    fx.counts["products"] = len(products)

    line_items = [
        objects.line_item(
            id=li,
            name="Seats",
            quantity=(li % 7) + 1,
            price="49.00",
            currency="USD",
            hs_product_id=PRODUCT_IDS[li % len(PRODUCT_IDS)],
            hs_recurring_billing_period="P12M",
            recurringbillingfrequency="monthly",
            created_ms=BASE_MS,
        )
        for li in LINE_ITEM_IDS
    ]
    write_collection(root, "crm", "line_items", line_items)
    fx.counts["line_items"] = len(line_items)

    associations = []
    for i, d in enumerate(DEAL_IDS):
        associations.append(
            objects.association(from_type="deals", from_id=d, to_type="companies", to_id=1001 + i, primary=True)
        )
        associations.append(objects.association(from_type="deals", from_id=d, to_type="line_items", to_id=5001 + i))
    # a deal of the merged-away company, written against the loser's id
    associations.append(objects.association(from_type="deals", from_id=3040, to_type="companies", to_id=LOSERS[0]))
    for k in CONTACT_IDS:
        associations.append(
            objects.association(from_type="contacts", from_id=k, to_type="companies", to_id=1001, primary=k == 2001)
        )
    write_collection(root, "crm", "associations", associations)
    return fx


def sdk(srv: SandboxServer, token: str = DEFAULT_TOKEN) -> hubspot.HubSpot:
    """The official client, configured only with the sandbox's URL and token."""
    return hubspot.HubSpot(access_token=token, host=srv.url)
