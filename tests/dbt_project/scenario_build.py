"""Helpers for the reconciliation tests: a generated scenario served by the real sandboxes, ingested into
raw.duckdb and built with dbt (``run_build``), plus readers of the scenario's fixture files and of the marts."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.build.runner import BuildResult, run_build
from pipelines.ingest.runner import SOURCES, run_ingest
from sandbox.cluster import SandboxCluster
from sandbox.fixtures import collection_path, read_manifest
from tests.pipelines.conftest import endpoints_of, start_cluster

# the reconciliation marts and everything they are built from; other folders (publish) are not needed here
RECONCILIATION = "+path:models/reconciliation"
EXPONENT = {"usd": 2, "gbp": 2, "eur": 2, "jpy": 0, "kwd": 3}


@dataclass(frozen=True)
class Scenario:
    fixtures: Path
    data_dir: Path

    @property
    def as_of(self) -> str:
        return read_manifest(self.fixtures)["as_of"]

    @property
    def expected(self) -> set[tuple[str, str]]:
        rows = json.loads((self.fixtures / "expected_exceptions.json").read_text(encoding="utf-8"))
        return {(row["exception_type"], row["subject_key"]) for row in rows}


def generate_scenario(scale: str, seed: int, root: Path) -> Path:
    from sandbox.scenario.generate import generate

    out = root / f"scenario-{scale}-{seed}"
    generate(scale, seed, out)
    return out


def ingest(cluster: SandboxCluster, data_dir: Path, sources: tuple[str, ...] = SOURCES) -> None:
    summaries = run_ingest(data_dir, sources, endpoints_of(cluster))
    assert all(s.ok for s in summaries), [s.error for s in summaries]


def served_and_ingested(scale: str, seed: int, root: Path, fixtures: Path | None = None) -> Scenario:
    """Generate (unless ``fixtures`` holds the scenario), serve on free loopback ports, ingest every source, stop
    the servers."""
    fixtures = fixtures or generate_scenario(scale, seed, root)
    data_dir = root / "data"
    cluster = start_cluster(fixtures, root / "scratch")
    try:
        ingest(cluster, data_dir)
    finally:
        errors = cluster.errors()
        cluster.stop()
    assert errors == [], errors
    return Scenario(fixtures, data_dir)


def build(data_dir: Path, now: str, **dbt_vars: object) -> BuildResult:
    result = run_build(data_dir, now=now, select=RECONCILIATION, vars=dict(dbt_vars) or None)
    assert result.ok, (result.error, [f.describe() for f in result.failures])
    return result


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def load(fixtures: Path, system: str, collection: str) -> list[dict]:
    path = collection_path(fixtures, system, collection)
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line, parse_float=Decimal) for line in lines if line.strip()]


def major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-EXPONENT[currency.lower()])


def primary_erp_records(fixtures: Path, record_type: str) -> dict[str, dict]:
    """ERP records of one type by billing key, the primary one per key (externalId first, else lowest id)."""
    by_key: dict[str, list[dict]] = defaultdict(list)
    for record in load(fixtures, "erp", record_type):
        external = record.get("externalId")
        key = external[5:] if isinstance(external, str) and external.startswith("bill-") else None
        key = key or record.get("custbody_q2c_billing_id")
        if key:
            by_key[key].append(record)
    return {
        key: sorted(records, key=lambda r: (r.get("externalId") is None, int(r["id"])))[0]
        for key, records in by_key.items()
    }
