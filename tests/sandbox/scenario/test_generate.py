"""The scenario generator: determinism, invariants, exact ground truth, and acceptance by the three servers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from sandbox.clock import SandboxClock
from sandbox.fixtures import read_ground_truth, read_manifest
from sandbox.http import SandboxServer
from sandbox.scenario import ground_truth as gt
from sandbox.scenario.company import SUBSIDIARIES, accounting_periods
from sandbox.scenario.generate import generate
from sandbox.scenario.plan import plan_injections, subsidiary_of
from sandbox.scenario.reference_rules import reconcile

from .conftest import SEED
from .invariants import as_of, check_all, load


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_folder(scenario_s: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate("S", SEED, again)
    assert _files(again) == _files(scenario_s)


def test_another_seed_gives_another_company(scenario_s: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate("S", SEED + 1, other)
    a, b = _files(scenario_s), _files(other)
    assert a.keys() == b.keys()
    assert a["billing/invoices.jsonl"] != b["billing/invoices.jsonl"]
    assert a["expected_exceptions.json"] != b["expected_exceptions.json"]


def test_generated_scenario_passes_every_invariant(scenario_s: Path) -> None:
    check_all(scenario_s)


def test_manifest_describes_the_run(scenario_s: Path) -> None:
    manifest = read_manifest(scenario_s)
    assert (manifest["scale"], manifest["seed"], manifest["as_of"]) == ("S", SEED, "2026-10-31T23:00:00Z")
    assert manifest["counts"]["billing/customers"] == 50


def test_ground_truth_is_exactly_what_the_documented_rules_find(scenario_s: Path) -> None:
    """Precision and recall 100%: the README's rules (reference_rules) find these pairs and nothing else."""
    truth = sorted((r["exception_type"], r["subject_key"]) for r in read_ground_truth(scenario_s))
    assert reconcile(scenario_s) == truth


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ground_truth_is_exact_for_other_seeds(seed: int, tmp_path: Path) -> None:
    generate("S", seed, tmp_path)
    truth = sorted((r["exception_type"], r["subject_key"]) for r in read_ground_truth(tmp_path))
    assert reconcile(tmp_path) == truth


def test_recent_postings_inside_the_grace_period_are_not_exceptions(scenario_s: Path) -> None:
    """Some finalized invoices are too recent to be in the ERP; only the injected POSTING_REJECTED one counts."""
    now = as_of(scenario_s)
    erp_keys = {r.get("custbody_q2c_billing_id") for r in load(scenario_s, "erp", "invoice")}
    recent = [
        i
        for i in load(scenario_s, "billing", "invoices")
        if i["status"] != "draft" and i["status_transitions"]["finalized_at"] > now - 2 * 86_400
    ]
    unposted = {i["id"] for i in recent if i["id"] not in erp_keys}
    assert unposted, "the scenario has postings inside the grace period"
    expected = {r["subject_key"]: r["exception_type"] for r in read_ground_truth(scenario_s)}
    assert {expected.get(i) for i in unposted} <= {None, gt.POSTING_REJECTED}
    assert reconcile(scenario_s, now=now + 3 * 86_400)  # after the grace period the same ones are MISSING
    later = {s for code, s in reconcile(scenario_s, now=now + 3 * 86_400) if code == gt.INVOICE_MISSING_IN_ERP}
    assert unposted - {s for s, code in expected.items() if code == gt.POSTING_REJECTED} <= later


def test_month_boundaries_and_closed_periods_are_present(scenario_s: Path) -> None:
    finalized = [
        datetime.fromtimestamp(i["status_transitions"]["finalized_at"], tz=UTC)
        for i in load(scenario_s, "billing", "invoices")
        if i["status_transitions"]["finalized_at"]
    ]
    assert any(
        (d.hour, d.minute, d.second) == (23, 59, 59) and (d.replace(day=d.day) + _one_second()).day == 1
        for d in finalized
    )
    assert any((d.day, d.hour, d.minute, d.second) == (1, 0, 0, 0) for d in finalized)
    periods = {p["periodName"]: p for p in load(scenario_s, "erp", "accountingPeriod")}
    september = periods["Sep 2026"]
    assert not september["closed"]
    assert [(line["subsidiary"]["id"], line["closed"]) for line in september["subsidiaryClose"]["items"]] == [
        ("1", True),
        ("2", False),
        ("3", False),
    ]
    assert periods["Aug 2026"]["closed"] and not periods["Oct 2026"]["closed"]


