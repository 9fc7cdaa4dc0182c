"""CRM ingest test helpers: run the source into a temp data folder, serve the CRM sandbox alone, read raw rows."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from pipelines.data_dir import raw_path
from pipelines.ingest.runner import Endpoint, SourceSummary, quiet_dlt, run_source
from pipelines.sources.http_client import RequestStats
from sandbox.crm.app import create_app
from sandbox.fixtures import read_collection, read_manifest, write_collection
from sandbox.http import SandboxServer
from tests.pipelines.ingest.raw_snapshot import snapshot

DATASET = "raw_crm"
OBJECT_TABLES = ("companies", "contacts", "deals", "products", "line_items")


def run_crm(data_dir: Path, endpoint: Endpoint) -> SourceSummary:
    """One ingest run through the public runner; fails the test if the run failed."""
    quiet_dlt()
    summary = run_source(data_dir, "crm", endpoint)
    assert summary.ok, summary.error
    return summary


def run_counting(data_dir: Path, endpoint: Endpoint) -> RequestStats:
    """One ingest run whose request counts per endpoint the test can see."""
    quiet_dlt()
    stats = RequestStats()
    summary = run_source(data_dir, "crm", endpoint, stats=stats)
    assert summary.ok, summary.error
    return stats


def loaded(summary: SourceSummary) -> dict[str, int]:
    return {t.table: t.rows_loaded for t in summary.tables if t.rows_loaded}


def crm_snapshot(data_dir: Path) -> dict[str, list[tuple]]:
    return snapshot(raw_path(data_dir), DATASET)


def query(data_dir: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(raw_path(data_dir)), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def crm_endpoint(cluster) -> Endpoint:
    e = cluster.endpoint("crm")
    return Endpoint(e.url, e.token)


@contextmanager
def crm_server(fixtures: Path, workdir: Path, **app_options) -> Iterator[Endpoint]:
    """The CRM sandbox alone (e.g. with a small ``search_result_cap``) on a free loopback port."""
    app = create_app(fixtures, workdir, **app_options)
    server = SandboxServer(app).start()
    try:
        yield Endpoint(server.url, app.token)
    finally:
        errors = list(server.errors)
        server.stop()
        assert errors == [], errors


def manifest_counts(scenario: Path) -> dict[str, int]:
    return {k.split("/", 1)[1]: v for k, v in read_manifest(scenario)["counts"].items() if k.startswith("crm/")}


def crm_objects(scenario: Path, object_type: str) -> list[dict]:
    return list(read_collection(scenario, "crm", object_type))


def variant_scenario(scenario: Path, out: Path, edit: Callable[[str, list[dict]], list[dict]]) -> Path:
    """A copy of the scenario's fixture folder whose CRM collections ``edit(name, objects)`` rewrote."""
    shutil.copytree(scenario, out)
    for path in sorted((out / "crm").glob("*.jsonl")):
        name = path.stem
        write_collection(out, "crm", name, edit(name, list(read_collection(out, "crm", name))))
    manifest = json.loads((out / "manifest.json").read_text())
    for name in OBJECT_TABLES:
        manifest["counts"][f"crm/{name}"] = sum(1 for _ in read_collection(out, "crm", name))
    (out / "manifest.json").write_text(json.dumps(manifest, sort_keys=True))
    return out


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "q2c-data"


@pytest.fixture
def crm(scenario_dir, tmp_path) -> Iterator[Endpoint]:
    """The S scenario's CRM alone (faster than the three-system cluster; a fresh store per test)."""
    with crm_server(scenario_dir, tmp_path / "crm-sandbox") as endpoint:
        yield endpoint
