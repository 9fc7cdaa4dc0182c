"""The acceptance test: the open exceptions of reconciliation.exceptions equal the scenario's ground truth.

Each case generates a scenario, serves it on the real sandboxes, ingests it, builds the warehouse with dbt at the
scenario's as_of and compares (exception_type, subject_key) pairs. POSTING_REJECTED needs a push (it comes from the
reverse-ETL ledger), so its subjects must simply not be raised as anything else.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from tests.dbt_project.scenario_build import (
    Scenario,
    build,
    load,
    major,
    primary_erp_records,
    query,
    served_and_ingested,
)

CASES = [
    # each S case serves, ingests and builds a scenario (~35 s on 2 cores): slow, but always in `make test`
    pytest.param(("S", 7), id="S-seed7", marks=pytest.mark.slow),
    pytest.param(("S", 11), id="S-seed11", marks=pytest.mark.slow),
    pytest.param(("M", 7), id="M-seed7", marks=pytest.mark.slow),
]


@pytest.fixture(scope="module", params=CASES)
def built(request, tmp_path_factory, generated_scenario) -> Scenario:
    scale, seed = request.param
    root = tmp_path_factory.mktemp(f"recon-{scale}-{seed}")
    scenario = served_and_ingested(scale, seed, root, generated_scenario(scale, seed))
    build(scenario.data_dir, scenario.as_of)
    return scenario


def per_type_table(expected: set[tuple[str, str]], found: set[tuple[str, str]]) -> str:
    lines = [f"{'exception_type':30} {'expected':>8} {'found':>6} {'missed':>6} {'extra':>6}"]
    for code in sorted({t for t, _ in expected | found}):
        e = {pair for pair in expected if pair[0] == code}
        f = {pair for pair in found if pair[0] == code}
        lines.append(f"{code:30} {len(e):8} {len(e & f):6} {len(e - f):6} {len(f - e):6}")
    return "\n".join(lines)


def test_open_exceptions_equal_the_ground_truth(built: Scenario):
    rows = query(
        built.data_dir / "warehouse.duckdb",
        "select exception_type, subject_key from reconciliation.exceptions where status = 'open'",
    )
    found = set(rows)
    assert len(found) == len(rows), "one exception per (type, subject)"
    expected = {pair for pair in built.expected if pair[0] != "POSTING_REJECTED"}
    print("\n" + per_type_table(expected, found))
    assert sorted(expected - found) == [], "missed"
    assert sorted(found - expected) == [], "extra"
    # a posting the ERP will refuse (inactive ERP customer) is not raised as anything before the push
    refused = {subject for code, subject in built.expected if code == "POSTING_REJECTED"}
    assert refused, "the scenario injects POSTING_REJECTED hosts"
    assert [pair for pair in found if pair[1] in refused] == []


def amounts_at_risk(scenario: Scenario, code: str) -> dict[str, tuple[str, Decimal, Decimal]]:
    rows = query(
        scenario.data_dir / "warehouse.duckdb",
        "select subject_key, currency, amount_at_risk, amount_at_risk_reporting from reconciliation.exceptions"
        " where exception_type = ? and status = 'open'",
        [code],
    )
    return {subject: (currency, amount, reporting) for subject, currency, amount, reporting in rows}


def test_invoice_amounts_at_risk_are_the_exact_differences(built: Scenario):
    invoices = {inv["id"]: inv for inv in load(built.fixtures, "billing", "invoices")}
    erp = primary_erp_records(built.fixtures, "invoice")
    amount = amounts_at_risk(built, "INVOICE_AMOUNT_MISMATCH")
    assert amount
    for subject, (currency, at_risk, _) in amount.items():
        billing = invoices[subject]
        assert currency == billing["currency"].upper()
        assert at_risk == abs(Decimal(erp[subject]["total"]) - major(billing["total"], currency))
    tax = amounts_at_risk(built, "INVOICE_TAX_MISMATCH")
    assert tax
    for subject, (currency, at_risk, _) in tax.items():
        billing_tax = sum((t["amount"] for t in invoices[subject]["total_taxes"]), 0)
        assert at_risk == abs(Decimal(erp[subject].get("taxTotal", 0)) - major(billing_tax, currency))
    for subject, (currency, at_risk, reporting) in amounts_at_risk(built, "INVOICE_MISSING_IN_ERP").items():
        assert at_risk == major(invoices[subject]["total"], currency)
        if currency == "USD":
            assert reporting == at_risk


def test_payment_amounts_at_risk_are_the_exact_differences(built: Scenario):
    charges = {charge["id"]: charge for charge in load(built.fixtures, "billing", "charges")}
    erp = primary_erp_records(built.fixtures, "customerPayment")
    found = amounts_at_risk(built, "PAYMENT_AMOUNT_MISMATCH")
    assert found
    for subject, (currency, at_risk, _) in found.items():
        charge = charges[subject]
        assert currency == charge["currency"].upper()
        assert at_risk == abs(Decimal(erp[subject]["payment"]) - major(charge["amount"], charge["currency"]))


def test_every_exception_is_described_valued_and_owned(built: Scenario):
    rows = query(
        built.data_dir / "warehouse.duckdb",
        "select exception_type, severity, owner_domain, subsidiary, currency, amount_at_risk_reporting, detail"
        " from reconciliation.exceptions",
    )
    assert all(row[3] in ("US", "UK", "DE") for row in rows), Counter(row[3] for row in rows)
    assert all(row[5] is not None and row[5] >= 0 for row in rows)
    assert all(row[6] and row[6].endswith(".") for row in rows)
    owners = {row[0]: row[2] for row in rows}
    assert owners["PRODUCT_UNMAPPED"] == "finance_systems" and owners["CUSTOMER_UNMATCHED"] == "revops"


def test_every_analyst_facing_column_is_described(built: Scenario):
    """Every column of the canonical, reconciliation and publish tables has a description in the project's YAML
    (what `dbt docs` shows analysts)."""
    import yaml

    project = Path(__file__).resolve().parents[2] / "dbt_project"
    described: dict[str, set[str]] = {}
    for path in [*project.glob("models/**/*.yml"), *project.glob("snapshots/*.yml")]:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for node in (document.get("models") or []) + (document.get("snapshots") or []):
            described[node["name"]] = {c["name"] for c in node.get("columns") or [] if c.get("description")}
    columns = query(
        built.data_dir / "warehouse.duckdb",
        "select table_name, column_name from information_schema.columns"
        " where table_schema in ('canonical', 'reconciliation', 'publish')",
    )
    undocumented = sorted(f"{t}.{c}" for t, c in columns if c not in described.get(t, set()))
    assert undocumented == []
