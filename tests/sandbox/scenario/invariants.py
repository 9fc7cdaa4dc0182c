"""Checks every generated scenario must pass, shared by the S tests and the slow M test."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sandbox.fixtures import collection_path, read_ground_truth, read_manifest
from sandbox.scenario import ground_truth as gt
from sandbox.scenario.writer import COLLECTIONS

EVENT_WINDOW = 30 * 86_400


def load(root: Path, system: str, collection: str) -> list[dict]:
    with collection_path(root, system, collection).open(encoding="utf-8") as lines:
        return [json.loads(line, parse_float=Decimal) for line in lines]


def as_of(root: Path) -> int:
    return int(datetime.fromisoformat(read_manifest(root)["as_of"].replace("Z", "+00:00")).timestamp())


def iso_seconds(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def check_manifest(root: Path) -> None:
    manifest = read_manifest(root)
    assert set(manifest) == {"generator_version", "seed", "scale", "as_of", "counts"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["as_of"])
    expected_keys = {f"{system}/{c}" for system, cs in COLLECTIONS.items() for c in cs}
    assert set(manifest["counts"]) == expected_keys
    for key, count in manifest["counts"].items():
        system, collection = key.split("/")
        with collection_path(root, system, collection).open(encoding="utf-8") as lines:
            assert sum(1 for _ in lines) == count, key


def subject_subsidiaries(root: Path) -> dict[str, str]:
    """Every possible subject key → its subsidiary code, derived from the generated data only."""
    customers = {c["id"]: c["metadata"]["subsidiary"] for c in load(root, "billing", "customers")}
    out = dict(customers)
    for sub in load(root, "billing", "subscriptions"):
        out[sub["id"]] = customers[sub["customer"]]
    for inv in load(root, "billing", "invoices"):
        out[inv["id"]] = customers[inv["customer"]]
        for line in inv["lines"]["data"]:
            product = ((line.get("pricing") or {}).get("price_details") or {}).get("product")
            if product:
                out.setdefault(f"users:{product}", set()).add(customers[inv["customer"]])  # type: ignore[union-attr]
    for charge in load(root, "billing", "charges"):
        out[charge["id"]] = customers[charge["customer"]]
    for note in load(root, "billing", "credit_notes"):
        out[note["id"]] = customers[note["customer"]]
    companies = {c["id"]: c["properties"]["subsidiary"] for c in load(root, "crm", "companies")}
    for row in load(root, "crm", "associations"):
        if row["fromObjectType"] == "deals" and row["toObjectType"] == "companies":
            out[row["fromObjectId"]] = companies[row["toObjectId"]]
    erp_subsidiary = {
        s["id"]: {"US": "US", "GB": "UK", "DE": "DE"}[s["country"]["id"]] for s in load(root, "erp", "subsidiary")
    }
    for record in load(root, "erp", "invoice"):
        out.setdefault(record["id"], erp_subsidiary[record["subsidiary"]["id"]])
    return out


def check_ground_truth(root: Path, minimum_per_subsidiary: int = 2) -> None:
    truth = read_ground_truth(root)
    pairs = [(r["exception_type"], r["subject_key"]) for r in truth]
    assert pairs == sorted(pairs), "ground truth is sorted"
    assert len({s for _, s in pairs}) == len(pairs), "one pair per subject"
    subsidiaries = subject_subsidiaries(root)
    per: Counter[tuple[str, str]] = Counter()
    for code, subject in pairs:
        assert code in gt.CATALOG
        assert re.fullmatch(gt.SUBJECT_PATTERNS[code], subject), (code, subject)
        if code == gt.PRODUCT_UNMAPPED:
            users = subsidiaries[f"users:{subject}"]
            assert len(users) == 1, (subject, users)  # type: ignore[arg-type]
            per[(code, next(iter(users)))] += 1  # type: ignore[call-overload]
        else:
            per[(code, subsidiaries[subject])] += 1
    for code in gt.CATALOG:
        for sub in ("US", "UK", "DE"):
            assert per[(code, sub)] >= minimum_per_subsidiary, (code, sub, per[(code, sub)])


def check_billing_integrity(root: Path) -> None:
    customers = {c["id"] for c in load(root, "billing", "customers")}
    products = {p["id"] for p in load(root, "billing", "products")}
    prices = {p["id"]: p for p in load(root, "billing", "prices")}
    assert all(p["product"] in products for p in prices.values())
    subscriptions = load(root, "billing", "subscriptions")
    assert all(s["customer"] in customers for s in subscriptions)
    items = {i["id"] for i in load(root, "billing", "subscription_items")}
    assert all(i["id"] in items and i["price"]["id"] in prices for s in subscriptions for i in s["items"]["data"])
    invoices = {}
    for inv in load(root, "billing", "invoices"):
        invoices[inv["id"]] = inv
        assert inv["customer"] in customers
        lines = inv["lines"]["data"]
        assert not inv["lines"]["has_more"], "fixtures hold every line"
        tax = sum(t["amount"] for line in lines for t in line["taxes"])
        assert inv["subtotal"] == sum(line["amount"] for line in lines)
        assert inv["total"] == inv["subtotal"] + tax
        assert sum(t["amount"] for t in inv["total_taxes"]) == tax
        assert inv["total"] > 0
        for key in ("total", "subtotal", "amount_due", "amount_paid", "amount_remaining"):
            assert type(inv[key]) is int, key
        for line in lines:
            assert type(line["amount"]) is int
            price = ((line.get("pricing") or {}).get("price_details") or {}).get("price")
            assert price is None or price in prices
    for item in load(root, "billing", "invoiceitems"):
        assert item["customer"] in customers and (item["invoice"] is None or item["invoice"] in invoices)
    intents = {p["id"]: p for p in load(root, "billing", "payment_intents")}
    charges = {c["id"]: c for c in load(root, "billing", "charges")}
    for link in load(root, "billing", "invoice_payments"):
        assert link["invoice"] in invoices and link["payment"]["payment_intent"] in intents
    for charge in charges.values():
        assert charge["payment_intent"] in intents and type(charge["amount"]) is int
        assert charge["amount_refunded"] <= charge["amount"]
    refunds = {r["id"]: r for r in load(root, "billing", "refunds")}
    assert all(r["charge"] in charges for r in refunds.values())
    for note in load(root, "billing", "credit_notes"):
        assert note["invoice"] in invoices and note["customer"] == invoices[note["invoice"]]["customer"]
        assert note["total"] == sum(line["amount"] for line in note["lines"]["data"]) + sum(
            t["amount"] for line in note["lines"]["data"] for t in line["taxes"]
        )
        assert all(r["refund"] in refunds for r in note["refunds"])
    sources = set(charges) | set(refunds)
    assert all(bt["source"] in sources for bt in load(root, "billing", "balance_transactions"))


def check_crm_integrity(root: Path) -> None:
    ids = {t: {o["id"] for o in load(root, "crm", t)} for t in ("companies", "contacts", "deals", "line_items")}
    for row in load(root, "crm", "associations"):
        assert row["fromObjectId"] in ids[row["fromObjectType"]], row
        assert row["toObjectId"] in ids[row["toObjectType"]], row
    products = {p["id"] for p in load(root, "crm", "products")}
    for line in load(root, "crm", "line_items"):
        assert line["properties"]["hs_product_id"] in products
    for obj_type in ("companies", "contacts", "deals", "line_items", "products"):
        for obj in load(root, "crm", obj_type):
            assert all(v is None or isinstance(v, str) for v in obj["properties"].values())


def check_erp_integrity(root: Path) -> None:
    ref = {
        t: {r["id"] for r in load(root, "erp", t)}
        for t in ("subsidiary", "currency", "account", "item", "department", "accountingPeriod", "customer")
    }
    invoices = {r["id"] for r in load(root, "erp", "invoice")}
    transactions: list[dict] = []
    for record_type in ("invoice", "creditMemo", "customerPayment", "journalEntry"):
        for record in load(root, "erp", record_type):
            transactions.append(record)
            assert record["subsidiary"]["id"] in ref["subsidiary"]
            assert record["currency"]["id"] in ref["currency"]
            assert record["postingPeriod"]["id"] in ref["accountingPeriod"]
            entity = record.get("entity") or record.get("customer")
            assert entity is None or entity["id"] in ref["customer"]
            for line in (record.get("item") or {}).get("items", []):
                assert line["item"]["id"] in ref["item"]
                assert "department" not in line or line["department"]["id"] in ref["department"]
            for line in (record.get("apply") or {}).get("items", []):
                assert line["doc"]["id"] in invoices
            if record_type == "journalEntry":
                lines = record["line"]["items"]
                assert sum(Decimal(str(x.get("debit", 0))) for x in lines) == sum(
                    Decimal(str(x.get("credit", 0))) for x in lines
                )
                assert all(x["account"]["id"] in ref["account"] for x in lines)
            if "account" in record:
                assert record["account"]["id"] in ref["account"]
    ids = [r["id"] for r in transactions]
    assert len(ids) == len(set(ids)), "transactions share one internal-id sequence"
    external = Counter((r.get("externalId")) for r in transactions if r.get("externalId"))
    assert max(external.values(), default=1) == 1, "externalIds are unique"
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", e) for e in external)


def check_time(root: Path) -> None:
    now = as_of(root)
    for collection in (
        "customers",
        "products",
        "prices",
        "subscriptions",
        "invoices",
        "invoiceitems",
        "charges",
        "refunds",
        "credit_notes",
        "balance_transactions",
        "payment_intents",
        "invoice_payments",
    ):
        for obj in load(root, "billing", collection):
            assert obj.get("created", obj.get("date", 0)) <= now, (collection, obj["id"])
            for t in (obj.get("status_transitions") or {}).values():
                assert t is None or t <= now
    events = load(root, "billing", "events")
    assert events, "the last 30 days have events"
    assert all(now - EVENT_WINDOW <= e["created"] <= now for e in events)
    for collection in ("companies", "contacts", "deals", "line_items"):
        for obj in load(root, "crm", collection):
            assert iso_seconds(obj["createdAt"]) <= now and iso_seconds(obj["updatedAt"]) <= now
    for record_type in ("customer", "invoice", "creditMemo", "customerPayment", "journalEntry"):
        for record in load(root, "erp", record_type):
            for key in ("createdDate", "dateCreated", "lastModifiedDate"):
                if key in record:
                    assert iso_seconds(record[key]) <= now, (record_type, record["id"], key)


def check_all(root: Path, minimum_per_subsidiary: int = 2) -> None:
    check_manifest(root)
    check_ground_truth(root, minimum_per_subsidiary)
    check_billing_integrity(root)
    check_crm_integrity(root)
    check_erp_integrity(root)
    check_time(root)
