"""The canonical ERP posting contracts: one dataclass per publish table, and the payload check the reverse ETL
runs before sending.

These are NOT dbt models. They mirror the enforced dbt contracts of ``dbt_project/models/publish`` (a test,
``tests/models/test_postings_contract.py``, checks that each dataclass's fields equal its model's contract
columns) so that Python code reading ``publish.*`` has names and types to rely on. Money is ``Decimal`` in
major units, dates are UTC ``date``s.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")  # NetSuite allows only these in externalId
VALIDATION_STATUSES = ("ready", "quarantined")
REASON_CODES = (
    "PRODUCT_UNMAPPED",
    "POSTING_PERIOD_CLOSED",
    "REFERENCE_MISSING",
    "UNBALANCED",
    "INVOICE_QUARANTINED",
)


@dataclass(frozen=True)
class _Posting:
    """Columns every posting table has (the reverse ETL's contract)."""

    external_id: str
    record_type: str
    subject_key: str
    validation_status: str
    reason_code: str | None
    quarantine_reason: str | None
    depends_on: list[str]
    payload: str
    payload_hash: str


@dataclass(frozen=True)
class CustomerPosting(_Posting):
    """``publish.erp_customers``: an ERP customer q2c creates (``bill-cus_…``)."""

    customer_id: str
    customer_name: str | None
    subsidiary_code: str | None
    erp_subsidiary_id: str | None
    currency_code: str | None
    crm_company_id: str | None


@dataclass(frozen=True)
class InvoicePosting(_Posting):
    """``publish.erp_invoices``: an ERP invoice (``bill-in_…``)."""

    invoice_id: str
    invoice_number: str | None
    customer_id: str
    erp_customer_id: str | None
    erp_transaction_id: str | None
    is_in_erp: bool
    subsidiary_code: str | None
    erp_subsidiary_id: str | None
    currency_code: str
    posting_date: date
    tran_date: date
    posting_period_id: str | None
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    line_count: int
    lines_amount: Decimal
    lines_tax_amount: Decimal
    input_fingerprint: int  # a hash of the posting's input rows: its body is built again only when it changes


@dataclass(frozen=True)
class CreditMemoPosting(_Posting):
    """``publish.erp_credit_memos``: an ERP credit memo (``bill-cn_…``) created from its invoice."""

    credit_note_id: str
    credit_note_number: str | None
    invoice_id: str
    invoice_external_id: str
    customer_id: str
    erp_transaction_id: str | None
    is_in_erp: bool
    subsidiary_code: str | None
    erp_subsidiary_id: str | None
    currency_code: str
    posting_date: date
    tran_date: date
    posting_period_id: str | None
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    line_count: int
    lines_amount: Decimal
    lines_tax_amount: Decimal
    input_fingerprint: int  # a hash of the posting's input rows: its body is built again only when it changes


@dataclass(frozen=True)
class CustomerPaymentPosting(_Posting):
    """``publish.erp_customer_payments``: an ERP customer payment (``bill-ch_…``/``bill-py_…``) applied to its
    invoice."""

    charge_id: str
    invoice_id: str
    invoice_external_id: str
    customer_id: str
    erp_transaction_id: str | None
    is_in_erp: bool
    subsidiary_code: str | None
    erp_subsidiary_id: str | None
    currency_code: str
    posting_date: date
    tran_date: date
    posting_period_id: str | None
    amount: Decimal
    input_fingerprint: int  # a hash of the posting's input rows: its body is built again only when it changes


@dataclass(frozen=True)
class JournalEntryPosting(_Posting):
    """``publish.erp_journal_entries``: a revenue-recognition (``q2c-revrec-…``) or daily summary
    (``q2c-daily-…``) journal."""

    journal_kind: str
    subsidiary_code: str | None
    erp_subsidiary_id: str | None
    currency_code: str
    journal_date: date
    tran_date: date
    posting_period_id: str | None
    line_count: int
    total_debit: Decimal
    total_credit: Decimal


# publish model → its dataclass (the contract test walks this)
POSTING_MODELS: dict[str, type[_Posting]] = {
    "erp_customers": CustomerPosting,
    "erp_invoices": InvoicePosting,
    "erp_credit_memos": CreditMemoPosting,
    "erp_customer_payments": CustomerPaymentPosting,
    "erp_journal_entries": JournalEntryPosting,
}
RECORD_TYPES = ("customer", "invoice", "creditMemo", "customerPayment", "journalEntry")

# the payload's required top-level keys per record type, and its line sublist with each line's required keys
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "customer": ("externalId", "companyName", "subsidiary", "currency"),
    "invoice": ("externalId", "entity", "subsidiary", "currency", "tranDate", "postingPeriod", "item"),
    "creditMemo": (
        *("externalId", "entity", "subsidiary", "currency", "tranDate", "postingPeriod"),
        *("createdFrom", "item"),
    ),
    "customerPayment": (
        *("externalId", "customer", "subsidiary", "currency", "tranDate", "postingPeriod"),
        *("payment", "apply"),
    ),
    "journalEntry": ("externalId", "subsidiary", "currency", "tranDate", "postingPeriod", "line"),
}
SUBLIST: dict[str, tuple[str, tuple[str, ...]]] = {
    "invoice": ("item", ("item", "amount")),
    "creditMemo": ("item", ("item", "amount")),
    "customerPayment": ("apply", ("doc", "amount")),
    "journalEntry": ("line", ("account",)),
}
# reference fields: a reference is {"id": "<digits>"} or {"externalId": "<external id>"}
REFERENCE_FIELDS = ("entity", "customer", "subsidiary", "currency", "postingPeriod", "account", "createdFrom")
LINE_REFERENCE_FIELDS = ("item", "department", "doc", "account")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def contract_columns(model: str) -> list[str]:
    """The column names of a publish model's contract, in dataclass order."""
    return [f.name for f in fields(POSTING_MODELS[model])]


