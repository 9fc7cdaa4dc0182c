"""The builders: complete records, exact money, derived totals and statuses."""

from __future__ import annotations

from decimal import Decimal

from sandbox.erp import objects as ns
from sandbox.fixtures import dumps

from .conftest import ACME, INCOME, OCT, SEATS, UK, US, USD


def test_invoice_totals_tax_and_status_are_exact() -> None:
    inv = ns.invoice(
        id=7,
        entity=ACME,
        subsidiary=US,
        currency=USD,
        tran_date="2026-10-03",
        posting_period=OCT,
        external_id="bill-in_7",
        billing_id="in_7",
        lines=[
            ns.item_line(item=SEATS, quantity=3, rate="33.3", tax_rate=20),
            ns.item_line(item=SEATS, amount=Decimal("0.1")),
        ],
        amount_paid="20",
        created=1_790_000_000,
    )
    assert inv["subtotal"] == 100 and inv["taxTotal"] == 19.98 and inv["total"] == 119.98
    assert inv["amountRemaining"] == 99.98 and inv["status"] == {"id": "A", "refName": "Open"}
    assert [line["line"] for line in inv["item"]["items"]] == [1, 2]
    assert inv["entity"] == {"id": "100", "refName": "Acme Corp"}
    assert inv["createdDate"] == "2026-09-21T14:13:20Z" == inv["lastModifiedDate"]
    assert "dueDate" not in inv  # no value, no key: NetSuite omits empty fields
    assert '"total":119.98' in dumps(inv)


def test_paid_and_voided_invoices() -> None:
    common = dict(
        entity=ACME, subsidiary=US, currency=USD, tran_date="2026-10-03", lines=[ns.item_line(item=SEATS, amount=50)]
    )
    assert ns.invoice(id=1, amount_paid=50, **common)["status"]["refName"] == "Paid In Full"
    voided = ns.invoice(id=2, voided=True, **common)
    assert voided["status"] == {"id": "V", "refName": "Voided"} and voided["amountRemaining"] == 0


def test_journal_payment_and_credit_memo() -> None:
    je = ns.journal_entry(
        id=3,
        subsidiary=UK,
        currency=("2", "GBP"),
        tran_date="2026-10-31",
        lines=[
            ns.journal_line(account=("12", "Deferred"), debit="10.10"),
            ns.journal_line(account=INCOME, credit="10.1"),
        ],
    )
    assert ns.journal_totals(je) == (Decimal("10.10"), Decimal("10.10"))
    assert je["line"]["items"][1] == {
        "account": {"id": "11", "refName": "Subscription Revenue"},
        "credit": 10.1,
        "line": 1,
    }
    pay = ns.customer_payment(
        id=4,
        customer=ACME,
        subsidiary=US,
        currency=USD,
        tran_date="2026-10-20",
        payment="80",
        applies=[ns.apply_line(doc=("7", "INV-7"), amount="60")],
    )
    assert pay["applied"] == 60 and pay["unapplied"] == 20 and pay["status"]["refName"] == "Not Deposited"
    cm = ns.credit_memo(
        id=5,
        entity=ACME,
        subsidiary=US,
        currency=USD,
        tran_date="2026-10-21",
        created_from=("7", "INV-7"),
        lines=[ns.item_line(item=SEATS, amount="30")],
        applies=[ns.apply_line(doc=("7", "INV-7"), amount="30")],
    )
    assert cm["total"] == 30 and cm["status"]["refName"] == "Fully Applied" and cm["createdFrom"]["id"] == "7"


def test_period_closed_per_subsidiary() -> None:
    period = ns.accounting_period(
        id=1,
        period_name="Sep 2026",
        start_date="2026-09-01",
        end_date="2026-09-30",
        closed_subsidiaries=[UK],
        open_subsidiaries=[US],
    )
    assert period["closed"] is False
    assert period["subsidiaryClose"]["items"][0] == {
        "subsidiary": {"id": "2", "refName": "Q2C Ltd (UK)"},
        "closed": True,
    }
    everywhere = ns.accounting_period(
        id=2, period_name="Aug 2026", start_date="2026-08-01", end_date="2026-08-31", closed=True
    )
    assert everywhere["closed"] is True and everywhere["isPosting"] is True
