"""Fixtures for build tests: one ingest of the S scenario per session, copied into each test's data folder,
and copies of the dbt project (whole, or just the ops staging) so a test never writes into the repository."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from pipelines.build.paths import PROJECT_DIR
from pipelines.data_dir import raw_path
from pipelines.ingest.runner import SOURCES, run_ingest
from tests.pipelines.conftest import endpoints_of, start_cluster

DBT_LEFTOVERS = ("target", "logs", "dbt_packages")


@pytest.fixture(scope="session")
def raw_db(scenario_dir, tmp_path_factory) -> Path:
    """raw.duckdb of the S scenario (seed 7), ingested once per session; tests copy it, never write it."""
    folder = tmp_path_factory.mktemp("build-raw")
    cluster = start_cluster(scenario_dir, folder / "scratch")
    try:
        summaries = run_ingest(folder / "data", SOURCES, endpoints_of(cluster))
    finally:
        errors = cluster.errors()
        cluster.stop()
    assert all(s.ok for s in summaries), [s.error for s in summaries]
    assert errors == [], errors
    return raw_path(folder / "data")


def fresh_data_dir(raw_db: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(raw_db, raw_path(folder))
    return folder


def copy_project(dest: Path, *, only_ops: bool = False) -> Path:
    """A copy of dbt_project/ (without dbt's leftovers); ``only_ops`` keeps just the ops staging models, so
    a test does not depend on models being written by others at the same time."""
    ignore = shutil.ignore_patterns(*DBT_LEFTOVERS)
    if not only_ops:
        shutil.copytree(PROJECT_DIR, dest, ignore=ignore)
        return dest
    dest.mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy2(PROJECT_DIR / name, dest / name)
    shutil.copytree(PROJECT_DIR / "macros", dest / "macros", ignore=ignore)
    shutil.copytree(PROJECT_DIR / "models" / "staging" / "ops", dest / "models" / "staging" / "ops")
    return dest


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
