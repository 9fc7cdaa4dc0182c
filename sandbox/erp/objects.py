"""Builders for NetSuite SuiteTalk REST records, in the shape ``GET /record/v1/{type}/{id}?expandSubResources=true``
returns (without the ``links`` arrays, which the server adds at serve time because they carry its base URL).

One builder per record type; the scenario generator writes fixtures with them and the server builds records
created through the API with the same normalisers (:func:`finalize`), so both always agree on shape.

Shape rules (as NetSuite REST sends them):
- ``id`` is the internal id as a string; references are ``{"id": "5", "refName": "..."}``.
- ``tranDate``/``dueDate``/``startDate``/``endDate`` are ``YYYY-MM-DD``; ``createdDate`` (transactions),
  ``dateCreated`` (entities) and ``lastModifiedDate`` are ISO-8601 UTC with ``Z``.
- Amounts are JSON numbers, computed with :class:`~decimal.Decimal` and emitted without float artefacts
  (builders accept ``Decimal``, ``str`` or ``int``).
- Sublists are ``{"items": [...]}``; fields without a value are omitted, as NetSuite omits them.
- ``status`` on transactions is ``{"id": <SuiteQL status letter>, "refName": <label>}``.

A reference argument is a ``(id, refName)`` pair, a ready ``{"id", "refName"}`` dict, or ``None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

Ref = tuple[str | int, str] | Mapping[str, Any] | None
Money = Decimal | str | int

BILLING_ID_FIELD = "custbody_q2c_billing_id"  # custom body field: the billing (Stripe) object id behind a posting

# Record types served and which internal-id sequence they draw from (NetSuite numbers all transactions
# from one sequence, and each list/entity type from its own).
TRANSACTION_TYPES = ("invoice", "creditMemo", "customerPayment", "journalEntry")
REFERENCE_TYPES = ("subsidiary", "currency", "account", "item", "department", "accountingPeriod")
RECORD_TYPES = ("customer", *TRANSACTION_TYPES, *REFERENCE_TYPES)

# SuiteQL transaction.type and the record-level status vocabulary per transaction type
TRANSACTION_TYPE_CODE = {
    "invoice": "CustInvc",
    "creditMemo": "CustCred",
    "customerPayment": "CustPymt",
    "journalEntry": "Journal",
}
STATUS_LABELS: dict[str, dict[str, str]] = {
    "invoice": {"A": "Open", "B": "Paid In Full", "V": "Voided"},
    "creditMemo": {"A": "Open", "B": "Fully Applied", "V": "Voided"},
    "customerPayment": {"B": "Not Deposited", "C": "Deposited", "V": "Voided"},
    "journalEntry": {"A": "Pending Approval", "B": "Approved for Posting"},
}
# the sublist holding a transaction's lines
LINE_SUBLIST = {"invoice": "item", "creditMemo": "item", "customerPayment": "apply", "journalEntry": "line"}

CENT = Decimal("0.01")


# -- value helpers -------------------------------------------------------------------------------------------
def dec(value: Any) -> Decimal:
    """A money/quantity value as Decimal; floats go through ``str`` so 1234.5 stays 1234.5."""
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(str(value))


def num(value: Any) -> int | float:
    """A Decimal as the JSON number NetSuite sends: an int when whole, else the shortest float.

    Decimals with ≤ 15 significant digits round-trip exactly through ``float``'s shortest repr, so the JSON
    text is ``1234.5``, never ``1234.4999999``.
    """
    d = dec(value).normalize()
    if d == d.to_integral_value():
        return int(d)
    return float(d)


def money(value: Any) -> Decimal:
    return dec(value).quantize(CENT)


def ref(value: Ref) -> dict | None:
    """A reference field ``{"id": "5", "refName": "..."}`` from a pair or a dict."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        out = {"id": str(value["id"])}
        if value.get("refName") is not None:
            out["refName"] = str(value["refName"])
        return out
    ident, name = value
    return {"id": str(ident), "refName": str(name)}


