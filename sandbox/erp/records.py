"""The ERP's record store: create, read, update, delete with NetSuite's business validation.

Records live in the shared :class:`~sandbox.store.DocumentStore` as collections ``rec_<type>`` (the plain
names belong to the SuiteQL tables in the same SQLite file). Every write runs in one SQLite transaction under
the store's write lock: validate, stamp ``lastModifiedDate`` from the sandbox clock, store the record, and
replace its SuiteQL projection, so a committed write is visible to GET, ``eid:`` and SuiteQL together.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.clock import SandboxClock
from sandbox.erp import objects
from sandbox.erp import suiteql_tables as tables
from sandbox.erp.errors import NetSuiteError, invalid_reference, not_found, user_error
from sandbox.store import CollectionSpec, DocumentStore

# reference fields → the record type they point to (used for validation and for the ``links`` of refs)
REFERENCE_TYPES: dict[str, str] = {
    "entity": "customer",
    "customer": "customer",
    "subsidiary": "subsidiary",
    "currency": "currency",
    "postingPeriod": "accountingPeriod",
    "department": "department",
    "account": "account",
    "incomeAccount": "account",
    "deferredRevenueAccount": "account",
    "createdFrom": "invoice",
    "doc": "invoice",
    "item": "item",
}
# references each record type checks on write: top-level fields, then (sublist, line fields)
CHECKED_FIELDS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, ...]]]] = {
    "customer": (("subsidiary", "currency"), {}),
    "invoice": (
        ("entity", "subsidiary", "currency", "postingPeriod", "account", "department"),
        {"item": ("item", "department")},
    ),
    "creditMemo": (
        ("entity", "subsidiary", "currency", "postingPeriod", "account", "createdFrom"),
        {"item": ("item", "department"), "apply": ("doc",)},
    ),
    "customerPayment": (
        ("customer", "subsidiary", "currency", "postingPeriod", "account"),
        {"apply": ("doc",)},
    ),
    "journalEntry": (
        ("subsidiary", "currency", "postingPeriod"),
        {"line": ("account", "department", "entity")},
    ),
    "item": (("incomeAccount", "deferredRevenueAccount"), {}),
    "account": ((), {"subsidiary": ("self",)}),
    "department": (("parent",), {"subsidiary": ("self",)}),
    "subsidiary": (("currency",), {}),
    "currency": ((), {}),
    "accountingPeriod": ((), {}),
}
SUBLISTS: dict[str, tuple[str, ...]] = {
    "invoice": ("item",),
    "creditMemo": ("item", "apply"),
    "customerPayment": ("apply",),
    "journalEntry": ("line",),
    "account": ("subsidiary",),
    "item": ("subsidiary",),
    "department": ("subsidiary",),
    "accountingPeriod": ("subsidiaryClose",),
}
# fields NetSuite computes: ignored when a client sends them
READ_ONLY = {
    "id",
    "links",
    "createdDate",
    "dateCreated",
    "lastModifiedDate",
    "subtotal",
    "taxTotal",
    "total",
    "amountRemaining",
    "amountPaid",
    "applied",
    "unapplied",
}
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_\-]{1,255}$")
DISPLAY_FIELD = {
    "customer": "companyName",
    "subsidiary": "name",
    "currency": "symbol",
    "account": "acctName",
    "item": "itemId",
    "department": "name",
    "accountingPeriod": "periodName",
    "invoice": "tranId",
    "creditMemo": "tranId",
    "customerPayment": "tranId",
    "journalEntry": "tranId",
}
TRANID_PREFIX = {"invoice": "INV", "creditMemo": "CM", "customerPayment": "PYMT", "journalEntry": "JE"}


def collection(record_type: str) -> str:
    return f"rec_{record_type}"


class RecordStore:
    """All ERP records, their validation and their SuiteQL projections."""

    def __init__(self, store: DocumentStore, clock: SandboxClock) -> None:
        self.store = store
        self.clock = clock
        conn = store.conn()
        for record_type in objects.RECORD_TYPES:
            store.register(CollectionSpec(collection(record_type), sort="id", indexed=("externalId",)))
            conn.execute(
                f'CREATE INDEX IF NOT EXISTS "ix_{collection(record_type)}_num" '
                f'ON "{collection(record_type)}" (CAST(id AS INTEGER))'
            )
        tables.create_schema(conn)

    # -- loading ---------------------------------------------------------------------------------------
    def load(self, record_type: str, records: Iterable[dict], *, batch: int = 5000) -> int:
        """Bulk-load fixture records (already in GET shape) with their projections."""
        count = 0
        chunk: list[dict] = []

        def flush() -> None:
            nonlocal count
            if not chunk:
                return
            self.store.put_many(collection(record_type), chunk)
            with self.store.write_lock:
                conn = self.store.conn()
                conn.execute("BEGIN")
                tables.bulk_insert(conn, record_type, chunk)
                conn.execute("COMMIT")
            count += len(chunk)
            chunk.clear()

        for record in records:
            chunk.append(record)
            if len(chunk) >= batch:
                flush()
        flush()
        return count

    # -- reads -----------------------------------------------------------------------------------------
    def get(self, record_type: str, key: str) -> dict | None:
        record_id = self.resolve_id(record_type, key)
        return self.store.get(collection(record_type), record_id) if record_id else None

    def resolve_id(self, record_type: str, key: str) -> str | None:
        """Internal id from ``123`` or ``eid:EXTERNAL``; None when no such record."""
        if key.startswith("eid:"):
            rows, _ = self.store.page(collection(record_type), where={"externalId": key[4:]}, limit=1)
            if not rows:
                return None
            return str(objects_id(rows[0]))
        if not key.isdigit():
            return None
        return key if self.store.get_raw(collection(record_type), key) is not None else None

    def exists(self, record_type: str, record_id: str) -> bool:
        return self.store.get_raw(collection(record_type), str(record_id)) is not None

    def list_ids(self, record_type: str, limit: int, offset: int) -> tuple[list[str], int]:
        conn = self.store.conn()
        name = collection(record_type)
        total = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        rows = conn.execute(
            f'SELECT id FROM "{name}" ORDER BY CAST(id AS INTEGER) LIMIT ? OFFSET ?', (limit, offset)
        ).fetchall()
        return [r[0] for r in rows], total

    # -- writes ----------------------------------------------------------------------------------------
    def create(self, record_type: str, body: Mapping[str, Any], *, external_id: str | None = None) -> str:
        with self.store.write_lock:
            record = {k: v for k, v in body.items() if k not in READ_ONLY}
            if external_id is not None:
                record["externalId"] = external_id
            self._check_external_id(record_type, record.get("externalId"), None)
            record["id"] = self._next_id(record_type)
            now = objects.iso_datetime(self.clock.now())
            if record_type == "customer":
                record["dateCreated"] = now
            else:
                record["createdDate"] = now
            self._defaults(record_type, record)
            return self._commit(record_type, record, previous=None)

    def update(self, record_type: str, record_id: str, body: Mapping[str, Any], *, replace: Iterable[str] = ()) -> str:
        """PATCH semantics: fields merge over the record; sublist lines are APPENDED unless the sublist is
        named in ``replace`` (NetSuite's ``?replace=item``), in which case they replace the old lines."""
        replace = set(replace)
        with self.store.write_lock:
            current = self.store.get(collection(record_type), record_id)
            if current is None:
                raise not_found()
            record = dict(current)
            for key, value in body.items():
                if key in READ_ONLY:
                    continue
                if key in SUBLISTS.get(record_type, ()) and isinstance(value, Mapping):
                    new_lines = [dict(line) for line in value.get("items") or []]
                    if key in replace:
                        record[key] = {"items": new_lines}
                    else:
                        old = objects.sublist_items(record, key)
                        record[key] = {"items": old + new_lines}
                elif value is None:
                    record.pop(key, None)
                else:
                    record[key] = value
            for name in replace:
                if name not in body and name in SUBLISTS.get(record_type, ()):
                    record[name] = {"items": []}  # replace= with no lines sent empties the sublist
            if record.get("externalId") != current.get("externalId"):
                self._check_external_id(record_type, record.get("externalId"), record_id)
            return self._commit(record_type, record, previous=current)

    def delete(self, record_type: str, record_id: str) -> None:
        with self.store.write_lock:
            current = self.store.get(collection(record_type), record_id)
            if current is None:
                raise not_found()
            conn = self.store.conn()
            conn.execute("BEGIN")
            try:
                self.store.delete(collection(record_type), record_id)
                tables.delete_rows(conn, record_type, record_id)
                self._refresh_applied_invoices(record_type, current, None)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # -- internals -------------------------------------------------------------------------------------
    def _commit(self, record_type: str, record: dict, previous: dict | None) -> str:
        self._validate(record_type, record)
        record["lastModifiedDate"] = objects.iso_datetime(self.clock.now())
        record = objects.finalize(record_type, record)
        if record_type == "invoice" and previous is not None:
            record = objects.finalize(record_type, {**record, "amountPaid": previous.get("amountPaid", 0)})
        conn = self.store.conn()
        conn.execute("BEGIN")
        try:
            self.store.put(collection(record_type), record)
            tables.replace_rows(conn, record_type, record["id"], tables.project(record_type, record))
            self._refresh_applied_invoices(record_type, previous, record)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return record["id"]

    def _refresh_applied_invoices(self, record_type: str, previous: dict | None, record: dict | None) -> None:
        """Payments and credit memos change what their invoices still owe (status Open → Paid In Full)."""
        if record_type not in ("customerPayment", "creditMemo"):
            return
        invoice_ids = {
            str(line["doc"]["id"])
            for rec in (previous, record)
            if rec
            for line in objects.sublist_items(rec, "apply")
            if line.get("doc")
        }
        conn = self.store.conn()
        for invoice_id in sorted(invoice_ids):
            inv = self.store.get(collection("invoice"), invoice_id)
            if inv is None:
                continue
            inv["amountPaid"] = objects.num(tables.amount_applied(conn, invoice_id))
            inv["lastModifiedDate"] = objects.iso_datetime(self.clock.now())
            inv = objects.finalize("invoice", inv)
            self.store.put(collection("invoice"), inv)
            tables.replace_rows(conn, "invoice", invoice_id, tables.project("invoice", inv))

    def _next_id(self, record_type: str) -> str:
        family = objects.TRANSACTION_TYPES if record_type in objects.TRANSACTION_TYPES else (record_type,)
        conn = self.store.conn()
        top = 0
        for t in family:
            row = conn.execute(f'SELECT max(CAST(id AS INTEGER)) FROM "{collection(t)}"').fetchone()
            top = max(top, row[0] or 0)
        return str(top + 1)

    def _check_external_id(self, record_type: str, external_id: Any, own_id: str | None) -> None:
        if external_id is None:
            return
        if not isinstance(external_id, str) or not EXTERNAL_ID.match(external_id):
            raise user_error(
                f"Invalid external ID {external_id!s}: use only letters, digits, underscores and hyphens.", "externalId"
            )
        existing = self.resolve_id(record_type, f"eid:{external_id}")
        if existing is not None and existing != own_id:
            raise user_error(
                f"A record with the external ID {external_id} already exists (DUP_RCRD). "
                f"Use PUT /{record_type}/eid:{external_id} to update it.",
                "externalId",
            )

    def _defaults(self, record_type: str, record: dict) -> None:
        """What NetSuite fills in on create: subsidiary/currency from the customer, today's date, a tranId."""
        if record_type in objects.TRANSACTION_TYPES:
            entity_field = "customer" if record_type == "customerPayment" else "entity"
            entity = record.get(entity_field)
            if isinstance(entity, Mapping) and entity.get("id") is not None:
                cust = self.store.get(collection("customer"), str(entity["id"]))
                if cust is not None:
                    record.setdefault("subsidiary", cust.get("subsidiary"))
                    record.setdefault("currency", cust.get("currency"))
            record.setdefault("tranDate", self.clock.now_datetime().strftime("%Y-%m-%d"))
            record.setdefault("tranId", f"{TRANID_PREFIX[record_type]}{int(record['id']):06d}")
            record.setdefault("exchangeRate", 1)

    def _validate(self, record_type: str, record: dict) -> None:
        top, sublists = CHECKED_FIELDS.get(record_type, ((), {}))
        for field in top:
            self._check_ref(record, field, REFERENCE_TYPES.get(field, record_type), field)
        for sublist, fields in sublists.items():
            value = record.get(sublist)
            if value is not None and not isinstance(value, Mapping):
                raise NetSuiteError(400, "INVALID_CONTENT", f"Invalid value for sublist {sublist}.", path=sublist)
            for i, line in enumerate(objects.sublist_items(record, sublist)):
                for field in fields:
                    if field == "self":  # a multi-select sublist of subsidiaries: the line is the reference
                        self._check_ref_value(line, "subsidiary", "subsidiary", f"{sublist}.items[{i}]")
                        continue
                    target = REFERENCE_TYPES.get(field, "customer")
                    self._check_ref(line, field, target, f"{sublist}.items[{i}].{field}")
        if record_type == "customer":
            for field in ("companyName", "subsidiary"):
                if not record.get(field):
                    raise user_error(f"Please enter value(s) for: {field}", field)
        if record_type in ("invoice", "creditMemo"):
            if not record.get("entity"):
                raise user_error("Please enter value(s) for: Customer", "entity")
            if not objects.sublist_items(record, "item"):
                raise user_error("You must enter at least one line item for this transaction.", "item")
            for i, line in enumerate(objects.sublist_items(record, "item")):
                if not line.get("item"):
                    raise user_error("Please enter value(s) for: Item", f"item.items[{i}].item")
        if record_type == "customerPayment" and not record.get("customer"):
            raise user_error("Please enter value(s) for: Customer", "customer")
        if record_type == "journalEntry":
            self._validate_journal(record)
        if record_type in objects.TRANSACTION_TYPES:
            self._validate_period(record)

    def _check_ref(self, holder: Mapping[str, Any], field: str, target: str, path: str) -> None:
        value = holder.get(field)
        if value is None:
            return
        self._check_ref_value(value, field, target, path)
        # fill refName as NetSuite does when the client sent only the id
        if isinstance(value, dict) and "refName" not in value and isinstance(holder, dict):
            referenced = self.store.get(collection(target), str(value["id"]))
            display = referenced.get(DISPLAY_FIELD.get(target, "name")) if referenced else None
            if display is not None:
                value["refName"] = str(display)

    def _check_ref_value(self, value: Any, field: str, target: str, path: str) -> None:
        if not isinstance(value, Mapping) or ("id" not in value and "externalId" not in value):
            raise NetSuiteError(
                400, "INVALID_CONTENT", f"Invalid value for the field {field}: expected an object with id.", path=path
            )
        if "id" not in value:
            resolved = self.resolve_id(target, f"eid:{value['externalId']}")
            if resolved is None:
                raise invalid_reference(str(value["externalId"]), field, path)
            if isinstance(value, dict):
                value["id"] = resolved
                value.pop("externalId", None)
            return
        ident = str(value["id"])
        if not ident.isdigit() or not self.exists(target, ident):
            raise invalid_reference(ident, field, path)
        if target == "customer":
            # NetSuite refuses new transactions for an inactive customer as an invalid reference
            referenced = self.store.get(collection(target), ident)
            if referenced and referenced.get("isInactive"):
                raise user_error(f"Invalid entity reference key {ident}.", path)

    def _validate_journal(self, record: dict) -> None:
        lines = objects.sublist_items(record, "line")
        if len(lines) < 2:
            raise user_error("You must enter at least two line items for this transaction.", "line")
        for i, line in enumerate(lines):
            if not line.get("account"):
                raise user_error("Please enter value(s) for: Account", f"line.items[{i}].account")
            has_debit = line.get("debit") is not None
            has_credit = line.get("credit") is not None
            if has_debit == has_credit:
                raise user_error("Each line must have either a debit or a credit amount.", f"line.items[{i}]")
            amount = objects.dec(line.get("debit") if has_debit else line.get("credit"))
            if amount < 0:
                raise user_error("Journal line amounts cannot be negative.", f"line.items[{i}]")
        debits, credit_total = objects.journal_totals(record)
        if debits != credit_total:
            raise user_error(
                f"The total of the debit lines ({objects.num(debits)}) must equal the total of the credit lines "
                f"({objects.num(credit_total)}). This transaction is not in balance.",
                "line",
            )

    def _validate_period(self, record: dict) -> None:
        """Resolve the posting period from the date when absent, and refuse closed periods per subsidiary."""
        tran_date = record.get("tranDate")
        if not isinstance(tran_date, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", tran_date):
            raise NetSuiteError(400, "INVALID_CONTENT", f"Invalid date value: {tran_date}", path="tranDate")
        period = None
        if record.get("postingPeriod"):
            period = self.store.get(collection("accountingPeriod"), str(record["postingPeriod"]["id"]))
        else:
            period = self._period_for(tran_date)
            if period is not None:
                record["postingPeriod"] = {"id": period["id"], "refName": period.get("periodName")}
        if period is None:
            return
        subsidiary_id = str((record.get("subsidiary") or {}).get("id", ""))
        closed = bool(period.get("closed"))
        for line in objects.sublist_items(period, "subsidiaryClose"):
            if str((line.get("subsidiary") or {}).get("id")) == subsidiary_id:
                closed = bool(line.get("closed"))
        if closed:
            raise user_error(
                f"The accounting period {period.get('periodName')} is closed for this subsidiary. "
                "You cannot post to a closed period.",
                "postingPeriod",
            )

    def _period_for(self, tran_date: str) -> dict | None:
        conn = self.store.conn()
        row = conn.execute(
            "SELECT id FROM \"accountingperiod\" WHERE isposting = 'T' AND startdate <= ? AND enddate >= ? "
            "ORDER BY id LIMIT 1",
            (tran_date + "T00:00:00Z", tran_date + "T00:00:00Z"),
        ).fetchone()
        return self.store.get(collection("accountingPeriod"), str(row[0])) if row else None


def objects_id(raw_json: str) -> str:
    """The internal id of a stored record's JSON text."""
    return str(json.loads(raw_json)["id"])
