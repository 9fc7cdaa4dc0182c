"""A share of the company's objects changed through the three systems' own APIs, between two runs.

What changes, each the work of a person or an integration (``fraction`` of each kind, at least one):
- billing: open invoices paid; subscriptions gain a seat (prorated, so new invoice items and events);
  customers get a new description;
- CRM: companies get a new industry, deals a new amount;
- ERP: customers get a new comment (their ``lastmodifieddate`` moves).

Which objects is chosen from q2c's own canonical tables (a deterministic hash order), so the bench needs no
extra listing pass over the APIs. Every change is a real request; a refused one is counted, not hidden.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import httpx

WORKERS = 8


def _ranked(con: duckdb.DuckDBPyConnection, sql: str, salt: str) -> list[str]:
    """The ids ``sql`` selects (nulls left out) in a deterministic order that does not follow the ids'."""
    ids = [str(r[0]) for r in con.execute(sql).fetchall() if r[0] is not None]
    return sorted(ids, key=lambda i: hashlib.sha256(f"{salt}:{i}".encode()).hexdigest())


def plan_changes(warehouse: Path, fraction: float) -> dict[str, list[str]]:
    """Ids per kind of change: ``fraction`` of each kind's population (at least one when any exists)."""
    plan: dict[str, list[str]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        population = {
            "billing.invoice.pay": (
                "select invoice_id from canonical.invoices",
                "select invoice_id from canonical.invoices where invoice_status = 'open' "
                "and collection_method = 'send_invoice'",
            ),
            "billing.subscription.seat": (
                "select subscription_id from canonical.subscriptions",
                "select subscription_id from canonical.subscriptions where subscription_status = 'active'",
            ),
            "billing.customer.update": ("select customer_id from canonical.customers", None),
            "crm.company.update": ("select distinct crm_company_id from canonical.customers", None),
            "crm.deal.update": ("select deal_id from canonical.deals", None),
            "erp.customer.update": ("select distinct erp_customer_id from canonical.customers", None),
        }
        for kind, (everyone, eligible) in population.items():
            counted = f"select count(*) from ({everyone}) as population(id) where id is not null"
            (total,) = con.execute(counted).fetchone()
            ranked = _ranked(con, eligible or everyone, kind)
            plan[kind] = ranked[: max(1, math.ceil(total * fraction))] if total else []
    return plan


class _PatientTransport(httpx.HTTPTransport):
    """Sends a rate-limited request again after the wait the server asks for, as any integration must
    (NetSuite answers more than its concurrency limit with 429)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for _ in range(20):
            response = super().handle_request(request)
            if response.status_code != 429:
                return response
            response.read()
            response.close()
            time.sleep(min(float(response.headers.get("Retry-After") or 0.1), 5.0))
        return response


def _ok(response: httpx.Response) -> dict:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: {response.status_code}")
    return response.json() if response.content else {}


def _pay(billing: httpx.Client, invoice_id: str) -> None:
    _ok(billing.post(f"/v1/invoices/{invoice_id}/pay", data={"payment_method": "pm_card_visa"}))


def _add_seat(billing: httpx.Client, subscription_id: str) -> None:
    sub = _ok(billing.get(f"/v1/subscriptions/{subscription_id}"))
    licensed = [i for i in sub["items"]["data"] if (i["price"].get("recurring") or {}).get("usage_type") == "licensed"]
    if not licensed:
        raise RuntimeError(f"{subscription_id} has no licensed item")
    item = licensed[0]
    _ok(
        billing.post(
            f"/v1/subscriptions/{subscription_id}",
            data={
                "items[0][id]": item["id"],
                "items[0][quantity]": str(item["quantity"] + 1),
                "proration_behavior": "create_prorations",
            },
        )
    )


def _describe_customer(billing: httpx.Client, customer_id: str) -> None:
    _ok(billing.post(f"/v1/customers/{customer_id}", data={"description": "reviewed by finance (bench)"}))


def _set_industry(crm: httpx.Client, company_id: str) -> None:
    _ok(crm.patch(f"/crm/v3/objects/companies/{company_id}", json={"properties": {"industry": "Computer Software"}}))


def _deal_amount(crm: httpx.Client, deal_id: str) -> None:
    deal = _ok(crm.get(f"/crm/v3/objects/deals/{deal_id}", params={"properties": "amount"}))
    amount = deal["properties"].get("amount") or "0"
    # a sales rep rounds the amount up to the next whole unit (strings: exact, no float)
    whole, _, cents = amount.partition(".")
    new = f"{int(whole or 0) + 1}.{(cents + '00')[:2]}"
    _ok(crm.patch(f"/crm/v3/objects/deals/{deal_id}", json={"properties": {"amount": new}}))


def _comment_erp_customer(erp: httpx.Client, customer_id: str) -> None:
    _ok(erp.patch(f"/services/rest/record/v1/customer/{customer_id}", json={"comments": "reviewed (bench)"}))


ACTIONS: dict[str, tuple[str, Callable[[httpx.Client, str], None]]] = {
    "billing.invoice.pay": ("billing", _pay),
    "billing.subscription.seat": ("billing", _add_seat),
    "billing.customer.update": ("billing", _describe_customer),
    "crm.company.update": ("crm", _set_industry),
    "crm.deal.update": ("crm", _deal_amount),
    "erp.customer.update": ("erp", _comment_erp_customer),
}


def apply_changes(endpoints: dict[str, tuple[str, str]], plan: dict[str, list[str]]) -> dict[str, dict[str, int]]:
    """Makes every planned change; per kind: changed and refused counts (the first refusals are printed)."""
    local = threading.local()
    opened: list[httpx.Client] = []
    outcome: dict[str, Counter[str]] = {kind: Counter() for kind in plan}
    errors: list[str] = []

    def client(system: str) -> httpx.Client:
        clients = local.__dict__.setdefault("clients", {})
        if system not in clients:
            url, token = endpoints[system]
            clients[system] = httpx.Client(
                base_url=url,
                headers={"Authorization": f"Bearer {token}"},
                timeout=60,
                transport=_PatientTransport(),
            )
            opened.append(clients[system])
        return clients[system]

    def change(kind: str, object_id: str) -> None:
        system, action = ACTIONS[kind]
        try:
            action(client(system), object_id)
            outcome[kind]["changed"] += 1
        except (RuntimeError, httpx.HTTPError, KeyError) as exc:
            outcome[kind]["refused"] += 1
            if len(errors) < 5:
                errors.append(f"{kind} {object_id}: {exc}")

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda job: change(*job), [(k, i) for k, ids in plan.items() for i in ids]))
    for http in opened:
        http.close()
    for message in errors:
        print(f"  change refused: {message}")
    return {kind: {"changed": c["changed"], "refused": c["refused"]} for kind, c in outcome.items()}
