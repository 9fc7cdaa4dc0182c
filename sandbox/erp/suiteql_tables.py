"""Relational projections of the stored records, mirroring NetSuite's SuiteQL (analytics) tables.

SuiteQL does not read REST records; it reads the analytics data source, whose tables and columns differ
(lowercase names, ``T``/``F`` booleans, transaction types as codes, sales lines signed as credits). Every
write projects the record into these tables in the same SQLite transaction, so SuiteQL sees writes at once.

Storage choices (the query layer renders them back to SuiteQL's forms): ids are INTEGER, amounts NUMERIC
(exact decimal text in, shortest repr out), dates and timestamps ``YYYY-MM-DDTHH:MM:SSZ`` text so that
``TO_DATE(...)`` comparisons order correctly. A reference column ``x`` has a sibling ``x__df`` holding the
display text ``BUILTIN.DF(x)`` returns.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sandbox.erp.objects import STATUS_LABELS, TRANSACTION_TYPE_CODE, dec, money, sublist_items

# table → (column, SQLite type); ids INTEGER, amounts NUMERIC, everything else TEXT
TABLES: dict[str, list[tuple[str, str]]] = {
    "customer": [
        ("id", "INTEGER PRIMARY KEY"),
        ("entityid", "TEXT"),
        ("companyname", "TEXT"),
        ("altname", "TEXT"),
        ("email", "TEXT"),
        ("phone", "TEXT"),
        ("externalid", "TEXT"),
        ("isperson", "TEXT"),
        ("isinactive", "TEXT"),
        ("subsidiary", "INTEGER"),
        ("subsidiary__df", "TEXT"),
        ("currency", "INTEGER"),
        ("currency__df", "TEXT"),
        ("terms", "INTEGER"),
        ("datecreated", "TEXT"),
        ("lastmodifieddate", "TEXT"),
    ],
    "transaction": [
        ("id", "INTEGER PRIMARY KEY"),
        ("tranid", "TEXT"),
        ("type", "TEXT"),
        ("type__df", "TEXT"),
        ("recordtype", "TEXT"),
        ("externalid", "TEXT"),
        ("entity", "INTEGER"),
        ("entity__df", "TEXT"),
        ("trandate", "TEXT"),
        ("duedate", "TEXT"),
        ("postingperiod", "INTEGER"),
        ("postingperiod__df", "TEXT"),
        ("currency", "INTEGER"),
        ("currency__df", "TEXT"),
        ("exchangerate", "NUMERIC"),
        ("foreigntotal", "NUMERIC"),
        ("foreignamountpaid", "NUMERIC"),
        ("foreignamountunpaid", "NUMERIC"),
        ("status", "TEXT"),
        ("status__df", "TEXT"),
        ("voided", "TEXT"),
        ("posting", "TEXT"),
        ("approvalstatus", "INTEGER"),
        ("memo", "TEXT"),
        ("createdfrom", "INTEGER"),
        ("createdfrom__df", "TEXT"),
        ("custbody_q2c_billing_id", "TEXT"),
        ("createddate", "TEXT"),
        ("lastmodifieddate", "TEXT"),
    ],
    "transactionline": [
        ("id", "INTEGER"),
        ("transaction", "INTEGER"),
        ("uniquekey", "INTEGER"),
        ("linesequencenumber", "INTEGER"),
        ("mainline", "TEXT"),
        ("taxline", "TEXT"),
        ("item", "INTEGER"),
        ("item__df", "TEXT"),
        ("quantity", "NUMERIC"),
        ("rate", "NUMERIC"),
        ("foreignamount", "NUMERIC"),
        ("netamount", "NUMERIC"),
        ("creditforeignamount", "NUMERIC"),
        ("debitforeignamount", "NUMERIC"),
        ("expenseaccount", "INTEGER"),
        ("expenseaccount__df", "TEXT"),
        ("department", "INTEGER"),
        ("department__df", "TEXT"),
        ("subsidiary", "INTEGER"),
        ("subsidiary__df", "TEXT"),
        ("entity", "INTEGER"),
        ("entity__df", "TEXT"),
        ("memo", "TEXT"),
    ],
    "transactionaccountingline": [
        ("transaction", "INTEGER"),
        ("transactionline", "INTEGER"),
        ("accountingbook", "INTEGER"),
        ("account", "INTEGER"),
        ("account__df", "TEXT"),
        ("debit", "NUMERIC"),
        ("credit", "NUMERIC"),
        ("amount", "NUMERIC"),
        ("netamount", "NUMERIC"),
        ("posting", "TEXT"),
    ],
    "previoustransactionlinelink": [
        ("previousdoc", "INTEGER"),
        ("previousline", "INTEGER"),
        ("previoustype", "TEXT"),
        ("nextdoc", "INTEGER"),
        ("nextline", "INTEGER"),
        ("nexttype", "TEXT"),
        ("linktype", "TEXT"),
        ("foreignamount", "NUMERIC"),
        ("linkdate", "TEXT"),
    ],
    "subsidiary": [
        ("id", "INTEGER PRIMARY KEY"),
        ("name", "TEXT"),
        ("legalname", "TEXT"),
        ("country", "TEXT"),
        ("currency", "INTEGER"),
        ("currency__df", "TEXT"),
        ("parent", "INTEGER"),
        ("iselimination", "TEXT"),
        ("isinactive", "TEXT"),
        ("lastmodifieddate", "TEXT"),
    ],
    "currency": [
        ("id", "INTEGER PRIMARY KEY"),
        ("name", "TEXT"),
        ("symbol", "TEXT"),
        ("exchangerate", "NUMERIC"),
        ("isbasecurrency", "TEXT"),
        ("currencyprecision", "INTEGER"),
        ("isinactive", "TEXT"),
    ],
    "account": [
        ("id", "INTEGER PRIMARY KEY"),
        ("acctnumber", "TEXT"),
        ("accountsearchdisplayname", "TEXT"),
        ("fullname", "TEXT"),
        ("accttype", "TEXT"),
        ("description", "TEXT"),
        ("isinactive", "TEXT"),
        ("lastmodifieddate", "TEXT"),
    ],
    "item": [
        ("id", "INTEGER PRIMARY KEY"),
        ("itemid", "TEXT"),
        ("displayname", "TEXT"),
        ("itemtype", "TEXT"),
        ("externalid", "TEXT"),
        ("incomeaccount", "INTEGER"),
        ("incomeaccount__df", "TEXT"),
        ("deferredrevenueaccount", "INTEGER"),
        ("deferredrevenueaccount__df", "TEXT"),
        ("isinactive", "TEXT"),
        ("createddate", "TEXT"),
        ("lastmodifieddate", "TEXT"),
    ],
    "department": [
        ("id", "INTEGER PRIMARY KEY"),
        ("name", "TEXT"),
        ("parent", "INTEGER"),
        ("isinactive", "TEXT"),
        ("lastmodifieddate", "TEXT"),
    ],
    "accountingperiod": [
        ("id", "INTEGER PRIMARY KEY"),
        ("periodname", "TEXT"),
        ("startdate", "TEXT"),
        ("enddate", "TEXT"),
        ("closed", "TEXT"),
        ("alllocked", "TEXT"),
        ("arlocked", "TEXT"),
        ("isquarter", "TEXT"),
        ("isyear", "TEXT"),
        ("isadjust", "TEXT"),
        ("isposting", "TEXT"),
        ("parent", "INTEGER"),
        ("closedondate", "TEXT"),
        ("lastmodifieddate", "TEXT"),
    ],
}

# which table(s) a record type projects into, and the column holding its id there
OWNED_ROWS: dict[str, list[tuple[str, str]]] = {
    "customer": [("customer", "id")],
    "subsidiary": [("subsidiary", "id")],
    "currency": [("currency", "id")],
    "account": [("account", "id")],
    "item": [("item", "id")],
    "department": [("department", "id")],
    "accountingPeriod": [("accountingperiod", "id")],
    **{
        t: [
            ("transaction", "id"),
            ("transactionline", "transaction"),
            ("transactionaccountingline", "transaction"),
            ("previoustransactionlinelink", "nextdoc"),
        ]
        for t in TRANSACTION_TYPE_CODE
    },
}

INDEXES = [
    ("transaction", "lastmodifieddate"),
    ("transaction", "externalid"),
    ("transaction", "entity"),
    ("transaction", "type"),
    ("transaction", "trandate"),
    ("transactionline", "transaction"),
    ("transactionaccountingline", "transaction"),
    ("previoustransactionlinelink", "previousdoc"),
    ("previoustransactionlinelink", "nextdoc"),
    ("customer", "lastmodifieddate"),
    ("customer", "externalid"),
]

TYPE_LABEL = {"CustInvc": "Invoice", "CustCred": "Credit Memo", "CustPymt": "Payment", "Journal": "Journal"}
RECORD_TYPE_LOWER = {
    "invoice": "invoice",
    "creditMemo": "creditmemo",
    "customerPayment": "customerpayment",
    "journalEntry": "journalentry",
}

Row = dict[str, Any]


def create_schema(conn: sqlite3.Connection) -> None:
    for table, columns in TABLES.items():
        cols = ", ".join(f'"{name}" {kind}' for name, kind in columns)
        conn.execute(f'CREATE TABLE IF NOT EXISTS "{table}" ({cols})')
    for table, column in INDEXES:
        conn.execute(f'CREATE INDEX IF NOT EXISTS "ix_sq_{table}_{column}" ON "{table}" ("{column}")')
    # NetSuite exposes the same links from the other side
    conn.execute('CREATE VIEW IF NOT EXISTS "nexttransactionlinelink" AS SELECT * FROM "previoustransactionlinelink"')


def _tf(value: Any) -> str:
    return "T" if value else "F"


def _ts(value: str | None) -> str | None:
    """Dates and timestamps in one sortable form: ``YYYY-MM-DDTHH:MM:SSZ``."""
    if not value:
        return None
    if len(value) == 10:
        return value + "T00:00:00Z"
    return value


def _rid(value: Mapping | None) -> int | None:
    if not value or value.get("id") in (None, ""):
        return None
    try:
        return int(value["id"])
    except (TypeError, ValueError):
        return None


def _df(value: Mapping | None) -> str | None:
    return value.get("refName") if value else None


def _amount(value: Any) -> str | None:
    """Exact decimal text; SQLite's NUMERIC affinity stores it as the nearest number (exact for money)."""
    return None if value is None else str(money(value).normalize())


