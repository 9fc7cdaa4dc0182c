"""A small NetSuite company for push tests, written with the ERP sandbox's builders.

Reference ids the postings use: subsidiaries 1 US/USD, 2 UK/GBP; accounts 11 income, 12 deferred revenue,
13 bank; items 20 SEATS, 21 USAGE; periods Sep 2026 (closed for the UK), Oct and Nov 2026.
Customers not created by q2c: 100 Acme (US), 102 Initech (inactive), 103 Hooli (UK). One invoice not created
by q2c holds the external id ``bill-in_foreign``.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.clock import SandboxClock
from sandbox.erp import objects as ns
from sandbox.erp.app import create_app
from sandbox.faults import FaultPlan
from sandbox.fixtures import write_collection
from sandbox.http import SandboxServer

AS_OF = 1_793_491_200  # 2026-11-01T00:00:00Z
US, UK = ("1", "Q2C Inc. (US)"), ("2", "Q2C Ltd (UK)")
USD, GBP = ("1", "USD"), ("2", "GBP")
INCOME, DEFERRED, BANK = ("11", "Subscription Revenue"), ("12", "Deferred Revenue"), ("13", "Operating Bank")
SEATS = ("20", "SEATS")
FOREIGN_INVOICE_EID = "bill-in_foreign"
INACTIVE_CUSTOMER_ID, UK_CUSTOMER_ID = "102", "103"


def write_company(root: Path) -> Path:
    write_collection(
        root,
        "erp",
        "currency",
        [
            ns.currency(id=1, symbol="USD", name="US Dollar", is_base_currency=True),
            ns.currency(id=2, symbol="GBP", name="British Pound", exchange_rate="1.27"),
        ],
    )
    write_collection(
        root,
        "erp",
        "subsidiary",
        [
            ns.subsidiary(id=1, name=US[1], currency=USD, country="US"),
            ns.subsidiary(id=2, name=UK[1], currency=GBP, country="GB", parent=US),
        ],
    )
    write_collection(
        root,
        "erp",
        "account",
        [
            ns.account(id=10, acct_number="1200", acct_name="Accounts Receivable", acct_type="AcctRec"),
            ns.account(id=11, acct_number="4000", acct_name=INCOME[1], acct_type="Income"),
            ns.account(id=12, acct_number="2400", acct_name=DEFERRED[1], acct_type="DeferRevenue"),
            ns.account(id=13, acct_number="1000", acct_name=BANK[1], acct_type="Bank"),
        ],
    )
    write_collection(
        root,
        "erp",
        "item",
        [
            ns.item(id=20, item_id="SEATS", display_name="Seats", income_account=INCOME, external_id="prod_seats"),
            ns.item(id=21, item_id="USAGE", display_name="Usage", income_account=INCOME, external_id="prod_usage"),
        ],
    )
    write_collection(
        root,
        "erp",
        "accountingPeriod",
        [
            ns.accounting_period(
                id=40,
                period_name="Sep 2026",
                start_date="2026-09-01",
                end_date="2026-09-30",
                closed_subsidiaries=[UK],
                open_subsidiaries=[US],
            ),
            ns.accounting_period(id=41, period_name="Oct 2026", start_date="2026-10-01", end_date="2026-10-31"),
            ns.accounting_period(id=42, period_name="Nov 2026", start_date="2026-11-01", end_date="2026-11-30"),
        ],
    )
    created = AS_OF - 86400 * 60
    write_collection(
        root,
        "erp",
        "customer",
        [
            ns.customer(id=100, entity_id="CUS-100", company_name="Acme", subsidiary=US, currency=USD, created=created),
            ns.customer(
                id=102,
                entity_id="CUS-102",
                company_name="Initech",
                subsidiary=US,
                currency=USD,
                is_inactive=True,
                created=created,
            ),
            ns.customer(
                id=103, entity_id="CUS-103", company_name="Hooli", subsidiary=UK, currency=GBP, created=created
            ),
        ],
    )
    write_collection(
        root,
        "erp",
        "invoice",
        [
            ns.invoice(
                id=500,
                entity=("100", "Acme"),
                subsidiary=US,
                currency=USD,
                tran_date="2026-10-05",
                tran_id="INV-500",
                external_id=FOREIGN_INVOICE_EID,
                memo="entered by hand in the ERP",
                lines=[ns.item_line(item=SEATS, quantity=10, rate="12.5")],
                created=created,
            )
        ],
    )
    return root


def serve_company(
    fixtures: Path,
    workdir: Path,
    *,
    faults: FaultPlan | None = None,
    token: str = "q2c-erp-sandbox",
    max_concurrency: int = 5,
    latency_seconds: float = 0.0,
) -> SandboxServer:
    """The ERP sandbox on a free loopback port (the caller starts and stops it)."""
    app = create_app(
        fixtures,
        workdir,
        token=token,
        faults=faults,
        clock=SandboxClock(AS_OF),
        max_concurrency=max_concurrency,
        latency_seconds=latency_seconds,
    )
    return SandboxServer(app)
