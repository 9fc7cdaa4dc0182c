"""Pytest fixtures for the CRM sandbox tests: the fixture folder (built once) and a fresh server per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.clock import SandboxClock
from sandbox.crm.app import create_app
from sandbox.http import SandboxServer

from .crm_fixture import AS_OF, CrmFixture, build_fixture


@pytest.fixture(scope="module")
def crm_fixture(tmp_path_factory: pytest.TempPathFactory) -> CrmFixture:
    return build_fixture(tmp_path_factory.mktemp("crm-fixtures"))


@pytest.fixture
def served(crm_fixture: CrmFixture, tmp_path: Path) -> Iterator[SandboxServer]:
    """A fresh server per test (writes in one test never leak into another)."""
    app = create_app(crm_fixture.root, tmp_path / "work", clock=SandboxClock(AS_OF))
    with SandboxServer(app) as srv:
        yield srv
        assert srv.errors == []


@pytest.fixture(scope="module")
def reader(crm_fixture: CrmFixture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """One server shared by a module's read-only tests (a server's shutdown costs half a second)."""
    app = create_app(crm_fixture.root, tmp_path_factory.mktemp("crm-work"), clock=SandboxClock(AS_OF))
    with SandboxServer(app) as srv:
        yield srv
        assert srv.errors == []