def _one_second():
    from datetime import timedelta

    return timedelta(seconds=1)


def test_the_company_is_coherent(scenario_s: Path) -> None:
    """The scenario's story: three entities, cross-currency customers, failures then retries, refunds, voids,
    prorations, usage, legacy postings, merges and deals without subscriptions that are fine."""
    customers = load(scenario_s, "billing", "customers")
    base = {"US": "usd", "UK": "gbp", "DE": "eur"}
    assert {c["metadata"]["subsidiary"] for c in customers} == {"US", "UK", "DE"}
    assert any(c["currency"] != base[c["metadata"]["subsidiary"]] for c in customers)
    charges = load(scenario_s, "billing", "charges")
    assert any(c["status"] == "failed" for c in charges) and any(c["id"].startswith("py_") for c in charges)
    intents = {}
    for charge in charges:
        intents.setdefault(charge["payment_intent"], []).append(charge["status"])
    assert any(statuses[:1] == ["failed"] and "succeeded" in statuses for statuses in intents.values())
    assert any(0 < c["amount_refunded"] < c["amount"] for c in charges)
    invoices = load(scenario_s, "billing", "invoices")
    statuses = {i["status"] for i in invoices}
    assert {"draft", "open", "paid", "void"} <= statuses
    lines = [line for i in invoices for line in i["lines"]["data"]]
    assert any(
        (line["parent"] or {}).get("subscription_item_details", {})
        and line["parent"]["subscription_item_details"]["proration"]
        for line in lines
    )
    assert any((line["parent"] or {}).get("type") == "invoice_item_details" for line in lines)
    assert any(line["taxes"] for line in lines) and any(not line["taxes"] for line in lines)
    erp_invoices = load(scenario_s, "erp", "invoice")
    assert any(r.get("externalId") is None and r.get("custbody_q2c_billing_id") for r in erp_invoices), "legacy"
    assert any(r.get("custbody_q2c_billing_id") is None for r in erp_invoices), "ERP-only invoices"
    assert any(r["status"]["refName"] == "Voided" for r in erp_invoices)
    companies = load(scenario_s, "crm", "companies")
    assert any(c["properties"]["hs_merged_object_ids"] for c in companies)
    stages = {d["properties"]["dealstage"] for d in load(scenario_s, "crm", "deals")}
    assert {"closedwon", "closedlost"} <= stages and stages - {"closedwon", "closedlost"}


def test_plan_spreads_every_code_over_every_subsidiary() -> None:
    for customers in (50, 2_000):
        plan = plan_injections(customers)
        per: dict[tuple[str, str], int] = {}
        for index, injections in plan.items():
            codes = [i.code for i in injections]
            assert len(codes) == len(set(codes))
            if set(codes) & gt.EXCLUSIVE_CODES:
                assert len(codes) == 1
            for code in codes:
                key = (code, subsidiary_of(index))
                per[key] = per.get(key, 0) + 1
        assert all(per.get((code, s.code), 0) >= 2 for code in gt.CATALOG for s in SUBSIDIARIES)


def test_closing_rule_of_accounting_periods() -> None:
    periods = {p.key: p.closed_for for p in accounting_periods(datetime(2026, 10, 31, 23, tzinfo=UTC))}
    assert periods["2026-08"] == ("US", "UK", "DE")
    assert periods["2026-09"] == ("US",)
    assert periods["2026-10"] == ()