def project(record_type: str, record: Mapping[str, Any]) -> dict[str, list[Row]]:
    """The SuiteQL rows one record owns, by table."""
    rid = int(record["id"])
    modified = _ts(record.get("lastModifiedDate"))
    if record_type == "customer":
        return {
            "customer": [
                {
                    "id": rid,
                    "entityid": record.get("entityId"),
                    "companyname": record.get("companyName"),
                    "altname": record.get("companyName"),
                    "email": record.get("email"),
                    "phone": record.get("phone"),
                    "externalid": record.get("externalId"),
                    "isperson": _tf(record.get("isPerson")),
                    "isinactive": _tf(record.get("isInactive")),
                    "subsidiary": _rid(record.get("subsidiary")),
                    "subsidiary__df": _df(record.get("subsidiary")),
                    "currency": _rid(record.get("currency")),
                    "currency__df": _df(record.get("currency")),
                    "terms": _rid(record.get("terms")),
                    "datecreated": _ts(record.get("dateCreated")),
                    "lastmodifieddate": modified,
                }
            ]
        }
    if record_type == "subsidiary":
        return {
            "subsidiary": [
                {
                    "id": rid,
                    "name": record.get("name"),
                    "legalname": record.get("legalName"),
                    "country": (record.get("country") or {}).get("id"),
                    "currency": _rid(record.get("currency")),
                    "currency__df": _df(record.get("currency")),
                    "parent": _rid(record.get("parent")),
                    "iselimination": _tf(record.get("isElimination")),
                    "isinactive": _tf(record.get("isInactive")),
                    "lastmodifieddate": modified,
                }
            ]
        }
    if record_type == "currency":
        return {
            "currency": [
                {
                    "id": rid,
                    "name": record.get("name"),
                    "symbol": record.get("symbol"),
                    "exchangerate": _amount(record.get("exchangeRate")),
                    "isbasecurrency": _tf(record.get("isBaseCurrency")),
                    "currencyprecision": record.get("currencyPrecision"),
                    "isinactive": _tf(record.get("isInactive")),
                }
            ]
        }
    if record_type == "account":
        name = record.get("acctName")
        number = record.get("acctNumber")
        return {
            "account": [
                {
                    "id": rid,
                    "acctnumber": number,
                    "accountsearchdisplayname": f"{number} {name}" if number else name,
                    "fullname": name,
                    "accttype": (record.get("acctType") or {}).get("id"),
                    "description": record.get("description"),
                    "isinactive": _tf(record.get("isInactive")),
                    "lastmodifieddate": modified,
                }
            ]
        }
    if record_type == "item":
        return {
            "item": [
                {
                    "id": rid,
                    "itemid": record.get("itemId"),
                    "displayname": record.get("displayName"),
                    "itemtype": (record.get("itemType") or {}).get("id"),
                    "externalid": record.get("externalId"),
                    "incomeaccount": _rid(record.get("incomeAccount")),
                    "incomeaccount__df": _df(record.get("incomeAccount")),
                    "deferredrevenueaccount": _rid(record.get("deferredRevenueAccount")),
                    "deferredrevenueaccount__df": _df(record.get("deferredRevenueAccount")),
                    "isinactive": _tf(record.get("isInactive")),
                    "createddate": _ts(record.get("createdDate")),
                    "lastmodifieddate": modified,
                }
            ]
        }
    if record_type == "department":
        return {
            "department": [
                {
                    "id": rid,
                    "name": record.get("name"),
                    "parent": _rid(record.get("parent")),
                    "isinactive": _tf(record.get("isInactive")),
                    "lastmodifieddate": modified,
                }
            ]
        }
    if record_type == "accountingPeriod":
        return {
            "accountingperiod": [
                {
                    "id": rid,
                    "periodname": record.get("periodName"),
                    "startdate": _ts(record.get("startDate")),
                    "enddate": _ts(record.get("endDate")),
                    "closed": _tf(record.get("closed")),
                    "alllocked": _tf(record.get("allLocked")),
                    "arlocked": _tf(record.get("arLocked")),
                    "isquarter": _tf(record.get("isQuarter")),
                    "isyear": _tf(record.get("isYear")),
                    "isadjust": _tf(record.get("isAdjust")),
                    "isposting": _tf(record.get("isPosting", True)),
                    "parent": _rid(record.get("parent")),
                    "closedondate": _ts(record.get("closedOnDate")),
                    "lastmodifieddate": modified,
                }
            ]
        }
    if record_type in TRANSACTION_TYPE_CODE:
        return _project_transaction(record_type, record)
    return {}