def iso_datetime(value: int | str | datetime | None) -> str | None:
    """Unix seconds, a datetime or an ISO string to ``2026-10-01T12:00:00Z``."""
    if value is None:
        return None
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(int(value), tz=UTC)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(obj: dict) -> dict:
    """Drop fields without a value: NetSuite omits them from GET responses."""
    return {k: v for k, v in obj.items() if v is not None}


def _items(lines: Iterable[dict]) -> dict:
    return {"items": list(lines)}


# -- reference records ---------------------------------------------------------------------------------------
def currency(
    *,
    id: str | int,  # noqa: A002 - NetSuite's field name
    symbol: str,
    name: str | None = None,
    exchange_rate: Money = 1,
    is_base_currency: bool = False,
    currency_precision: int = 2,
    display_symbol: str | None = None,
    is_inactive: bool = False,
) -> dict:
    """A ``currency`` record. Args: id, symbol (ISO code, e.g. "USD"), name (defaults to the symbol),
    exchange_rate (to the base currency), is_base_currency, currency_precision (2; 0 for JPY),
    display_symbol ("$"), is_inactive."""
    return _clean(
        {
            "id": str(id),
            "symbol": symbol,
            "name": name or symbol,
            "exchangeRate": num(exchange_rate),
            "isBaseCurrency": is_base_currency,
            "currencyPrecision": currency_precision,
            "displaySymbol": display_symbol,
            "isInactive": is_inactive,
        }
    )


def subsidiary(
    *,
    id: str | int,  # noqa: A002
    name: str,
    currency: Ref,
    country: str,
    parent: Ref = None,
    legal_name: str | None = None,
    is_elimination: bool = False,
    is_inactive: bool = False,
    last_modified: int | str | None = None,
) -> dict:
    """A ``subsidiary`` record (legal entity). Args: id, name ("Q2C Inc. (US)"), currency (id, symbol),
    country ("US"/"GB"/"DE"), parent (the parent subsidiary ref, None for the root), legal_name,
    is_elimination, is_inactive, last_modified (unix seconds or ISO)."""
    return _clean(
        {
            "id": str(id),
            "name": name,
            "legalName": legal_name or name,
            "currency": ref(currency),
            "country": {"id": country, "refName": country},
            "parent": ref(parent),
            "isElimination": is_elimination,
            "isInactive": is_inactive,
            "lastModifiedDate": iso_datetime(last_modified),
        }
    )


def account(
    *,
    id: str | int,  # noqa: A002
    acct_number: str,
    acct_name: str,
    acct_type: str,
    subsidiaries: Sequence[Ref] = (),
    currency: Ref = None,
    description: str | None = None,
    is_inactive: bool = False,
    last_modified: int | str | None = None,
) -> dict:
    """An ``account`` (GL account). Args: id, acct_number ("4000"), acct_name ("Subscription Revenue"),
    acct_type (NetSuite's type id: Income, DeferRevenue, AcctRec, Bank, OthCurrAsset, OthCurrLiab, Expense…),
    subsidiaries (refs it is shared with), currency (Bank accounts only), description, is_inactive,
    last_modified."""
    return _clean(
        {
            "id": str(id),
            "acctNumber": acct_number,
            "acctName": acct_name,
            "acctType": {"id": acct_type, "refName": acct_type},
            "subsidiary": _items(ref(s) for s in subsidiaries) if subsidiaries else None,
            "currency": ref(currency),
            "description": description,
            "isInactive": is_inactive,
            "lastModifiedDate": iso_datetime(last_modified),
        }
    )