def test_rejects_unknown_scale_and_early_month_as_of(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate("XL", 1, tmp_path)
    with pytest.raises(ValueError):
        generate("S", 1, tmp_path, as_of=datetime(2026, 10, 3, tzinfo=UTC))


def test_custom_as_of_moves_the_whole_company(tmp_path: Path) -> None:
    manifest = generate("S", 5, tmp_path, as_of=datetime(2026, 6, 20, 12, tzinfo=UTC))
    assert manifest["as_of"] == "2026-06-20T12:00:00Z"
    check_all(tmp_path)
    truth = sorted((r["exception_type"], r["subject_key"]) for r in read_ground_truth(tmp_path))
    assert reconcile(tmp_path) == truth


# -- the three servers accept the folder ------------------------------------------------------------------------
def test_servers_serve_the_generated_folder(scenario_s: Path, tmp_path: Path) -> None:
    from sandbox.billing.app import DEFAULT_TOKEN as BILLING_TOKEN
    from sandbox.billing.app import create_app as billing_app
    from sandbox.crm.app import DEFAULT_TOKEN as CRM_TOKEN
    from sandbox.crm.app import create_app as crm_app
    from sandbox.erp.app import DEFAULT_TOKEN as ERP_TOKEN
    from sandbox.erp.app import create_app as erp_app

    clock = SandboxClock(as_of(scenario_s), frozen=True)
    manifest = read_manifest(scenario_s)["counts"]
    invoices = {i["id"] for i in load(scenario_s, "billing", "invoices")}

    with SandboxServer(billing_app(scenario_s, tmp_path / "billing", clock=clock)) as srv:
        headers = {"Authorization": f"Bearer {BILLING_TOKEN}"}
        with httpx.Client(base_url=srv.url, headers=headers) as client:
            page = client.get("/v1/invoices", params={"limit": 100}).json()
            assert len(page["data"]) == 100 and page["has_more"] and {i["id"] for i in page["data"]} <= invoices
            one = page["data"][0]
            assert client.get(f"/v1/invoices/{one['id']}").json()["total"] == one["total"]
            customers = client.get("/v1/customers", params={"limit": 3}).json()["data"]
            assert len(customers) == 3
            events = client.get("/v1/events", params={"limit": 5}).json()["data"]
            assert events and events[0]["object"] == "event"
        assert srv.errors == []

    with SandboxServer(crm_app(scenario_s, tmp_path / "crm", clock=clock)) as srv:
        headers = {"Authorization": f"Bearer {CRM_TOKEN}"}
        with httpx.Client(base_url=srv.url, headers=headers) as client:
            deals = client.get("/crm/v3/objects/deals", params={"limit": 5, "properties": "amount,dealstage"}).json()
            assert len(deals["results"]) == 5 and "amount" in deals["results"][0]["properties"]
            companies = client.get("/crm/v3/objects/companies", params={"limit": 100}).json()
            assert len(companies["results"]) == min(100, manifest["crm/companies"])
        assert srv.errors == []

    with SandboxServer(erp_app(scenario_s, tmp_path / "erp", clock=clock)) as srv:
        headers = {"Authorization": f"Bearer {ERP_TOKEN}"}
        with httpx.Client(base_url=srv.url, headers=headers) as client:
            listing = client.get("/services/rest/record/v1/invoice", params={"limit": 5})
            assert listing.status_code == 200, listing.text
            first = listing.json()["items"][0]["id"]
            record = client.get(f"/services/rest/record/v1/invoice/{first}").json()
            assert record["id"] == first and "total" in record
            query = client.post(
                "/services/rest/query/v1/suiteql",
                headers={"Prefer": "transient"},
                json={"q": "SELECT COUNT(*) AS n FROM customer"},
            )
            assert query.status_code == 200, query.text
            assert int(query.json()["items"][0]["n"]) == manifest["erp/customer"]
        assert srv.errors == []


@pytest.mark.slow
def test_m_scale_passes_every_invariant(generated_scenario) -> None:
    """(Its speed is `python -m bench.sandbox --scale M`'s to measure, not a test's.)"""
    folder = generated_scenario("M", SEED)  # generated once per session: the M ground-truth test reads it too
    manifest = read_manifest(folder)
    assert manifest["counts"]["billing/customers"] == 2_000
    assert manifest["counts"]["billing/invoices"] > 40_000
    check_all(folder, minimum_per_subsidiary=2)
    truth = sorted((r["exception_type"], r["subject_key"]) for r in read_ground_truth(folder))
    assert reconcile(folder) == truth
    assert manifest["scale"] == "M"
