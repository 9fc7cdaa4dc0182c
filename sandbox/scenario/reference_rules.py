"""The README's detection rules as plain Python over a fixture folder: the executable spec of the ground truth.

Tests run it on generated scenarios and require its findings to equal ``expected_exceptions.json`` exactly
(precision and recall 100%). The dbt reconciliation implements the same rules in SQL; where they disagree,
this file and README.md are the reference. In-memory and unoptimised: meant for S and M scenarios.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sandbox.fixtures import collection_path, read_manifest
from sandbox.scenario import ground_truth as gt
from sandbox.scenario.company import GRACE_SECONDS

TOLERANCE = Decimal("0.01")
"""Amounts compare in major units; a difference of one minor unit or less is rounding, not drift."""
EXPONENT = {"usd": 2, "gbp": 2, "eur": 2, "jpy": 0, "kwd": 3}
ANNUALISE = {"month": 12, "year": 1, "week": 52, "day": 365}


def _load(root: Path, system: str, collection: str) -> list[dict]:
    path = collection_path(root, system, collection)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line, parse_float=Decimal) for line in lines if line.strip()]


def major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-EXPONENT[currency.lower()])


def billing_key(record: dict) -> str | None:
    """The billing id behind an ERP transaction: externalId without ``bill-``, else the custom field."""
    external = record.get("externalId")
    if isinstance(external, str) and external.startswith("bill-"):
        return external[len("bill-") :]
    return record.get("custbody_q2c_billing_id")


def reconcile(root: Path, now: int | None = None) -> list[tuple[str, str]]:
    """Every (exception_type, subject_key) the rules find in the fixture folder at ``now`` (default: as_of)."""
    root = Path(root)
    if now is None:
        now = int(datetime.fromisoformat(read_manifest(root)["as_of"].replace("Z", "+00:00")).timestamp())
    settled = now - GRACE_SECONDS
    found: list[tuple[str, str]] = []
    b = {
        c: _load(root, "billing", c)
        for c in ("customers", "products", "subscriptions", "invoices", "invoice_payments", "charges", "credit_notes")
    }
    crm = {c: _load(root, "crm", c) for c in ("companies", "deals")}
    erp = {
        c: _load(root, "erp", c)
        for c in ("subsidiary", "item", "accountingPeriod", "customer", "invoice", "creditMemo", "customerPayment")
    }

    # customers -------------------------------------------------------------------------------------------
    live_companies = {c["id"] for c in crm["companies"] if not c.get("archived")}
    merged_away = {
        m for c in crm["companies"] for m in (c["properties"].get("hs_merged_object_ids") or "").split(";") if m
    }
    erp_customer_by_key = {
        c["externalId"][len("bill-") :]: c for c in erp["customer"] if str(c.get("externalId", "")).startswith("bill-")
    }
    customers = {c["id"]: c for c in b["customers"]}
    quarantined_customers = set()
    for customer in b["customers"]:
        company = (customer.get("metadata") or {}).get("hubspot_company_id")
        if company in merged_away:
            found.append((gt.CUSTOMER_MERGED_STALE_REF, customer["id"]))
        elif company not in live_companies:
            found.append((gt.CUSTOMER_UNMATCHED, customer["id"]))
        elif customer["id"] not in erp_customer_by_key:
            quarantined_customers.add(customer["id"])
            if customer["created"] <= settled:
                found.append((gt.CUSTOMER_UNMATCHED, customer["id"]))

    # products -----------------------------------------------------------------------------------------------
    mapped = {i.get("externalId") for i in erp["item"]}
    unmapped = {p["id"] for p in b["products"] if p["active"] and p["id"] not in mapped}
    found.extend((gt.PRODUCT_UNMAPPED, p) for p in sorted(unmapped))

    # deals and subscriptions --------------------------------------------------------------------------------
    won = {d["id"]: d for d in crm["deals"] if d["properties"].get("dealstage") == "closedwon"}
    provisioned = set()
    for sub in b["subscriptions"]:
        deal_id = (sub.get("metadata") or {}).get("hubspot_deal_id")
        deal = won.get(deal_id)
        if deal is None:
            if sub["created"] <= settled:
                found.append((gt.SUBSCRIPTION_WITHOUT_DEAL, sub["id"]))
            continue
        provisioned.add(deal_id)
        value = Decimal(0)
        for item in sub["items"]["data"]:
            recurring = item["price"].get("recurring") or {}
            if recurring.get("usage_type") != "licensed":
                continue
            per_year = Decimal(ANNUALISE[recurring["interval"]]) / Decimal(recurring.get("interval_count") or 1)
            value += major(item["quantity"] * item["price"]["unit_amount"], sub["currency"]) * per_year
        props = deal["properties"]
        if (
            abs(Decimal(props["amount"] or "0") - value) > TOLERANCE
            or (props.get("deal_currency_code") or "").lower() != sub["currency"]
        ):
            found.append((gt.CONTRACT_VALUE_MISMATCH, deal_id))
    for deal_id, deal in won.items():
        closed = _iso(deal["properties"].get("closedate"))
        if deal_id not in provisioned and closed is not None and closed <= settled:
            found.append((gt.DEAL_WITHOUT_SUBSCRIPTION, deal_id))

    # postings -----------------------------------------------------------------------------------------------
    closed_periods = defaultdict(set)  # subsidiary id → {(start, end)}
    for period in erp["accountingPeriod"]:
        for line in (period.get("subsidiaryClose") or {}).get("items", []):
            if line["closed"] or period.get("closed"):
                closed_periods[line["subsidiary"]["id"]].add((period["startDate"], period["endDate"]))
    country_of_code = {"US": "US", "UK": "GB", "DE": "DE"}  # metadata.subsidiary → the entity's country
    sub_id_by_code = {
        code: s["id"]
        for s in erp["subsidiary"]
        for code, country in country_of_code.items()
        if s["country"]["id"] == country
    }

    def subsidiary_id(customer_id: str) -> str | None:
        return sub_id_by_code.get((customers[customer_id].get("metadata") or {}).get("subsidiary"))

    def in_closed_period(customer_id: str, t: int) -> bool:
        day = datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%d")
        return any(start <= day <= end for start, end in closed_periods.get(subsidiary_id(customer_id), ()))

    def inactive(customer_id: str) -> bool:
        record = erp_customer_by_key.get(customer_id)
        return bool(record and record.get("isInactive"))

    def by_key(records: list[dict]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = defaultdict(list)
        for record in records:
            key = billing_key(record)
            if key:
                out[key].append(record)
        return out

    erp_invoices, erp_payments, erp_memos = (
        by_key(erp["invoice"]),
        by_key(erp["customerPayment"]),
        by_key(erp["creditMemo"]),
    )
    erp_customer_ext = {c["id"]: c.get("externalId") for c in erp["customer"]}
    billing_invoice_ids = {inv["id"] for inv in b["invoices"]}
    for record in erp["invoice"]:
        key = billing_key(record)
        if key and key.startswith("in_") and key not in billing_invoice_ids:
            found.append((gt.INVOICE_ORPHAN_IN_ERP, record["id"]))

    charges_by_pi: dict[str, list[dict]] = defaultdict(list)
    for charge in b["charges"]:
        charges_by_pi[charge["payment_intent"]].append(charge)
    paying_charge: dict[str, dict] = {}
    for link in b["invoice_payments"]:
        for charge in charges_by_pi.get(link["payment"]["payment_intent"], []):
            if charge["status"] == "succeeded":
                paying_charge[link["invoice"]] = charge
    notes_by_invoice: dict[str, list[dict]] = defaultdict(list)
    for note in b["credit_notes"]:
        notes_by_invoice[note["invoice"]].append(note)

    def absent(code_missing: str, subject: str, customer_id: str, t: int) -> None:
        """A posting the ERP lacks: pending inside the grace period, else refused, closed, or missing."""
        if inactive(customer_id):
            found.append((gt.POSTING_REJECTED, subject))  # the push is refused by the ERP
        elif t > settled:
            return
        elif in_closed_period(customer_id, t):
            found.append((gt.POSTING_PERIOD_CLOSED, subject))
        else:
            found.append((code_missing, subject))

    for inv in b["invoices"]:
        if inv["status"] == "draft" or inv["customer"] in quarantined_customers:
            continue
        lines = inv["lines"]["data"]
        if any(((line.get("pricing") or {}).get("price_details") or {}).get("product") in unmapped for line in lines):
            continue
        matches = erp_invoices.get(inv["id"], [])
        transitions = inv["status_transitions"]
        if not matches:
            if inv["status"] != "void":
                absent(gt.INVOICE_MISSING_IN_ERP, inv["id"], inv["customer"], transitions["finalized_at"])
            continue
        if len(matches) > 1:
            found.append((gt.INVOICE_DUPLICATE_IN_ERP, inv["id"]))
        primary = sorted(matches, key=lambda r: (r.get("externalId") is None, int(r["id"])))[0]
        erp_status = primary["status"]["refName"]
        if inv["status"] == "void":
            if erp_status != "Voided" and transitions["voided_at"] <= settled:
                found.append((gt.INVOICE_STATUS_MISMATCH, inv["id"]))
            continue
        currency = inv["currency"]
        if primary["currency"]["refName"].lower() != currency:
            found.append((gt.INVOICE_CURRENCY_MISMATCH, inv["id"]))
        else:
            if abs(Decimal(primary["total"]) - major(inv["total"], currency)) > TOLERANCE:
                found.append((gt.INVOICE_AMOUNT_MISMATCH, inv["id"]))
            tax = sum((t["amount"] for t in inv["total_taxes"]), 0)
            if abs(Decimal(primary.get("taxTotal", 0)) - major(tax, currency)) > TOLERANCE:
                found.append((gt.INVOICE_TAX_MISMATCH, inv["id"]))
        if erp_customer_ext.get(primary["entity"]["id"]) != f"bill-{inv['customer']}":
            found.append((gt.INVOICE_CUSTOMER_MISMATCH, inv["id"]))
        if primary["subsidiary"]["id"] != subsidiary_id(inv["customer"]):
            found.append((gt.INVOICE_SUBSIDIARY_MISMATCH, inv["id"]))
        charge = paying_charge.get(inv["id"])
        payment_missing = charge is not None and not erp_payments.get(charge["id"])
        if (
            inv["status"] == "paid"
            and transitions["paid_at"] <= settled
            and erp_status != "Paid In Full"
            and not payment_missing
        ) or (inv["status"] in ("open", "uncollectible") and erp_status != "Open"):
            found.append((gt.INVOICE_STATUS_MISMATCH, inv["id"]))
        if charge is not None:
            payments = erp_payments.get(charge["id"], [])
            if not payments:
                absent(gt.PAYMENT_MISSING_IN_ERP, charge["id"], inv["customer"], charge["created"])
            else:
                if len(payments) > 1:
                    found.append((gt.PAYMENT_DUPLICATE_IN_ERP, charge["id"]))
                first = sorted(payments, key=lambda r: (r.get("externalId") is None, int(r["id"])))[0]
                if abs(Decimal(first["payment"]) - major(charge["amount"], currency)) > TOLERANCE:
                    found.append((gt.PAYMENT_AMOUNT_MISMATCH, charge["id"]))
        for note in notes_by_invoice.get(inv["id"], []):
            if note["status"] == "issued" and not erp_memos.get(note["id"]):
                absent(gt.CREDIT_NOTE_MISSING_IN_ERP, note["id"], inv["customer"], note["effective_at"])
    return sorted(found)


def _iso(value: str | None) -> int | None:
    if not value:
        return None
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
