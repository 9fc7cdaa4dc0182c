"""Writes ``warehouse.duckdb`` with a ``publish`` schema following the posting contract, with postings chosen
per test (an ERP company of our own, exact edge cases) so the push is tested on its own; the round trip through
the real dbt publish models is tests/dbt_project/test_posting_rejected.py."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

import duckdb

from reverse_etl.publish_rows import TABLES, sha256_hex

US_USD = {"subsidiary": {"id": "1"}, "currency": {"id": "1"}}


@dataclass
class Posting:
    record_type: str
    external_id: str
    subject_key: str
    body: dict
    depends_on: list[str] | None = None
    validation_status: str = "ready"
    quarantine_reason: str | None = None
    in_erp: bool = False  # the ERP already holds a record for its billing object (dbt's is_in_erp)
    extra: dict = field(default_factory=dict)

    @property
    def payload(self) -> str:
        # compact, as DuckDB's json_object writes it
        return json.dumps({"externalId": self.external_id, **self.body}, sort_keys=True, separators=(",", ":"))

    def by_internal_id(self, ids: dict[str, str]) -> Posting:
        """This posting as the build writes it once the ERP reported the ids of what it references (external id →
        internal id): each ``{"externalId": …}`` reference in ``ids`` becomes ``{"id": …}``, and no dependency is
        left open."""

        def resolved(value):
            if isinstance(value, dict):
                if set(value) == {"externalId"} and value["externalId"] in ids:
                    return {"id": ids[value["externalId"]]}
                return {k: resolved(v) for k, v in value.items()}
            if isinstance(value, list):
                return [resolved(v) for v in value]
            return value

        return replace(self, body=resolved(self.body), depends_on=[])


def _amount(value: str) -> float | int:
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


def customer(n: int, **over) -> Posting:
    body = {"companyName": f"Customer {n}", "email": f"ap{n}@example.test", **US_USD, **over}
    return Posting("customer", f"bill-cus_{n:04d}", f"cus_{n:04d}", body)


def invoice(n: int, *, lines: int = 2, rate: str = "12.5", customer_n: int | None = None, **over) -> Posting:
    cust = customer_n if customer_n is not None else n
    items = [{"item": {"id": "20"}, "quantity": i + 1, "rate": _amount(rate)} for i in range(lines)]
    body = {
        "entity": {"externalId": f"bill-cus_{cust:04d}"},
        **US_USD,
        "tranDate": "2026-10-05",
        "custbody_q2c_billing_id": f"in_{n:04d}",
        "item": {"items": items},
        **over,
    }
    return Posting("invoice", f"bill-in_{n:04d}", f"in_{n:04d}", body, depends_on=[f"bill-cus_{cust:04d}"])


def payment(n: int, amount: str = "10") -> Posting:
    body = {
        "customer": {"externalId": f"bill-cus_{n:04d}"},
        **US_USD,
        "tranDate": "2026-10-20",
        "payment": _amount(amount),
        "apply": {"items": [{"doc": {"externalId": f"bill-in_{n:04d}"}, "apply": True, "amount": _amount(amount)}]},
    }
    return Posting("customerPayment", f"bill-py_{n:04d}", f"py_{n:04d}", body, depends_on=[f"bill-in_{n:04d}"])


def credit_memo(n: int, amount: str = "5") -> Posting:
    body = {
        "entity": {"externalId": f"bill-cus_{n:04d}"},
        **US_USD,
        "tranDate": "2026-10-25",
        "createdFrom": {"externalId": f"bill-in_{n:04d}"},
        "item": {"items": [{"item": {"id": "20"}, "quantity": 1, "rate": _amount(amount)}]},
        "apply": {"items": [{"doc": {"externalId": f"bill-in_{n:04d}"}, "apply": True, "amount": _amount(amount)}]},
    }
    return Posting("creditMemo", f"bill-cn_{n:04d}", f"cn_{n:04d}", body, depends_on=[f"bill-in_{n:04d}"])


def journal(n: int, amount: str = "100", *, lines: int = 2) -> Posting:
    half = [{"account": {"id": "12"}, "debit": _amount(amount), "memo": f"release {i}"} for i in range(lines // 2)]
    other = [{"account": {"id": "11"}, "credit": _amount(amount), "memo": f"revenue {i}"} for i in range(lines // 2)]
    body = {**US_USD, "tranDate": "2026-10-31", "memo": f"revenue recognition {n}", "line": {"items": half + other}}
    return Posting("journalEntry", f"q2c-revrec-{n:04d}", f"revrec-{n:04d}", body)


def company_postings(count: int) -> list[Posting]:
    """``count`` customers, each with an invoice; every other one paid, every third credited; a journal each."""
    out: list[Posting] = []
    for n in range(1, count + 1):
        out += [customer(n), invoice(n), journal(n)]
        if n % 2 == 0:
            out.append(payment(n))
        if n % 3 == 0:
            out.append(credit_memo(n))
    return out


def write_warehouse(data_dir: Path, postings: list[Posting], exceptions: dict[str, str] | None = None) -> Path:
    """(Re)write ``warehouse.duckdb`` with one publish table per record type, as dbt would, and optionally
    ``reconciliation.exceptions`` (exception_id → subject_key)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "warehouse.duckdb"
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema publish")
        for record_type, table in TABLES.items():
            con.execute(
                f"create table publish.{table} (external_id varchar primary key, record_type varchar not null, "
                "payload varchar not null, payload_hash varchar not null, validation_status varchar not null, "
                "quarantine_reason varchar, depends_on varchar[], subject_key varchar not null, is_in_erp boolean)"
            )
            rows = [
                (
                    p.external_id,
                    p.record_type,
                    p.payload,
                    sha256_hex(p.payload),
                    p.validation_status,
                    p.quarantine_reason,
                    p.depends_on,
                    p.subject_key,
                    p.in_erp,
                )
                for p in postings
                if p.record_type == record_type
            ]
            if rows:
                con.executemany(f"insert into publish.{table} values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        if exceptions is not None:
            con.execute("create schema reconciliation")
            con.execute("create table reconciliation.exceptions (exception_id varchar, subject_key varchar)")
            con.executemany("insert into reconciliation.exceptions values (?, ?)", list(exceptions.items()))
    return path
