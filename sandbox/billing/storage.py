"""Where the billing sandbox keeps its objects: one indexed store table per Stripe collection, plus a
child table for invoice and credit-note lines (which have no ``created`` and page in their own order).

Invoices and credit notes are stored with only their first :data:`INVOICE_LINES_EMBEDDED` lines embedded,
as Stripe serves them; every line lives in ``lines`` keyed by (parent, position) for the ``.../lines`` lists.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sandbox.billing.objects import INVOICE_LINES_EMBEDDED
from sandbox.fixtures import dumps, read_collection
from sandbox.store import CollectionSpec, DocumentStore


@dataclass(frozen=True)
class Collection:
    """One Stripe collection: its URL segment, the noun its errors use, and how it is stored."""

    name: str
    noun: str
    sort: str = "created"
    indexed: tuple[str, ...] = ()


COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in (
        Collection("customers", "customer", indexed=("email",)),
        Collection("products", "product", indexed=("active",)),
        Collection("prices", "price", indexed=("product", "active", "currency", "type")),
        Collection("subscriptions", "subscription", indexed=("customer", "status")),
        Collection("subscription_items", "subscription_item", indexed=("subscription",)),
        Collection(
            "invoices",
            "invoice",
            indexed=("customer", "status", "collection_method", "parent.subscription_details.subscription"),
        ),
        Collection("invoiceitems", "invoiceitem", sort="date", indexed=("customer", "invoice")),
        Collection("invoice_payments", "invoice_payment", indexed=("invoice", "payment.payment_intent", "status")),
        Collection("payment_intents", "payment_intent", indexed=("customer",)),
        Collection("charges", "charge", indexed=("customer", "payment_intent")),
        Collection("refunds", "refund", indexed=("charge", "payment_intent")),
        Collection("credit_notes", "credit_note", indexed=("customer", "invoice")),
        Collection("balance_transactions", "balance_transaction", indexed=("type", "source", "currency")),
        Collection("events", "event", indexed=("type",)),
    )
}

PREFIXES: dict[str, str] = {
    "cus": "customers",
    "prod": "products",
    "price": "prices",
    "sub": "subscriptions",
    "si": "subscription_items",
    "in": "invoices",
    "ii": "invoiceitems",
    "inpay": "invoice_payments",
    "pi": "payment_intents",
    "ch": "charges",
    "py": "charges",
    "re": "refunds",
    "cn": "credit_notes",
    "txn": "balance_transactions",
    "evt": "events",
}
"""Id prefix → collection, for expanding a reference by its id."""

LINE_PARENTS = ("invoices", "credit_notes")


def collection_of(obj_id: str) -> str | None:
    return PREFIXES.get(obj_id.split("_", 1)[0])


class BillingStore:
    """The billing collections on one SQLite file (a :class:`DocumentStore`) plus the lines table."""

    def __init__(self, path: Path) -> None:
        self.docs = DocumentStore(path)
        for c in COLLECTIONS.values():
            self.docs.register(CollectionSpec(c.name, sort=c.sort, indexed=c.indexed))
        with self.docs.write_lock:
            conn = self.docs.conn()
            conn.execute(
                "CREATE TABLE IF NOT EXISTS lines (parent TEXT NOT NULL, pos INTEGER NOT NULL, id TEXT NOT NULL,"
                " body TEXT NOT NULL, PRIMARY KEY (parent, pos))"
            )
            conn.execute("CREATE INDEX IF NOT EXISTS ix_lines_id ON lines (parent, id)")

    # -- objects -------------------------------------------------------------------------------------
    def get(self, collection: str, obj_id: str) -> dict | None:
        return self.docs.get(collection, obj_id)

    def get_raw(self, collection: str, obj_id: str) -> str | None:
        return self.docs.get_raw(collection, obj_id)

    def put(self, collection: str, obj: dict) -> dict:
        """Store one object; an invoice or credit note's full line list goes to the lines table."""
        if collection in LINE_PARENTS:
            obj = self._split_lines(obj)
        return self.docs.put(collection, obj)

    def load(self, collection: str, objects: Iterable[dict]) -> int:
        if collection in LINE_PARENTS:
            objects = (self._split_lines(o, bulk=True) for o in objects)
        return self.docs.put_many(collection, objects)

    def _split_lines(self, obj: dict, *, bulk: bool = False) -> dict:
        lines = obj.get("lines") or {}
        data = lines.get("data") or []
        if lines.get("has_more"):
            return obj  # already in served form: the full list is in the lines table
        rows = [(obj["id"], pos, line["id"], dumps(line)) for pos, line in enumerate(data)]
        conn = self.docs.conn()
        with self.docs.write_lock:
            if not bulk:
                conn.execute("DELETE FROM lines WHERE parent = ?", (obj["id"],))
            conn.executemany("INSERT OR REPLACE INTO lines (parent, pos, id, body) VALUES (?, ?, ?, ?)", rows)
        embedded = data[:INVOICE_LINES_EMBEDDED]
        return {**obj, "lines": {**lines, "data": embedded, "has_more": len(data) > len(embedded)}}

    # -- lines ---------------------------------------------------------------------------------------
    def line_position(self, parent: str, line_id: str) -> int | None:
        row = (
            self.docs.conn().execute("SELECT pos FROM lines WHERE parent = ? AND id = ?", (parent, line_id)).fetchone()
        )
        return row[0] if row else None

    def lines_page(
        self, parent: str, *, after: int | None = None, before: int | None = None, limit: int = 10
    ) -> tuple[list[str], bool]:
        """A page of a parent's lines in their own order; ``after``/``before`` are positions."""
        conds, params = ["parent = ?"], [parent]
        if after is not None:
            conds.append("pos > ?")
            params.append(after)
        if before is not None:
            conds.append("pos < ?")
            params.append(before)
        direction = "DESC" if before is not None else "ASC"
        sql = f"SELECT body FROM lines WHERE {' AND '.join(conds)} ORDER BY pos {direction} LIMIT ?"
        rows = [r[0] for r in self.docs.conn().execute(sql, [*params, limit + 1])]
        has_more = len(rows) > limit
        rows = rows[:limit]
        if before is not None:
            rows.reverse()
        return rows, has_more

    def all_lines(self, parent: str) -> list[dict]:
        rows = self.docs.conn().execute("SELECT body FROM lines WHERE parent = ? ORDER BY pos", (parent,))
        return [json.loads(r[0]) for r in rows]

    def with_all_lines(self, obj: dict) -> dict:
        """The object with its full line list (what builders and amount calculations need)."""
        lines = self.all_lines(obj["id"])
        return {**obj, "lines": {**obj["lines"], "data": lines, "has_more": False}}

    def iter_all(self, collection: str) -> Iterator[dict]:
        return self.docs.iter_all(collection)


def load_fixtures(store: BillingStore, fixtures: Path | None) -> dict[str, int]:
    """Load every billing collection file present; subscription items also come from subscriptions'
    embedded ``items`` (Stripe embeds them all), unless a subscription_items file is given."""
    counts: dict[str, int] = {}
    if fixtures is None:
        return counts
    has_items_file = (Path(fixtures) / "billing" / "subscription_items.jsonl").exists()
    for name in COLLECTIONS:
        if name == "subscription_items" and not has_items_file:
            counts[name] = store.load(name, _embedded_items(fixtures))
            continue
        counts[name] = store.load(name, read_collection(fixtures, "billing", name))
    return counts


def _embedded_items(fixtures: Path) -> Iterator[dict]:
    for sub in read_collection(fixtures, "billing", "subscriptions"):
        yield from (sub.get("items") or {}).get("data") or []