def _tax_lines(record_type: str, record: Mapping[str, Any], common: Row, entity: Any, *, start: int) -> list[Row]:
    """NetSuite's legacy tax: one ``taxline = 'T'`` line per tax rate, holding the sum of the item lines' tax."""
    by_rate: dict[Decimal, Decimal] = {}
    for line in sublist_items(record, "item"):
        tax = money(line.get("tax1Amt", 0))
        if tax:
            rate = dec(line.get("taxRate1", 0))
            by_rate[rate] = by_rate.get(rate, Decimal(0)) + tax
    rid = int(record["id"])
    out: list[Row] = []
    for n, (rate, tax) in enumerate(sorted(by_rate.items()), start=start):
        signed = -tax if record_type == "invoice" else tax
        out.append(
            {
                **common,
                "id": n,
                "uniquekey": rid * 1000 + n,
                "linesequencenumber": n,
                "mainline": "F",
                "taxline": "T",
                "rate": _amount(rate),
                "foreignamount": str(signed.normalize()),
                "netamount": str(signed.normalize()),
                "creditforeignamount": _amount(tax) if record_type == "invoice" else None,
                "debitforeignamount": _amount(tax) if record_type == "creditMemo" else None,
                "entity": _rid(entity),
                "entity__df": _df(entity),
                "memo": f"Tax {rate.normalize()}%",
            }
        )
    return out