def item(
    *,
    id: str | int,  # noqa: A002
    item_id: str,
    display_name: str,
    income_account: Ref,
    deferred_revenue_account: Ref = None,
    external_id: str | None = None,
    item_type: str = "Service",
    subsidiaries: Sequence[Ref] = (),
    description: str | None = None,
    is_inactive: bool = False,
    created: int | str | None = None,
    last_modified: int | str | None = None,
) -> dict:
    """An ``item`` (a service sale item). Args: id, item_id (the item name/number), display_name,
    income_account and deferred_revenue_account (account refs), external_id (the billing product id
    ``prod_…`` when the item is mapped), item_type ("Service"), subsidiaries, description, is_inactive,
    created, last_modified."""
    return _clean(
        {
            "id": str(id),
            "itemId": item_id,
            "displayName": display_name,
            "itemType": {"id": item_type, "refName": item_type},
            "incomeAccount": ref(income_account),
            "deferredRevenueAccount": ref(deferred_revenue_account),
            "externalId": external_id,
            "subsidiary": _items(ref(s) for s in subsidiaries) if subsidiaries else None,
            "salesDescription": description,
            "isInactive": is_inactive,
            "createdDate": iso_datetime(created),
            "lastModifiedDate": iso_datetime(last_modified),
        }
    )


def department(
    *,
    id: str | int,  # noqa: A002
    name: str,
    subsidiaries: Sequence[Ref] = (),
    parent: Ref = None,
    is_inactive: bool = False,
    last_modified: int | str | None = None,
) -> dict:
    """A ``department``. Args: id, name ("Sales"), subsidiaries, parent, is_inactive, last_modified."""
    return _clean(
        {
            "id": str(id),
            "name": name,
            "parent": ref(parent),
            "subsidiary": _items(ref(s) for s in subsidiaries) if subsidiaries else None,
            "isInactive": is_inactive,
            "lastModifiedDate": iso_datetime(last_modified),
        }
    )


def accounting_period(
    *,
    id: str | int,  # noqa: A002
    period_name: str,
    start_date: str,
    end_date: str,
    closed_subsidiaries: Sequence[Ref] = (),
    open_subsidiaries: Sequence[Ref] = (),
    closed: bool = False,
    is_quarter: bool = False,
    is_year: bool = False,
    is_adjust: bool = False,
    parent: Ref = None,
    closed_on_date: str | None = None,
    last_modified: int | str | None = None,
) -> dict:
    """An ``accountingPeriod``. Args: id, period_name ("Oct 2026"), start_date/end_date ("YYYY-MM-DD"),
    closed_subsidiaries / open_subsidiaries (subsidiary refs), closed (closed for every subsidiary),
    is_quarter, is_year, is_adjust, parent (quarter ref), closed_on_date, last_modified.

    Period close is per subsidiary in NetSuite (the Period Close Checklist runs per subsidiary). The
    sandbox models it with a ``subsidiaryClose`` sublist ``{"items": [{"subsidiary": ref, "closed": bool}]}``
    (not a real REST field); ``closed`` is True only when the period is closed for all subsidiaries, as
    the real ``closed`` flag is. A posting dated in the period for a subsidiary whose line says closed is
    rejected.
    """
    lines = [{"subsidiary": ref(s), "closed": True} for s in closed_subsidiaries]
    lines += [{"subsidiary": ref(s), "closed": False} for s in open_subsidiaries]
    all_closed = closed or (bool(lines) and all(line["closed"] for line in lines))
    return _clean(
        {
            "id": str(id),
            "periodName": period_name,
            "startDate": start_date,
            "endDate": end_date,
            "closed": all_closed,
            "allLocked": all_closed,
            "arLocked": all_closed,
            "isQuarter": is_quarter,
            "isYear": is_year,
            "isAdjust": is_adjust,
            "isPosting": not (is_quarter or is_year),
            "parent": ref(parent),
            "closedOnDate": closed_on_date,
            "subsidiaryClose": _items(lines) if lines else None,
            "lastModifiedDate": iso_datetime(last_modified),
        }
    )


