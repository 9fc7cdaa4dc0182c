"""A small NetSuite company written with the ERP builders, served on a free loopback port per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.clock import SandboxClock
from sandbox.erp import objects as ns
from sandbox.erp.app import DEFAULT_TOKEN, create_app
from sandbox.fixtures import write_collection
from sandbox.http import SandboxServer

AS_OF = 1_793_491_200  # 2026-11-01T00:00:00Z
US, UK, DE = ("1", "Q2C Inc. (US)"), ("2", "Q2C Ltd (UK)"), ("3", "Q2C GmbH (DE)")
USD, GBP, EUR = ("1", "USD"), ("2", "GBP"), ("3", "EUR")
AR, INCOME, DEFERRED, BANK = (
    ("10", "Accounts Receivable"),
    ("11", "Subscription Revenue"),
    ("12", "Deferred Revenue"),
    ("13", "Operating Bank"),
)
SEATS, USAGE = ("20", "SEATS"), ("21", "USAGE")
SALES = ("30", "Sales")
SEP, OCT = ("40", "Sep 2026"), ("41", "Oct 2026")
ACME, GLOBEX = ("100", "Acme Corp"), ("101", "Globex GmbH")


def company_fixtures(root: Path) -> Path:
    """Write the reference data, two customers and one invoice; September is closed for the UK only."""
    write_collection(
        root,
        "erp",
        "currency",
        [
            ns.currency(id=1, symbol="USD", name="US Dollar", is_base_currency=True),
            ns.currency(id=2, symbol="GBP", name="British Pound", exchange_rate="1.27"),
            ns.currency(id=3, symbol="EUR", name="Euro", exchange_rate="1.08"),
        ],
    )
    write_collection(
        root,
        "erp",
        "subsidiary",
        [
            ns.subsidiary(id=1, name=US[1], currency=USD, country="US"),
            ns.subsidiary(id=2, name=UK[1], currency=GBP, country="GB", parent=US),
            ns.subsidiary(id=3, name=DE[1], currency=EUR, country="DE", parent=US),
        ],
    )
    write_collection(
        root,
        "erp",
        "account",
        [
            ns.account(id=10, acct_number="1200", acct_name=AR[1], acct_type="AcctRec"),
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
            ns.item(
                id=20,
                item_id="SEATS",
                display_name="Seats",
                income_account=INCOME,
                deferred_revenue_account=DEFERRED,
                external_id="prod_seats",
            ),
            ns.item(id=21, item_id="USAGE", display_name="Usage", income_account=INCOME, external_id="prod_usage"),
        ],
    )
    write_collection(root, "erp", "department", [ns.department(id=30, name="Sales")])
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
                open_subsidiaries=[US, DE],
            ),
            ns.accounting_period(id=41, period_name="Oct 2026", start_date="2026-10-01", end_date="2026-10-31"),
            ns.accounting_period(id=42, period_name="Nov 2026", start_date="2026-11-01", end_date="2026-11-30"),
        ],
    )
    write_collection(
        root,
        "erp",
        "customer",
        [
            ns.customer(
                id=100,
                entity_id="CUS-100",
                company_name=ACME[1],
                subsidiary=US,
                currency=USD,
                email="ap@acme.test",
                external_id="cus_acme",
                created=AS_OF - 86400 * 60,
            ),
            ns.customer(
                id=101,
                entity_id="CUS-101",
                company_name=GLOBEX[1],
                subsidiary=DE,
                currency=EUR,
                external_id="cus_globex",
                created=AS_OF - 86400 * 60,
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
                entity=ACME,
                subsidiary=US,
                currency=USD,
                tran_date="2026-10-05",
                tran_id="INV-500",
                external_id="bill-in_500",
                billing_id="in_500",
                posting_period=OCT,
                lines=[ns.item_line(item=SEATS, quantity=10, rate="12.5", department=SALES)],
                created=AS_OF - 86400 * 20,
            ),
        ],
    )
    return root


@pytest.fixture
def fixtures_dir(tmp_path: Path) -> Path:
    return company_fixtures(tmp_path / "fixtures")


def serve(fixtures: Path | None, workdir: Path, **kwargs) -> SandboxServer:
    kwargs.setdefault("clock", SandboxClock(AS_OF))
    return SandboxServer(create_app(fixtures, workdir, **kwargs))


@pytest.fixture
def server(fixtures_dir: Path, tmp_path: Path) -> Iterator[SandboxServer]:
    with serve(fixtures_dir, tmp_path / "work") as srv:
        yield srv
        assert srv.errors == []


@pytest.fixture
def client(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=f"{server.url}/services/rest", headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}, timeout=10
    ) as c:
        yield c