def _project_transaction(record_type: str, record: Mapping[str, Any]) -> dict[str, list[Row]]:
    rid = int(record["id"])
    code = TRANSACTION_TYPE_CODE[record_type]
    status = (record.get("status") or {}).get("id")
    entity = record.get("entity") or record.get("customer")
    subsidiary = record.get("subsidiary")
    total = dec(record.get("total", record.get("payment", 0)))
    header: Row = {
        "id": rid,
        "tranid": record.get("tranId"),
        "type": code,
        "type__df": TYPE_LABEL[code],
        "recordtype": RECORD_TYPE_LOWER[record_type],
        "externalid": record.get("externalId"),
        "entity": _rid(entity),
        "entity__df": _df(entity),
        "trandate": _ts(record.get("tranDate")),
        "duedate": _ts(record.get("dueDate")),
        "postingperiod": _rid(record.get("postingPeriod")),
        "postingperiod__df": _df(record.get("postingPeriod")),
        "currency": _rid(record.get("currency")),
        "currency__df": _df(record.get("currency")),
        "exchangerate": _amount(record.get("exchangeRate", 1)),
        "foreigntotal": _amount(total),
        "foreignamountpaid": _amount(record.get("amountPaid")) if record_type == "invoice" else None,
        "foreignamountunpaid": _amount(record.get("amountRemaining")) if record_type == "invoice" else None,
        "status": status,
        "status__df": f"{TYPE_LABEL[code]} : {STATUS_LABELS[record_type].get(status, status)}" if status else None,
        "voided": _tf(status == "V"),
        "posting": _tf(status != "V" and (record_type != "journalEntry" or status == "B")),
        "approvalstatus": 2 if status != "A" or record_type != "journalEntry" else 1,
        "memo": record.get("memo"),
        "createdfrom": _rid(record.get("createdFrom")),
        "createdfrom__df": _df(record.get("createdFrom")),
        "custbody_q2c_billing_id": record.get("custbody_q2c_billing_id"),
        "createddate": _ts(record.get("createdDate")),
        "lastmodifieddate": _ts(record.get("lastModifiedDate")),
    }
    common = {"transaction": rid, "subsidiary": _rid(subsidiary), "subsidiary__df": _df(subsidiary)}
    # line 0 is the main line: the transaction's A/R (or bank) side, positive for money owed to us
    sign = Decimal(-1) if record_type == "creditMemo" else Decimal(1)
    lines: list[Row] = [
        {
            **common,
            "id": 0,
            "uniquekey": rid * 1000,
            "linesequencenumber": 0,
            "mainline": "T",
            "taxline": "F",
            "foreignamount": str((sign * total).normalize()),
            "netamount": str((sign * total).normalize()),
            "entity": _rid(entity),
            "entity__df": _df(entity),
            "memo": record.get("memo"),
        }
    ]
    accounting: list[Row] = []
    links: list[Row] = []
    if record_type in ("invoice", "creditMemo"):
        for n, line in enumerate(sublist_items(record, "item"), start=1):
            amount = money(line.get("amount", 0))
            qty = dec(line.get("quantity", 1))
            # sales lines are credits: NetSuite stores them negative on invoices, positive on credit memos
            signed = -amount if record_type == "invoice" else amount
            lines.append(
                {
                    **common,
                    "id": n,
                    "uniquekey": rid * 1000 + n,
                    "linesequencenumber": n,
                    "mainline": "F",
                    "taxline": "F",
                    "item": _rid(line.get("item")),
                    "item__df": _df(line.get("item")),
                    "quantity": str((-qty if record_type == "invoice" else qty).normalize()),
                    "rate": _amount(line.get("rate")),
                    "foreignamount": str(signed.normalize()),
                    "netamount": str(signed.normalize()),
                    "creditforeignamount": _amount(amount) if record_type == "invoice" else None,
                    "debitforeignamount": _amount(amount) if record_type == "creditMemo" else None,
                    "department": _rid(line.get("department")),
                    "department__df": _df(line.get("department")),
                    "entity": _rid(entity),
                    "entity__df": _df(entity),
                    "memo": line.get("description"),
                }
            )
        lines.extend(_tax_lines(record_type, record, common, entity, start=len(lines)))
    if record_type == "journalEntry":
        for n, line in enumerate(sublist_items(record, "line"), start=1):
            debit = money(line["debit"]) if line.get("debit") is not None else None
            credit = money(line["credit"]) if line.get("credit") is not None else None
            amount = (debit or Decimal(0)) - (credit or Decimal(0))
            lines.append(
                {
                    **common,
                    "id": n,
                    "uniquekey": rid * 1000 + n,
                    "linesequencenumber": n,
                    "mainline": "F",
                    "taxline": "F",
                    "foreignamount": str(amount.normalize()),
                    "netamount": str(amount.normalize()),
                    "debitforeignamount": _amount(debit),
                    "creditforeignamount": _amount(credit),
                    "expenseaccount": _rid(line.get("account")),
                    "expenseaccount__df": _df(line.get("account")),
                    "department": _rid(line.get("department")),
                    "department__df": _df(line.get("department")),
                    "entity": _rid(line.get("entity")),
                    "entity__df": _df(line.get("entity")),
                    "memo": line.get("memo"),
                }
            )
            accounting.append(
                {
                    "transaction": rid,
                    "transactionline": n,
                    "accountingbook": 1,
                    "account": _rid(line.get("account")),
                    "account__df": _df(line.get("account")),
                    "debit": _amount(debit),
                    "credit": _amount(credit),
                    "amount": str(amount.normalize()),
                    "netamount": str(amount.normalize()),
                    "posting": _tf(status == "B"),
                }
            )
    if record_type in ("customerPayment", "creditMemo"):
        for line in sublist_items(record, "apply"):
            if not line.get("apply", True) or _rid(line.get("doc")) is None:
                continue
            links.append(
                {
                    "previousdoc": _rid(line.get("doc")),
                    "previousline": 0,
                    "previoustype": "CustInvc",
                    "nextdoc": rid,
                    "nextline": 0,
                    "nexttype": TRANSACTION_TYPE_CODE[record_type],
                    "linktype": "Payment",
                    "foreignamount": _amount(line.get("amount", 0)),
                    "linkdate": _ts(record.get("tranDate")),
                }
            )
    return {
        "transaction": [header],
        "transactionline": lines,
        "transactionaccountingline": accounting,
        "previoustransactionlinelink": links,
    }


