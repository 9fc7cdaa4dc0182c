"""The ``publish`` tables of ``warehouse.duckdb`` as the push reads them (the contract is in README.md).

The file is opened read-only: dbt is its only writer. A row whose ``payload_hash`` is not the sha256 of its
``payload``, or whose payload is not a JSON object carrying the row's ``externalId``, is quarantined here, so
a broken mart can never send something nobody validated.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

WAREHOUSE_FILE = "warehouse.duckdb"
# push order: what a record references is created before it
PUSH_ORDER = ("customer", "invoice", "creditMemo", "customerPayment", "journalEntry")
TABLES = {
    "customer": "erp_customers",
    "invoice": "erp_invoices",
    "creditMemo": "erp_credit_memos",
    "customerPayment": "erp_customer_payments",
    "journalEntry": "erp_journal_entries",
}
# the sublists a complete payload carries: an update replaces them all (NetSuite appends otherwise)
SUBLISTS = {
    "customer": (),
    "invoice": ("item",),
    "creditMemo": ("item", "apply"),
    "customerPayment": ("apply",),
    "journalEntry": ("line",),
}
READY, QUARANTINED = "ready", "quarantined"


@dataclass(frozen=True)
class PublishRow:
    record_type: str
    external_id: str
    subject_key: str | None
    payload: str
    payload_hash: str
    validation_status: str
    quarantine_reason: str | None
    depends_on: tuple[str, ...]
    in_erp: bool = False  # the ERP already has a record for this billing object (found by its billing key)

    @property
    def key(self) -> tuple[str, str]:
        return (self.record_type, self.external_id)

    @property
    def ready(self) -> bool:
        return self.validation_status == READY


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _checked(row: PublishRow, table_type: str) -> PublishRow:
    """The row, quarantined when it contradicts the contract."""
    if not row.ready:
        return row
    reason = None
    if row.record_type != table_type:
        reason = f"record_type {row.record_type!r} in the {TABLES[table_type]} table"
    elif sha256_hex(row.payload) != row.payload_hash:
        reason = "payload_hash is not the sha256 of payload"
    else:
        try:
            body = json.loads(row.payload)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            reason = "payload is not a JSON object"
        elif body.get("externalId") != row.external_id:
            reason = "payload externalId differs from external_id"
    if reason is None:
        return row
    return PublishRow(**{**row.__dict__, "validation_status": QUARANTINED, "quarantine_reason": f"q2c push: {reason}"})


def read_publish_rows(data_dir: Path, external_ids: set[str] | None = None) -> dict[str, list[PublishRow]]:
    """Rows per record type, in push order; a publish table that does not exist yet gives no rows."""
    path = Path(data_dir) / WAREHOUSE_FILE
    out: dict[str, list[PublishRow]] = {t: [] for t in PUSH_ORDER}
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run `q2c build` first")
    with duckdb.connect(str(path), read_only=True) as con:
        present = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'publish'"
            ).fetchall()
        }
        for record_type in PUSH_ORDER:
            table = TABLES[record_type]
            if table not in present:
                continue
            columns = {
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns where table_schema = 'publish' "
                    "and table_name = ?",
                    [table],
                ).fetchall()
            }
            in_erp = "coalesce(is_in_erp, false)" if "is_in_erp" in columns else "false"
            sql = (
                "select record_type, external_id, subject_key, payload, payload_hash, validation_status, "
                f'quarantine_reason, depends_on, {in_erp} from publish."{table}"'
            )
            args: list[object] = []
            if external_ids is not None:
                sql += " where list_contains(?, external_id)"
                args.append(sorted(external_ids))
            for rec_type, ext_id, subject, payload, phash, status, reason, depends, present_in_erp in con.execute(
                sql + " order by external_id", args
            ).fetchall():
                row = PublishRow(
                    rec_type or record_type,
                    ext_id,
                    subject,
                    payload,
                    phash,
                    status,
                    reason,
                    tuple(depends or ()),
                    bool(present_in_erp),
                )
                out[record_type].append(_checked(row, record_type))
    return out
