"""Shared sandbox fixtures: one generated S scenario per test session, served by the three systems."""

from __future__ import annotations

import pytest

from sandbox.cluster import SandboxCluster


@pytest.fixture(scope="session")
def scenario_s(tmp_path_factory):
    """A generated S scenario (seed 7): the fixture folder's path."""
    from sandbox.scenario.generate import generate

    out = tmp_path_factory.mktemp("scenario-S-7")
    generate("S", 7, out)
    return out


@pytest.fixture(scope="session")
def cluster_s(scenario_s, tmp_path_factory):
    """The three sandboxes serving the S scenario on free loopback ports, stopped after the session."""
    cluster = SandboxCluster(scenario_s, scratch_root=tmp_path_factory.mktemp("scratch")).start()
    yield cluster
    errors = cluster.errors()
    cluster.stop()
    assert errors == [], errors
