"""What happens in a company between two runs of the demo, done through the three systems' own APIs.

Customers pay open invoices (billing), one subscription gains seats and its deal is updated to match
(billing, then CRM), and the ERP team creates the missing item for an unmapped product (ERP). Each change
is what a person or a vendor integration would do; q2c's second run must pick them up incrementally.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import httpx

from sandbox.cluster import SandboxCluster
from sandbox.scenario.reference_rules import ANNUALISE, major


@dataclass
class Changes:
    paid_invoices: list[str] = field(default_factory=list)
    amended_subscription: str | None = None
    updated_deal: str | None = None
    mapped_product: str | None = None

    def lines(self) -> list[str]:
        out = [f"  billing: paid {len(self.paid_invoices)} open invoice(s): {', '.join(self.paid_invoices)}"]
        if self.amended_subscription:
            out.append(f"  billing: +5 seats on {self.amended_subscription} (prorated)")
        if self.updated_deal:
            out.append(f"  CRM: deal {self.updated_deal} amount set to the new annual contract value")
        if self.mapped_product:
            out.append(f"  ERP: item created for unmapped product {self.mapped_product}")
        return out


def _client(cluster: SandboxCluster, system: str) -> httpx.Client:
    endpoint = cluster.endpoint(system)
    return httpx.Client(base_url=endpoint.url, headers={"Authorization": f"Bearer {endpoint.token}"}, timeout=30)


def make_changes(cluster: SandboxCluster, unmapped_products: list[str], *, pay: int = 3) -> Changes:
    changes = Changes()
    with _client(cluster, "billing") as billing, _client(cluster, "crm") as crm, _client(cluster, "erp") as erp:
        _pay_open_invoices(billing, pay, changes)
        _add_seats(billing, crm, changes)
        if unmapped_products:
            _map_product(erp, unmapped_products[0], changes)
    return changes


def _ok(response: httpx.Response) -> dict:
    if response.status_code >= 400:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
    return response.json() if response.content else {}


def _pay_open_invoices(billing: httpx.Client, count: int, changes: Changes) -> None:
    invoices = _ok(billing.get("/v1/invoices", params={"status": "open", "limit": 100}))["data"]
    # the oldest of the newest hundred: customers settling overdue invoices
    for invoice in [i for i in reversed(invoices) if i.get("collection_method") == "send_invoice"][:count]:
        _ok(billing.post(f"/v1/invoices/{invoice['id']}/pay", data={"payment_method": "pm_card_visa"}))
        changes.paid_invoices.append(invoice["id"])


def _add_seats(billing: httpx.Client, crm: httpx.Client, changes: Changes) -> None:
    subscriptions = _ok(billing.get("/v1/subscriptions", params={"status": "active", "limit": 100}))["data"]
    for sub in subscriptions:
        deal_id = (sub.get("metadata") or {}).get("hubspot_deal_id")
        items = sub["items"]["data"]
        licensed = [i for i in items if (i["price"].get("recurring") or {}).get("usage_type") == "licensed"]
        if not deal_id or len(licensed) != 1:
            continue
        item = licensed[0]
        updated = _ok(
            billing.post(
                f"/v1/subscriptions/{sub['id']}",
                data={
                    "items[0][id]": item["id"],
                    "items[0][quantity]": str(item["quantity"] + 5),
                    "proration_behavior": "create_prorations",
                },
            )
        )
        changes.amended_subscription = sub["id"]
        # the sales team updates the deal to the new annual contract value, as the CRM process requires
        value = Decimal(0)
        for line in updated["items"]["data"]:
            recurring = line["price"].get("recurring") or {}
            if recurring.get("usage_type") != "licensed":
                continue
            per_year = Decimal(ANNUALISE[recurring["interval"]]) / Decimal(recurring.get("interval_count") or 1)
            value += major(line["quantity"] * line["price"]["unit_amount"], updated["currency"]) * per_year
        _ok(crm.patch(f"/crm/v3/objects/deals/{deal_id}", json={"properties": {"amount": f"{value:.2f}"}}))
        changes.updated_deal = deal_id
        return


def _map_product(erp: httpx.Client, product_id: str, changes: Changes) -> None:
    """The ERP team creates the item, keyed by the billing product id (the convention q2c maps by)."""
    body = {
        "itemId": f"NEW-{product_id[-8:].upper()}",
        "externalId": product_id,
        "displayName": "Data residency add-on",
        "incomeAccount": {"id": _account_id(erp, "4000")},
        "deferredRevenueAccount": {"id": _account_id(erp, "2400")},
    }
    _ok(erp.post("/services/rest/record/v1/item", json=body))
    changes.mapped_product = product_id


def _account_id(erp: httpx.Client, number: str) -> str:
    rows = _ok(
        erp.post(
            "/services/rest/query/v1/suiteql",
            json={"q": f"SELECT id FROM account WHERE acctnumber = '{number}'"},
            headers={"Prefer": "transient"},
        )
    )["items"]
    return str(rows[0]["id"])
