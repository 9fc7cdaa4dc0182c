"""The whole sandbox on a generated scenario, read back by the vendors' official SDKs."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx
import pytest
import stripe
from hubspot import HubSpot
from hubspot.crm.companies import Filter, FilterGroup, PublicObjectSearchRequest

from sandbox.fixtures import read_manifest
from sandbox.inventory import BILLING_COLLECTIONS, COUNTERS


def test_every_collection_pages_back_to_the_manifest_counts(cluster_s, scenario_s):
    counts = read_manifest(scenario_s)["counts"]
    for endpoint in cluster_s.endpoints:
        for holding in COUNTERS[endpoint.system](endpoint.url, endpoint.token):
            key = f"{holding.system}/{holding.collection}"
            assert holding.count == counts.get(key, 0), key


def test_stripe_sdk_auto_pages_every_billing_collection(cluster_s, scenario_s):
    counts = read_manifest(scenario_s)["counts"]
    billing = cluster_s.endpoint("billing")
    client = stripe.StripeClient(billing.token, base_addresses={"api": billing.url})
    services = {
        "customers": client.v1.customers,
        "products": client.v1.products,
        "prices": client.v1.prices,
        "subscriptions": client.v1.subscriptions,
        "invoices": client.v1.invoices,
        "invoiceitems": client.v1.invoice_items,
        "invoice_payments": client.v1.invoice_payments,
        "payment_intents": client.v1.payment_intents,
        "charges": client.v1.charges,
        "refunds": client.v1.refunds,
        "credit_notes": client.v1.credit_notes,
        "balance_transactions": client.v1.balance_transactions,
        "events": client.v1.events,
    }
    assert set(services) == set(BILLING_COLLECTIONS)
    for name, service in services.items():
        # subscriptions list only non-canceled ones unless asked for all, as Stripe does
        params = {"limit": 100, "status": "all"} if name == "subscriptions" else {"limit": 100}
        ids = [obj.id for obj in service.list(params).auto_paging_iter()]
        assert len(ids) == len(set(ids)) == counts[f"billing/{name}"], name


def test_hubspot_sdk_get_all_and_search(cluster_s, scenario_s):
    counts = read_manifest(scenario_s)["counts"]
    crm = cluster_s.endpoint("crm")
    client = HubSpot(access_token=crm.token, host=crm.url)
    apis = {
        "companies": client.crm.companies.basic_api,
        "contacts": client.crm.contacts.basic_api,
        "deals": client.crm.deals.basic_api,
        "products": client.crm.products.basic_api,
        "line_items": client.crm.line_items.basic_api,
    }
    for name, api in apis.items():
        everything = []
        after = None
        while True:
            page = api.get_page(limit=100, after=after)
            everything += page.results
            if not page.paging or not page.paging.next:
                break
            after = page.paging.next.after
        assert len({o.id for o in everything}) == counts[f"crm/{name}"], name
    all_companies = client.crm.companies.get_all()
    assert len(all_companies) == counts["crm/companies"]
    # incremental search: everything modified since the epoch, sorted by last modified, pages to the total
    search = PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=[Filter(property_name="hs_lastmodifieddate", operator="GTE", value="0")])],
        sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        properties=["name", "hs_lastmodifieddate"],
        limit=100,
    )
    found, after = [], None
    while True:
        search.after = after
        page = client.crm.companies.search_api.do_search(public_object_search_request=search)
        found += page.results
        if not page.paging or not page.paging.next:
            break
        after = page.paging.next.after
    assert len(found) == page.total == counts["crm/companies"]
    stamps = [o.properties["hs_lastmodifieddate"] for o in found]
    assert stamps == sorted(stamps)


def test_suiteql_reads_every_erp_transaction_type(cluster_s, scenario_s):
    counts = read_manifest(scenario_s)["counts"]
    erp = cluster_s.endpoint("erp")
    headers = {"Authorization": f"Bearer {erp.token}", "Prefer": "transient"}
    query = "SELECT recordtype, COUNT(*) AS n FROM transaction GROUP BY recordtype ORDER BY recordtype"
    body = httpx.post(f"{erp.url}/services/rest/query/v1/suiteql", json={"q": query}, headers=headers).json()
    by_type = {row["recordtype"]: int(row["n"]) for row in body["items"]}
    for record in ("invoice", "creditMemo", "customerPayment", "journalEntry"):
        assert by_type.get(record.lower(), 0) == counts.get(f"erp/{record}", 0), (record, by_type)


@pytest.mark.slow
def test_cli_serve_prints_urls_and_stops_on_sigterm(scenario_s, tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "--data-dir",
            str(tmp_path),
            "sandbox",
            "serve",
            "--fixtures",
            str(scenario_s),
            "--billing-port",
            "0",
            "--crm-port",
            "0",
            "--erp-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "serving until" in line:
                break
        urls = [word for line in lines for word in line.split() if word.startswith("http://127.0.0.1:")]
        assert len(urls) == 3, lines
        health = [httpx.get(f"{url}/__sandbox/health").json()["system"] for url in urls]
        assert sorted(health) == ["billing", "crm", "erp"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert "stopping" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not list((tmp_path / "sandbox").glob("q2c-sandbox-*")), "scratch stores left behind"