def _insert_sql(table: str) -> str:
    cols = [name for name, _ in TABLES[table]]
    quoted = ", ".join(f'"{c}"' for c in cols)
    marks = ", ".join("?" for _ in cols)
    return f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})'


def _values(table: str, row: Row) -> tuple:
    return tuple(row.get(name) for name, _ in TABLES[table])


def replace_rows(conn: sqlite3.Connection, record_type: str, record_id: str, rows: dict[str, list[Row]]) -> None:
    """Replace the rows one record owns (inside the caller's transaction)."""
    delete_rows(conn, record_type, record_id)
    for table, table_rows in rows.items():
        if table_rows:
            conn.executemany(_insert_sql(table), [_values(table, r) for r in table_rows])


def delete_rows(conn: sqlite3.Connection, record_type: str, record_id: str) -> None:
    for table, column in OWNED_ROWS.get(record_type, []):
        conn.execute(f'DELETE FROM "{table}" WHERE "{column}" = ?', (int(record_id),))


def bulk_insert(conn: sqlite3.Connection, record_type: str, records: list[Mapping[str, Any]]) -> None:
    """Insert the projections of freshly loaded records (no prior rows to replace)."""
    by_table: dict[str, list[tuple]] = {}
    for record in records:
        for table, table_rows in project(record_type, record).items():
            by_table.setdefault(table, []).extend(_values(table, r) for r in table_rows)
    for table, values in by_table.items():
        conn.executemany(_insert_sql(table), values)


def amount_applied(conn: sqlite3.Connection, invoice_id: str) -> Decimal:
    """Total applied to an invoice by payments and credit memos (from the link table)."""
    total = Decimal(0)
    for (amount,) in conn.execute(
        'SELECT foreignamount FROM "previoustransactionlinelink" WHERE previousdoc = ?', (int(invoice_id),)
    ):
        total += dec(amount)
    return money(total)
