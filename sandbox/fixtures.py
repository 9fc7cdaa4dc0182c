"""The fixture folder: the on-disk form of a scenario, in the real APIs' own shapes.

Layout (one JSON Lines file per collection, one object per line, exactly as the API's GET returns it)::

    DIR/manifest.json              {"generator_version", "seed", "scale", "as_of", "counts": {"billing/invoices": n}}
    DIR/expected_exceptions.json   [{"exception_type": ..., "subject_key": ...}, ...]   (ground truth)
    DIR/billing/<collection>.jsonl Stripe objects; <collection> is the URL segment: customers, invoices, ...
    DIR/crm/<object type>.jsonl    HubSpot CRM v3 objects: companies, contacts, deals, products, line_items;
                                   crm/associations.jsonl holds v4 association rows
    DIR/erp/<record type>.jsonl    NetSuite records: customer, invoice, creditMemo, ... (sublists expanded)

Anyone can bring their own data by writing such a folder by hand; only the files present are loaded.
Writing is deterministic: keys sorted, compact separators, ``\n`` line ends, so the same scenario gives a
byte-identical folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

SYSTEMS = ("billing", "crm", "erp")

# Every collection a generated folder holds, per system, in the order the generator writes them.
COLLECTIONS: dict[str, tuple[str, ...]] = {
    "billing": (
        "customers",
        "products",
        "prices",
        "subscriptions",
        "subscription_items",
        "invoices",
        "invoiceitems",
        "invoice_payments",
        "payment_intents",
        "charges",
        "refunds",
        "credit_notes",
        "balance_transactions",
        "events",
    ),
    "crm": ("companies", "contacts", "deals", "products", "line_items", "associations"),
    "erp": (
        "subsidiary",
        "currency",
        "account",
        "item",
        "department",
        "accountingPeriod",
        "customer",
        "invoice",
        "creditMemo",
        "customerPayment",
        "journalEntry",
    ),
}

MANIFEST = "manifest.json"
GROUND_TRUTH = "expected_exceptions.json"


def dumps(obj: Any) -> str:
    """Canonical JSON text: sorted keys, no whitespace, UTF-8 kept as is."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def collection_path(root: Path, system: str, collection: str) -> Path:
    if system not in SYSTEMS:
        raise ValueError(f"unknown system {system!r}; expected one of {SYSTEMS}")
    return Path(root) / system / f"{collection}.jsonl"


def write_collection(root: Path, system: str, collection: str, objects: Iterable[dict]) -> int:
    """Write one collection; returns the number of objects written."""
    path = collection_path(root, system, collection)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for obj in objects:
            out.write(dumps(obj))
            out.write("\n")
            count += 1
    return count


def read_collection(root: Path, system: str, collection: str) -> Iterator[dict]:
    """Yield the objects of one collection; nothing if the file is absent."""
    path = collection_path(root, system, collection)
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc


def list_collections(root: Path, system: str) -> list[str]:
    folder = Path(root) / system
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.jsonl"))


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_manifest(root: Path) -> dict:
    path = Path(root) / MANIFEST
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def read_ground_truth(root: Path) -> list[dict]:
    path = Path(root) / GROUND_TRUTH
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))
