"""reconciliation.exceptions keeps its history across builds without --full-refresh: first_seen_at stays, an
exception whose cause is gone is resolved at that run's now, and one whose cause returns reopens."""

from __future__ import annotations

import urllib.request
from datetime import datetime

import pytest

from sandbox.cluster import SandboxCluster
from tests.dbt_project.scenario_build import build, generate_scenario, ingest, query
from tests.pipelines.conftest import start_cluster

pytestmark = pytest.mark.slow

NOW_1 = "2026-10-31T23:00:00Z"  # the scenario's as_of
NOW_2 = "2026-11-01T23:00:00Z"
NOW_3 = "2026-11-02T23:00:00Z"
# the codes that compare amounts with var q2c_amount_tolerance (in the scenario, each is injected as amount drift)
TOLERANCE_CODES = (
    "INVOICE_AMOUNT_MISMATCH",
    "INVOICE_TAX_MISMATCH",
    "PAYMENT_AMOUNT_MISMATCH",
    "CONTRACT_VALUE_MISMATCH",
)


def delete_erp_record(cluster: SandboxCluster, record_type: str, internal_id: str) -> None:
    """What a person fixing the ERP does: delete the record through the ERP's REST API."""
    erp = cluster.endpoint("erp")
    request = urllib.request.Request(
        f"{erp.url}/services/rest/record/v1/{record_type}/{internal_id}",
        method="DELETE",
        headers={"Authorization": f"Bearer {erp.token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 204


def queue(warehouse) -> dict[tuple[str, str], tuple]:
    rows = query(
        warehouse,
        "select exception_type, subject_key, status, first_seen_at, last_seen_at, resolved_at, exception_id"
        " from reconciliation.exceptions",
    )
    return {(r[0], r[1]): r[2:] for r in rows}


def at(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_history_survives_rebuilds_and_follows_the_causes(tmp_path):
    fixtures = generate_scenario("S", 7, tmp_path)
    data_dir = tmp_path / "data"
    cluster = start_cluster(fixtures, tmp_path / "scratch")
    try:
        ingest(cluster, data_dir)
        build(data_dir, NOW_1)
        warehouse = data_dir / "warehouse.duckdb"
        first = queue(warehouse)
        assert first and all(row[0] == "open" and row[1] == at(NOW_1) for row in first.values())

        # the cause of one orphan disappears in the ERP; amount drift stops counting under a huge tolerance
        orphan = sorted(key for key in first if key[0] == "INVOICE_ORPHAN_IN_ERP")[0]
        delete_erp_record(cluster, "invoice", orphan[1])
        ingest(cluster, data_dir, ("erp",))
        build(data_dir, NOW_2, q2c_amount_tolerance=1_000_000)
        second = queue(warehouse)
        amount_drift = [key for key in first if key[0] in TOLERANCE_CODES]
        assert {code for code, _ in amount_drift} == set(TOLERANCE_CODES)
        for key in [orphan, *amount_drift]:
            status, first_seen, last_seen, resolved_at, _ = second[key]
            assert (status, first_seen, last_seen, resolved_at) == ("resolved", at(NOW_1), at(NOW_1), at(NOW_2))
        for key, row in first.items():
            if key not in (orphan, *amount_drift):
                assert second[key][:4] == ("open", at(NOW_1), at(NOW_2), None), key
            assert second[key][4] == row[4], "exception_id is stable"

        # the tolerance is back: the amount drift reopens with its first sighting; the deleted orphan stays resolved
        build(data_dir, NOW_3)
        third = queue(warehouse)
        for key in amount_drift:
            assert third[key][:4] == ("open", at(NOW_1), at(NOW_3), None)
        assert third[orphan][:4] == ("resolved", at(NOW_1), at(NOW_1), at(NOW_2))
        assert set(third) == set(first) | set(second)

        # the daily KPIs accumulate one day per run
        days = query(warehouse, "select distinct kpi_date from reconciliation.kpis order by 1")
        assert [str(d[0]) for d in days] == ["2026-10-31", "2026-11-01", "2026-11-02"]
        resolved_share = query(
            warehouse,
            "select kpi_value from reconciliation.kpis"
            " where kpi_date = '2026-11-01' and kpi_name = 'auto_resolved_share'",
        )
        assert resolved_share[0][0] > 0
    finally:
        errors = cluster.errors()
        cluster.stop()
    assert errors == [], errors