# -- entities -------------------------------------------------------------------------------------------------
def customer(
    *,
    id: str | int,  # noqa: A002
    entity_id: str,
    company_name: str,
    subsidiary: Ref,
    currency: Ref,
    email: str | None = None,
    external_id: str | None = None,
    phone: str | None = None,
    terms: Ref = None,
    is_inactive: bool = False,
    custom_fields: Mapping[str, Any] | None = None,
    created: int | str | None = None,
    last_modified: int | str | None = None,
) -> dict:
    """A ``customer`` (company). Args: id, entity_id ("CUS-00042"), company_name, subsidiary and currency
    refs, email, external_id (e.g. the billing customer id ``cus_…``), phone, terms (ref, e.g. Net 30),
    is_inactive, custom_fields (``custentity_…`` keys, e.g. ``custentity_q2c_crm_company_id``), created
    (→ ``dateCreated``), last_modified."""
    obj = {
        "id": str(id),
        "entityId": entity_id,
        "companyName": company_name,
        "isPerson": False,
        "subsidiary": ref(subsidiary),
        "currency": ref(currency),
        "email": email,
        "phone": phone,
        "externalId": external_id,
        "terms": ref(terms),
        "isInactive": is_inactive,
        "dateCreated": iso_datetime(created),
        "lastModifiedDate": iso_datetime(last_modified if last_modified is not None else created),
    }
    obj.update(custom_fields or {})
    return _clean(obj)


# -- transactions ---------------------------------------------------------------------------------------------
def item_line(
    *,
    item: Ref,
    amount: Money | None = None,
    quantity: Money = 1,
    rate: Money | None = None,
    description: str | None = None,
    department: Ref = None,
    tax_code: Ref = None,
    tax_rate: Money | None = None,
    tax_amount: Money | None = None,
    custom_fields: Mapping[str, Any] | None = None,
) -> dict:
    """One ``item.items[]`` line of an invoice or credit memo. Args: item (ref), amount (defaults to
    quantity × rate), quantity, rate (defaults to amount / quantity), description, department, tax_code
    (ref), tax_rate (percent, → ``taxRate1``), tax_amount (→ ``tax1Amt``; defaults to amount × tax_rate %),
    custom_fields (``custcol_…``). ``line`` numbers and ``grossAmt`` are filled by :func:`finalize`."""
    q = dec(quantity)
    if amount is None:
        amount = money(q * dec(rate))
    if rate is None:
        rate = dec(amount) / q if q else dec(amount)
    obj: dict[str, Any] = {
        "item": ref(item),
        "description": description,
        "quantity": num(q),
        "rate": num(dec(rate)),
        "amount": num(money(amount)),
        "department": ref(department),
        "taxCode": ref(tax_code),
        "taxRate1": num(tax_rate) if tax_rate is not None else None,
        "tax1Amt": num(money(tax_amount)) if tax_amount is not None else None,
    }
    obj.update(custom_fields or {})
    return _clean(obj)


def journal_line(
    *,
    account: Ref,
    debit: Money | None = None,
    credit: Money | None = None,
    memo: str | None = None,
    department: Ref = None,
    entity: Ref = None,
) -> dict:
    """One ``line.items[]`` line of a journal entry: exactly one of debit / credit. Args: account (ref),
    debit, credit, memo, department, entity (customer ref)."""
    return _clean(
        {
            "account": ref(account),
            "debit": num(money(debit)) if debit is not None else None,
            "credit": num(money(credit)) if credit is not None else None,
            "memo": memo,
            "department": ref(department),
            "entity": ref(entity),
        }
    )


def apply_line(
    *,
    doc: Ref,
    amount: Money,
    apply: bool = True,
    ref_num: str | None = None,
    type: str = "Invoice",  # noqa: A002 - NetSuite's field name
) -> dict:
    """One ``apply.items[]`` line of a customer payment or credit memo. Args: doc (the invoice ref),
    amount applied, apply (True), ref_num (the invoice's tranId), type ("Invoice")."""
    return _clean({"doc": ref(doc), "apply": apply, "amount": num(money(amount)), "refNum": ref_num, "type": type})


