"""An ERP-only sandbox per test (the three-system cluster costs three fixture loads; these tests need one)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipelines.ingest.runner import Endpoint
from sandbox.clock import SandboxClock, parse_iso
from sandbox.erp.app import create_app
from sandbox.faults import FaultPlan
from sandbox.fixtures import read_manifest
from sandbox.http import SandboxServer

ERP_INDEX = 2  # the cluster derives each system's fault seed from its index: erp is the third


@contextmanager
def erp_sandbox(
    fixtures: Path, workdir: Path, *, faults: str = "none", clock: SandboxClock | None = None, **app_options
) -> Iterator[tuple[Endpoint, SandboxServer]]:
    """The NetSuite sandbox on a free loopback port, with the clock and fault stream the cluster would use."""
    manifest = read_manifest(fixtures)
    clock = clock or SandboxClock(parse_iso(manifest["as_of"]))
    plan = FaultPlan(faults, seed=int(manifest.get("seed", 0)) * 31 + ERP_INDEX)
    app = create_app(fixtures, workdir, faults=plan, clock=clock, **app_options)
    with SandboxServer(app) as server:
        yield Endpoint(server.url, app.token), server
        assert server.errors == []


@pytest.fixture
def erp(scenario_dir, tmp_path) -> Iterator[Endpoint]:
    """A fresh NetSuite sandbox per test (tests that write through the API must not leak into others)."""
    with erp_sandbox(scenario_dir, tmp_path / "erp-sandbox") as (endpoint, _):
        yield endpoint