def validate_payload(record_type: str, payload: Mapping[str, Any]) -> list[str]:
    """Problems that would make the ERP refuse ``payload`` or q2c lose track of it; empty when it may be sent.

    Checks the shape q2c promises (required keys, references, sublists, dates, amounts, a balanced journal), not
    the ERP's data (whether an id exists): that is the gate's job in dbt and the ERP's on push.
    """
    if record_type not in REQUIRED_KEYS:
        return [f"unknown record type {record_type!r}"]
    problems = [f"missing {key}" for key in REQUIRED_KEYS[record_type] if key not in payload]
    external_id = payload.get("externalId")
    if not isinstance(external_id, str) or not EXTERNAL_ID.match(external_id):
        problems.append(f"externalId {external_id!r} is not letters, digits, '_' and '-'")
    for key in REFERENCE_FIELDS:
        if key in payload:
            problems += _reference_problems(key, payload[key])
    if "tranDate" in payload and not (isinstance(payload["tranDate"], str) and DATE.match(payload["tranDate"])):
        problems.append(f"tranDate {payload['tranDate']!r} is not YYYY-MM-DD")
    if record_type == "customerPayment":
        problems += _amount_problems("payment", payload.get("payment"), positive=True)
    if record_type in SUBLIST:
        problems += _sublist_problems(record_type, payload)
    return problems


def _reference_problems(path: str, value: Any) -> list[str]:
    if not isinstance(value, Mapping):
        return [f"{path} is not a reference object"]
    if "id" in value:
        return [] if isinstance(value["id"], str) and value["id"].isdigit() else [f"{path}.id {value['id']!r}"]
    if "externalId" in value:
        ok = isinstance(value["externalId"], str) and EXTERNAL_ID.match(value["externalId"])
        return [] if ok else [f"{path}.externalId {value['externalId']!r}"]
    return [f"{path} has neither id nor externalId"]


def _amount_problems(path: str, value: Any, *, positive: bool = False) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return [f"{path} is not a number"]
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return [f"{path} {value!r} is not a number"]
    if positive and amount <= 0:
        return [f"{path} must be positive"]
    return []


def _sublist_problems(record_type: str, payload: Mapping[str, Any]) -> list[str]:
    name, required = SUBLIST[record_type]
    sublist = payload.get(name)
    if not isinstance(sublist, Mapping) or not isinstance(sublist.get("items"), list):
        return [f"{name} is not {{'items': [...]}}"]
    lines = sublist["items"]
    problems: list[str] = []
    if not lines:
        problems.append(f"{name} has no lines")
    debits = credit_total = Decimal(0)
    for n, line in enumerate(lines):
        path = f"{name}.items[{n}]"
        if not isinstance(line, Mapping):
            problems.append(f"{path} is not an object")
            continue
        problems += [f"{path} missing {key}" for key in required if key not in line]
        for key in LINE_REFERENCE_FIELDS:
            if key in line:
                problems += _reference_problems(f"{path}.{key}", line[key])
        for key in ("amount", "tax1Amt"):
            if key in line:
                problems += _amount_problems(f"{path}.{key}", line[key])
        if record_type == "journalEntry":
            has_debit, has_credit = "debit" in line, "credit" in line
            if has_debit == has_credit:
                problems.append(f"{path} needs exactly one of debit and credit")
                continue
            side = "debit" if has_debit else "credit"
            side_problems = _amount_problems(f"{path}.{side}", line[side], positive=True)
            problems += side_problems
            if not side_problems:
                if has_debit:
                    debits += Decimal(str(line["debit"]))
                else:
                    credit_total += Decimal(str(line["credit"]))
    if record_type == "journalEntry":
        if len(lines) < 2:
            problems.append("a journal needs at least two lines")
        if debits != credit_total:
            problems.append(f"unbalanced: debits {debits} != credit_total {credit_total}")
    return problems