def _transaction_head(
    record_type: str,
    *,
    id: str | int,  # noqa: A002
    tran_id: str | None,
    external_id: str | None,
    subsidiary: Ref,
    currency: Ref,
    tran_date: str,
    posting_period: Ref,
    memo: str | None,
    billing_id: str | None,
    exchange_rate: Money,
    status: str | None,
    created: int | str | None,
    last_modified: int | str | None,
    custom_fields: Mapping[str, Any] | None,
) -> dict:
    obj: dict[str, Any] = {
        "id": str(id),
        "tranId": tran_id,
        "externalId": external_id,
        "subsidiary": ref(subsidiary),
        "currency": ref(currency),
        "exchangeRate": num(exchange_rate),
        "tranDate": tran_date,
        "postingPeriod": ref(posting_period),
        "memo": memo,
        BILLING_ID_FIELD: billing_id,
        "status": {"id": status} if status else None,
        "createdDate": iso_datetime(created),
        "lastModifiedDate": iso_datetime(last_modified if last_modified is not None else created),
    }
    obj.update(custom_fields or {})
    return obj


def invoice(
    *,
    id: str | int,  # noqa: A002
    entity: Ref,
    subsidiary: Ref,
    currency: Ref,
    tran_date: str,
    lines: Sequence[dict],
    tran_id: str | None = None,
    external_id: str | None = None,
    posting_period: Ref = None,
    due_date: str | None = None,
    memo: str | None = None,
    billing_id: str | None = None,
    amount_paid: Money = 0,
    voided: bool = False,
    exchange_rate: Money = 1,
    account: Ref = None,
    terms: Ref = None,
    created: int | str | None = None,
    last_modified: int | str | None = None,
    custom_fields: Mapping[str, Any] | None = None,
) -> dict:
    """An ``invoice``. Args: id, entity (customer ref), subsidiary, currency, tran_date ("YYYY-MM-DD"),
    lines (from :func:`item_line`), tran_id ("INV-000123"), external_id (``bill-in_…``), posting_period
    (accountingPeriod ref), due_date, memo, billing_id (→ ``custbody_q2c_billing_id``, the billing invoice
    id), amount_paid (sets ``amountPaid``/``amountRemaining`` and the status), voided, exchange_rate,
    account (A/R account ref), terms, created, last_modified, custom_fields (``custbody_…``).
    ``subtotal``, ``taxTotal``, ``total``, ``amountRemaining`` and ``status`` are computed."""
    obj = _transaction_head(
        "invoice",
        id=id,
        tran_id=tran_id,
        external_id=external_id,
        subsidiary=subsidiary,
        currency=currency,
        tran_date=tran_date,
        posting_period=posting_period,
        memo=memo,
        billing_id=billing_id,
        exchange_rate=exchange_rate,
        status="V" if voided else None,
        created=created,
        last_modified=last_modified,
        custom_fields=custom_fields,
    )
    obj.update(
        {
            "entity": ref(entity),
            "dueDate": due_date,
            "account": ref(account),
            "terms": ref(terms),
            "amountPaid": num(money(amount_paid)),
            "item": _items(dict(line) for line in lines),
        }
    )
    return finalize("invoice", _clean(obj))


def credit_memo(
    *,
    id: str | int,  # noqa: A002
    entity: Ref,
    subsidiary: Ref,
    currency: Ref,
    tran_date: str,
    lines: Sequence[dict],
    tran_id: str | None = None,
    external_id: str | None = None,
    created_from: Ref = None,
    applies: Sequence[dict] = (),
    posting_period: Ref = None,
    memo: str | None = None,
    billing_id: str | None = None,
    voided: bool = False,
    exchange_rate: Money = 1,
    account: Ref = None,
    created: int | str | None = None,
    last_modified: int | str | None = None,
    custom_fields: Mapping[str, Any] | None = None,
) -> dict:
    """A ``creditMemo``. Args: as :func:`invoice`, plus created_from (the credited invoice's ref), applies
    (from :func:`apply_line`: invoices it is applied to); billing_id is the credit note id ``cn_…``.
    ``applied``/``unapplied`` and ``status`` (Open / Fully Applied) are computed."""
    obj = _transaction_head(
        "creditMemo",
        id=id,
        tran_id=tran_id,
        external_id=external_id,
        subsidiary=subsidiary,
        currency=currency,
        tran_date=tran_date,
        posting_period=posting_period,
        memo=memo,
        billing_id=billing_id,
        exchange_rate=exchange_rate,
        status="V" if voided else None,
        created=created,
        last_modified=last_modified,
        custom_fields=custom_fields,
    )
    obj.update(
        {
            "entity": ref(entity),
            "createdFrom": ref(created_from),
            "account": ref(account),
            "item": _items(dict(line) for line in lines),
            "apply": _items(dict(a) for a in applies),
        }
    )
    return finalize("creditMemo", _clean(obj))


