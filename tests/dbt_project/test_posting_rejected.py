"""The round trip push → ingest → build.

The ERP's refusals reach the exception queue as POSTING_REJECTED (from the reverse-ETL ledger), exactly for the
ground truth's subjects; nothing q2c could post stays missing; and every invoice q2c posted matches its billing
invoice in reconciliation.invoice_matches. (The rest of the queue legitimately moves on after a push: a customer
the push created in the ERP releases its held invoices, some into closed periods.)"""

from __future__ import annotations

import sqlite3

import pytest

from pipelines.build.runner import run_build
from reverse_etl.push import push
from tests.dbt_project.scenario_build import Scenario, generate_scenario, ingest, query
from tests.pipelines.conftest import start_cluster

pytestmark = pytest.mark.slow


def test_refused_pushes_become_posting_rejected(tmp_path):
    fixtures = generate_scenario("S", 7, tmp_path)
    data_dir = tmp_path / "data"
    cluster = start_cluster(fixtures, tmp_path / "scratch")
    try:
        ingest(cluster, data_dir)
        as_of = "2026-10-31T23:00:00Z"
        # the whole project: the push reads the publish models
        first = run_build(data_dir, now=as_of)
        assert first.ok, (first.error, [f.describe() for f in first.failures])
        erp = cluster.endpoint("erp")
        push(data_dir, endpoint=(erp.url, erp.token))
        ingest(cluster, data_dir, ("erp",))
        second = run_build(data_dir, now=as_of)
        assert second.ok, (second.error, [f.describe() for f in second.failures])
    finally:
        errors = cluster.errors()
        cluster.stop()
    assert errors == [], errors
    expected = Scenario(fixtures, data_dir).expected
    rejected = set(
        query(
            data_dir / "warehouse.duckdb",
            "select exception_type, subject_key from reconciliation.exceptions"
            " where status = 'open' and exception_type = 'POSTING_REJECTED'",
        )
    )
    assert rejected == {pair for pair in expected if pair[0] == "POSTING_REJECTED"}

    warehouse = data_dir / "warehouse.duckdb"
    still_missing = query(
        warehouse,
        "select exception_type, subject_key from reconciliation.exceptions where status = 'open'"
        " and exception_type in ('INVOICE_MISSING_IN_ERP', 'PAYMENT_MISSING_IN_ERP', 'CREDIT_NOTE_MISSING_IN_ERP')",
    )
    held = {
        row[0]
        for row in query(
            warehouse,
            "select subject_key from publish.erp_invoices where validation_status = 'quarantined'"
            " union all select subject_key from publish.erp_customer_payments where validation_status = 'quarantined'"
            " union all select subject_key from publish.erp_credit_memos where validation_status = 'quarantined'",
        )
    }
    assert [pair for pair in still_missing if pair[1] not in held] == []
    assert {"INVOICE_MISSING_IN_ERP", "PAYMENT_MISSING_IN_ERP"} & {t for t, _ in expected}  # there was work to do

    with sqlite3.connect(data_dir / "ops.sqlite") as ledger:
        posted = [
            row[0][len("bill-") :]
            for row in ledger.execute(
                "select external_id from postings where record_type = 'invoice' and state = 'posted'"
            )
        ]
    assert posted, "the push posted no invoice"
    statuses = dict(
        query(
            warehouse,
            "select invoice_id, match_status from reconciliation.invoice_matches"
            " where is_primary_match and list_contains(?, invoice_id)",
            [posted],
        )
    )
    assert statuses == {invoice_id: "matched" for invoice_id in posted}
