"""Fixtures for pipeline tests: a generated S scenario served on free loopback ports, and raw snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.ingest.runner import Endpoint
from sandbox.cluster import SandboxCluster


@pytest.fixture(scope="session")
def scenario_dir(tmp_path_factory) -> Path:
    """The S scenario, seed 7 (generated once per test session; tests never write to it)."""
    from sandbox.scenario.generate import generate

    out = tmp_path_factory.mktemp("pipelines-scenario-S-7")
    generate("S", 7, out)
    return out


def start_cluster(scenario: Path, scratch: Path, faults: str = "none") -> SandboxCluster:
    return SandboxCluster(scenario, faults=faults, scratch_root=scratch).start()


def endpoints_of(cluster: SandboxCluster) -> dict[str, Endpoint]:
    return {e.system: Endpoint(e.url, e.token) for e in cluster.endpoints}


@pytest.fixture
def sandbox(scenario_dir, tmp_path) -> Iterator[SandboxCluster]:
    """A fresh sandbox per test (tests that change data through the APIs must not leak into others)."""
    cluster = start_cluster(scenario_dir, tmp_path / "scratch")
    yield cluster
    errors = cluster.errors()
    cluster.stop()
    assert errors == [], errors