def customer_payment(
    *,
    id: str | int,  # noqa: A002
    customer: Ref,
    subsidiary: Ref,
    currency: Ref,
    tran_date: str,
    payment: Money,
    applies: Sequence[dict] = (),
    tran_id: str | None = None,
    external_id: str | None = None,
    posting_period: Ref = None,
    memo: str | None = None,
    billing_id: str | None = None,
    account: Ref = None,
    undep_funds: bool = True,
    voided: bool = False,
    exchange_rate: Money = 1,
    created: int | str | None = None,
    last_modified: int | str | None = None,
    custom_fields: Mapping[str, Any] | None = None,
) -> dict:
    """A ``customerPayment``. Args: id, customer (ref), subsidiary, currency, tran_date, payment (the
    amount received), applies (from :func:`apply_line`), tran_id, external_id (``bill-py_…``/``bill-ch_…``),
    posting_period, memo, billing_id (the billing charge/payment id), account (bank account ref when not to
    Undeposited Funds), undep_funds, voided, exchange_rate, created, last_modified, custom_fields.
    ``applied``, ``unapplied`` and ``status`` are computed."""
    obj = _transaction_head(
        "customerPayment",
        id=id,
        tran_id=tran_id,
        external_id=external_id,
        subsidiary=subsidiary,
        currency=currency,
        tran_date=tran_date,
        posting_period=posting_period,
        memo=memo,
        billing_id=billing_id,
        exchange_rate=exchange_rate,
        status="V" if voided else None,
        created=created,
        last_modified=last_modified,
        custom_fields=custom_fields,
    )
    obj.update(
        {
            "customer": ref(customer),
            "payment": num(money(payment)),
            "account": ref(account),
            "undepFunds": undep_funds,
            "apply": _items(dict(a) for a in applies),
        }
    )
    return finalize("customerPayment", _clean(obj))


def journal_entry(
    *,
    id: str | int,  # noqa: A002
    subsidiary: Ref,
    currency: Ref,
    tran_date: str,
    lines: Sequence[dict],
    tran_id: str | None = None,
    external_id: str | None = None,
    posting_period: Ref = None,
    memo: str | None = None,
    billing_id: str | None = None,
    exchange_rate: Money = 1,
    approved: bool = True,
    created: int | str | None = None,
    last_modified: int | str | None = None,
    custom_fields: Mapping[str, Any] | None = None,
) -> dict:
    """A ``journalEntry``. Args: id, subsidiary, currency, tran_date, lines (from :func:`journal_line`,
    debits must equal credits), tran_id ("JE-000001"), external_id, posting_period, memo, billing_id,
    exchange_rate, approved, created, last_modified, custom_fields."""
    obj = _transaction_head(
        "journalEntry",
        id=id,
        tran_id=tran_id,
        external_id=external_id,
        subsidiary=subsidiary,
        currency=currency,
        tran_date=tran_date,
        posting_period=posting_period,
        memo=memo,
        billing_id=billing_id,
        exchange_rate=exchange_rate,
        status="B" if approved else "A",
        created=created,
        last_modified=last_modified,
        custom_fields=custom_fields,
    )
    obj.update({"approved": approved, "line": _items(dict(line) for line in lines)})
    return finalize("journalEntry", _clean(obj))


# -- derived fields -------------------------------------------------------------------------------------------
def sublist_items(record: Mapping[str, Any], name: str) -> list[dict]:
    value = record.get(name)
    if isinstance(value, Mapping):
        return list(value.get("items") or [])
    return []


