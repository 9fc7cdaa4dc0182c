"""What each sandbox system holds, counted through its own public API (not by reading its store).

The demo prints this, and tests compare it with the fixture manifest: a served folder that does not
page back to its own counts is a sandbox bug.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from sandbox.fixtures import COLLECTIONS

# subscription items are listed per subscription only (Stripe requires the `subscription` parameter)
BILLING_COLLECTIONS = tuple(c for c in COLLECTIONS["billing"] if c != "subscription_items")
# associations are not an object type of their own in the CRM API
CRM_OBJECTS = tuple(c for c in COLLECTIONS["crm"] if c != "associations")
ERP_RECORDS = COLLECTIONS["erp"]


@dataclass(frozen=True)
class Holding:
    system: str
    collection: str
    count: int
    requests: int


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def count_billing(url: str, token: str) -> list[Holding]:
    out = []
    with _client(url, token) as http:
        for name in BILLING_COLLECTIONS:
            count = requests = 0
            params: dict[str, str | int] = {"limit": 100}
            if name == "subscriptions":
                params["status"] = "all"  # Stripe lists only non-canceled subscriptions by default
            while True:
                body = http.get(f"/v1/{name}", params=params).raise_for_status().json()
                requests += 1
                count += len(body["data"])
                if not body["has_more"]:
                    break
                params["starting_after"] = body["data"][-1]["id"]
            out.append(Holding("billing", name, count, requests))
    return out


def count_crm(url: str, token: str) -> list[Holding]:
    out = []
    with _client(url, token) as http:
        for name in CRM_OBJECTS:
            count = requests = 0
            params: dict[str, str | int] = {"limit": 100}
            while True:
                body = http.get(f"/crm/v3/objects/{name}", params=params).raise_for_status().json()
                requests += 1
                count += len(body["results"])
                after = body.get("paging", {}).get("next", {}).get("after")
                if not after:
                    break
                params["after"] = after
            out.append(Holding("crm", name, count, requests))
    return out


def count_erp(url: str, token: str) -> list[Holding]:
    out = []
    with _client(url, token) as http:
        for name in ERP_RECORDS:
            body = http.get(f"/services/rest/record/v1/{name}", params={"limit": 1}).raise_for_status().json()
            out.append(Holding("erp", name, int(body["totalResults"]), 1))
    return out


COUNTERS = {"billing": count_billing, "crm": count_crm, "erp": count_erp}
