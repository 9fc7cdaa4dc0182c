"""The publish layer on the real S scenario: generate, serve, ingest, ``dbt build +publish``, then check the
postings, and POST the ready postings of one subsidiary to the ERP sandbox, which must accept them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import httpx
import pytest

from models.postings import validate_payload
from pipelines.build.dbt_session import DbtSession
from pipelines.build.paths import BuildPaths
from pipelines.build.runner import run_build
from pipelines.data_dir import raw_path
from pipelines.ingest.runner import SOURCES, run_ingest
from sandbox.cluster import SandboxCluster
from tests.pipelines.conftest import endpoints_of, start_cluster

pytestmark = pytest.mark.slow

POSTING_TABLES = ("erp_customers", "erp_invoices", "erp_credit_memos", "erp_customer_payments", "erp_journal_entries")
NOW = "2026-10-31T23:00:00Z"


@dataclass
class Published:
    data_dir: Path
    scenario: Path
    cluster: SandboxCluster

    def rows(self, sql: str) -> list[dict]:
        with duckdb.connect(str(self.data_dir / "warehouse.duckdb"), read_only=True) as con:
            cursor = con.execute(sql)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Iterator[Published]:
    """The S scenario (seed 7) served and ingested, the warehouse built through publish (invoice mode, quarantine
    policy). The sandbox keeps running so that tests can post to the ERP."""
    from sandbox.scenario.generate import generate

    root = tmp_path_factory.mktemp("publish")
    scenario = root / "scenario"
    generate("S", 7, scenario)
    cluster = start_cluster(scenario, root / "scratch")
    try:
        summaries = run_ingest(root / "data", SOURCES, endpoints_of(cluster))
        assert all(s.ok for s in summaries), [s.error for s in summaries]
        result = run_build(root / "data", now=NOW, select="+publish")
        assert result.ok, (result.error, [(f.node, f.message) for f in result.failures])
        yield Published(root / "data", scenario, cluster)
    finally:
        errors = cluster.errors()
        cluster.stop()
    assert errors == [], errors


def test_every_payload_passes_validate_payload(published):
    """Ready payloads are complete; a quarantined one may lack only what its reason says is missing."""
    checked = 0
    for table in POSTING_TABLES:
        rows = published.rows(
            f"select record_type, external_id, payload, validation_status, reason_code from publish.{table}"
        )
        for row in rows:
            payload = json.loads(row["payload"])
            assert payload["externalId"] == row["external_id"]
            problems = validate_payload(row["record_type"], payload)
            if row["validation_status"] == "ready" or row["reason_code"] not in (
                "PRODUCT_UNMAPPED",
                "REFERENCE_MISSING",
            ):
                assert problems == [], row["external_id"]
            checked += 1
    assert checked > 900


def test_payload_hash_is_the_sha256_of_the_payload(published):
    import hashlib

    for table in POSTING_TABLES:
        for row in published.rows(f"select payload, payload_hash from publish.{table}"):
            assert hashlib.sha256(row["payload"].encode()).hexdigest() == row["payload_hash"]


def test_journals_balance(published):
    journals = published.rows("select * from publish.erp_journal_entries")
    assert journals and all(j["validation_status"] == "ready" for j in journals)
    for journal in journals:
        lines = json.loads(journal["payload"])["line"]["items"]
        debits = sum((Decimal(str(line.get("debit", 0))) for line in lines), Decimal(0))
        credit_total = sum((Decimal(str(line.get("credit", 0))) for line in lines), Decimal(0))
        assert debits == credit_total == journal["total_debit"] == journal["total_credit"] > 0


def test_revenue_recognition_of_every_line_sums_to_its_amount(published):
    off = published.rows(
        "select invoice_line_id, any_value(line_amount) as amount, sum(recognized_amount) as recognized "
        "from intermediate.int_publish__revenue_schedule group by invoice_line_id having amount != recognized"
    )
    assert off == []
    lines = published.rows(
        "select count(distinct invoice_line_id) as n from intermediate.int_publish__revenue_schedule"
    )
    assert lines[0]["n"] > 500


def test_quarantined_rows_carry_reasons_and_are_listed(published):
    held = published.rows("select * from publish.quarantined_postings")
    assert held and all(row["reason_code"] and row["reason"] for row in held)
    for table in POSTING_TABLES:
        bad = published.rows(
            f"select external_id from publish.{table} where validation_status = 'quarantined' "
            "and (reason_code is null or quarantine_reason is null) or validation_status = 'ready' "
            "and reason_code is not null"
        )
        assert bad == [], table
    listed = {row["external_id"] for row in held}
    for table in POSTING_TABLES:
        quarantined = published.rows(f"select external_id from publish.{table} where validation_status = 'quarantined'")
        assert {row["external_id"] for row in quarantined} <= listed, table
    closed = [row for row in held if row["reason_code"] == "POSTING_PERIOD_CLOSED"]
    assert closed and all(row["reason"].startswith("period closed") for row in closed)


def test_the_gate_finds_the_injected_unmapped_products_and_closed_periods(published):
    truth = json.loads((published.scenario / "expected_exceptions.json").read_text())
    expected = {(t["exception_type"], t["subject_key"]) for t in truth}
    held = published.rows("select reason_code, reason_subject_key from publish.quarantined_postings")
    found = {(row["reason_code"], row["reason_subject_key"]) for row in held}
    unmapped = {pair for pair in expected if pair[0] == "PRODUCT_UNMAPPED"}
    assert unmapped and unmapped <= found
    closed = {pair for pair in expected if pair[0] == "POSTING_PERIOD_CLOSED"}
    assert closed and closed <= found


def _post(client: httpx.Client, record_type: str, payload: str) -> httpx.Response:
    return client.post(f"/services/rest/record/v1/{record_type}", content=payload)


def test_the_erp_accepts_the_ready_postings_of_one_subsidiary(published):
    """Customers, invoices, credit memos, payments and journals of the subsidiary with most new invoices, posted in
    dependency order. Only the invoices of customers the ERP has deactivated are refused (POSTING_REJECTED), and
    the postings that depend on them."""
    new = published.rows(
        "select erp_subsidiary_id, count(*) as n from publish.erp_invoices "
        "where validation_status = 'ready' and not is_in_erp group by 1 order by n desc, 1 limit 1"
    )
    subsidiary = new[0]["erp_subsidiary_id"]
    inactive = {
        row["customer_id"]
        for row in published.rows("select customer_id from canonical.customers where is_erp_customer_inactive")
    }
    erp = published.cluster.endpoint("erp")
    headers = {"Authorization": f"Bearer {erp.token}", "Content-Type": "application/json"}
    accepted, refused = [], []
    with httpx.Client(base_url=erp.url, headers=headers, timeout=30) as client:
        for table, extra in (
            ("erp_customers", ""),
            ("erp_invoices", "and not is_in_erp"),
            ("erp_credit_memos", "and not is_in_erp"),
            ("erp_customer_payments", "and not is_in_erp"),
            ("erp_journal_entries", ""),
        ):
            customer = "null as customer_id" if table == "erp_journal_entries" else "customer_id"
            rows = published.rows(
                f"select external_id, record_type, payload, depends_on, {customer} from publish.{table} "
                f"where validation_status = 'ready' and erp_subsidiary_id = '{subsidiary}' {extra} order by 1"
            )
            for row in rows:
                response = _post(client, row["record_type"], row["payload"])
                blocked = row["customer_id"] in inactive or set(row["depends_on"] or []) & set(refused)
                if blocked:
                    assert response.status_code == 400, (row["external_id"], response.text)
                    refused.append(row["external_id"])
                else:
                    assert response.status_code in (201, 204), (row["external_id"], response.text)
                    accepted.append(row["external_id"])
        invoices = [eid for eid in accepted if eid.startswith("bill-in_")]
        assert invoices and any(eid.startswith("bill-ch_") or eid.startswith("bill-py_") for eid in accepted)
        journals = [eid for eid in accepted if eid.startswith("q2c-revrec-")]
        assert journals, accepted
        got = client.get(f"/services/rest/record/v1/invoice/eid:{invoices[0]}", params={"expandSubResources": "true"})
        assert got.status_code == 200 and got.json()["externalId"] == invoices[0]


def test_summary_mode_replaces_invoice_postings_with_balanced_daily_journals(published, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy2(raw_path(published.data_dir), raw_path(data))
    result = run_build(data, now=NOW, select="+publish", vars={"q2c_posting_mode": "summary"})
    assert result.ok, (result.error, [(f.node, f.message) for f in result.failures])
    summary = Published(data, published.scenario, published.cluster)
    for table in ("erp_invoices", "erp_credit_memos", "erp_customer_payments", "erp_invoice_lines"):
        assert summary.rows(f"select count(*) as n from publish.{table}")[0]["n"] == 0
    daily = summary.rows("select * from publish.erp_journal_entries where journal_kind = 'daily_summary'")
    assert daily and all(j["external_id"].startswith("q2c-daily-") for j in daily)
    for journal in daily:
        assert validate_payload("journalEntry", json.loads(journal["payload"])) == [], journal["external_id"]
        assert journal["total_debit"] == journal["total_credit"]
    # the gate still holds back what it held in invoice mode
    assert summary.rows("select count(*) as n from publish.quarantined_postings")[0]["n"] > 0


def test_the_dbt_unit_tests_pass(published, tmp_path):
    """`q2c build` leaves dbt's unit tests (fixture rows, not data) to the test suite. A unit test reads the columns
    of its model's inputs from the warehouse, so every relation is first built empty (``--empty``, no data tests)."""
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy2(raw_path(published.data_dir), raw_path(data))
    with DbtSession(BuildPaths(data), dbt_vars={"q2c_now": NOW}) as session:
        session.parse()
        empty = session.invoke(["build", "--empty", "--exclude-resource-type", "unit_test", "test"])
        assert empty.success, empty.exception
        outcome = session.invoke(["test", "--select", "test_type:unit"])
    assert outcome.success, outcome.exception
    results = outcome.result.results
    assert len(results) >= 11
    assert [r.node.unique_id for r in results if str(r.status) != "pass"] == []
