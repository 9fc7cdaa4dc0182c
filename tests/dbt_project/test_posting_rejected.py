"""After a real push, the ERP's refusals reach the exception queue as POSTING_REJECTED (from the reverse-ETL ledger),
exactly for the ground truth's subjects. (The rest of the queue legitimately moves on after a push: missing postings
get posted, and a customer the push created in the ERP releases its held invoices, some into closed periods.)"""

from __future__ import annotations

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