def finalize(record_type: str, record: dict) -> dict:
    """Recompute what NetSuite derives on save: line numbers and amounts, totals, amount remaining, status.

    Used by the builders and by the server after every create/update, so both compute the same way.
    Explicit statuses that derivation cannot produce (voided, journal approval) are kept.
    """
    if record_type in ("invoice", "creditMemo"):
        subtotal = tax_total = Decimal(0)
        lines = []
        for n, line in enumerate(sublist_items(record, "item"), start=1):
            line = dict(line)
            qty = dec(line.get("quantity", 1))
            if line.get("amount") is None:
                line["amount"] = num(money(qty * dec(line.get("rate"))))
            if line.get("rate") is None:
                line["rate"] = num(dec(line["amount"]) / qty if qty else dec(line["amount"]))
            amount = money(line["amount"])
            tax = money(line.get("tax1Amt", 0))
            if line.get("tax1Amt") is None and line.get("taxRate1") is not None:
                tax = money(amount * dec(line["taxRate1"]) / 100)
                line["tax1Amt"] = num(tax)
            line["line"] = n
            line["quantity"] = num(qty)
            line["grossAmt"] = num(amount + tax)
            subtotal += amount
            tax_total += tax
            lines.append(line)
        record["item"] = {"items": lines}
        total = subtotal + tax_total
        record["subtotal"] = num(subtotal)
        record["taxTotal"] = num(tax_total)
        record["total"] = num(total)
        status_id = (record.get("status") or {}).get("id")
        if record_type == "invoice":
            paid = money(record.get("amountPaid", 0))
            remaining = Decimal(0) if status_id == "V" else max(total - paid, Decimal(0))
            record["amountPaid"] = num(paid)
            record["amountRemaining"] = num(remaining)
            if status_id != "V":
                status_id = "B" if remaining == 0 and total > 0 else "A"
        else:
            applied = _apply_lines(record)
            record["applied"] = num(applied)
            record["unapplied"] = num(max(total - applied, Decimal(0)))
            if status_id != "V":
                status_id = "B" if total > 0 and applied >= total else "A"
        record["status"] = {"id": status_id, "refName": STATUS_LABELS[record_type][status_id]}
    elif record_type == "customerPayment":
        applied = _apply_lines(record)
        payment = money(record.get("payment", 0))
        record["payment"] = num(payment)
        record["applied"] = num(applied)
        record["unapplied"] = num(max(payment - applied, Decimal(0)))
        record["total"] = num(payment)
        status_id = (record.get("status") or {}).get("id")
        if status_id not in ("V", "C"):
            status_id = "B" if record.get("undepFunds", True) else "C"
        record["status"] = {"id": status_id, "refName": STATUS_LABELS[record_type][status_id]}
    elif record_type == "journalEntry":
        lines = []
        for n, line in enumerate(sublist_items(record, "line")):
            line = dict(line)
            line["line"] = n
            for side in ("debit", "credit"):
                if line.get(side) is not None:
                    line[side] = num(money(line[side]))
            lines.append(line)
        record["line"] = {"items": lines}
        record["total"] = num(journal_totals(record)[0])
        status_id = (record.get("status") or {}).get("id") or ("B" if record.get("approved", True) else "A")
        record["status"] = {"id": status_id, "refName": STATUS_LABELS[record_type][status_id]}
    return record


def _apply_lines(record: Mapping[str, Any]) -> Decimal:
    lines = []
    applied = Decimal(0)
    for n, line in enumerate(sublist_items(record, "apply")):
        line = dict(line)
        line["line"] = n
        line.setdefault("apply", True)
        if line.get("amount") is not None:
            line["amount"] = num(money(line["amount"]))
        if line["apply"]:
            applied += money(line.get("amount", 0))
        lines.append(line)
    if isinstance(record, dict) and "apply" in record:
        record["apply"] = {"items": lines}
    return applied


def journal_totals(record: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
    """(total debits, total credits) of a journal entry."""
    debits = sum((money(line.get("debit", 0)) for line in sublist_items(record, "line")), Decimal(0))
    credit_total = sum((money(line.get("credit", 0)) for line in sublist_items(record, "line")), Decimal(0))
    return debits, credit_total
