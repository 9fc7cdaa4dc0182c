"""Pytest fixtures for the billing sandbox: the fixture folder (built once per module), a shared read-only
server, a fresh server per test for writes, and an SDK client pointed at either."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe

from sandbox.billing.app import DEFAULT_TOKEN, create_app
from sandbox.clock import SandboxClock
from sandbox.http import SandboxServer

from .billing_fixture import AS_OF, BillingFixture, build_fixture


@pytest.fixture(scope="module")
def billing_fixture(tmp_path_factory: pytest.TempPathFactory) -> BillingFixture:
    return build_fixture(tmp_path_factory.mktemp("billing-fixtures"))


@pytest.fixture(scope="module")
def read_server(billing_fixture: BillingFixture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """One server for tests that only read (frozen clock: the 30-day event window is exact)."""
    app = create_app(billing_fixture.root, tmp_path_factory.mktemp("work"), clock=SandboxClock(AS_OF, frozen=True))
    with SandboxServer(app) as srv:
        yield srv
        assert srv.errors == []


@pytest.fixture
def write_server(billing_fixture: BillingFixture, tmp_path: Path) -> Iterator[SandboxServer]:
    """A fresh server per test, so writes never leak between tests."""
    app = create_app(billing_fixture.root, tmp_path / "work", clock=SandboxClock(AS_OF, frozen=True))
    with SandboxServer(app) as srv:
        yield srv
        assert srv.errors == []


def sdk(srv: SandboxServer, **kwargs: object) -> stripe.StripeClient:
    return stripe.StripeClient(DEFAULT_TOKEN, base_addresses={"api": srv.url}, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def client(read_server: SandboxServer) -> stripe.StripeClient:
    return sdk(read_server)


@pytest.fixture
def write_client(write_server: SandboxServer) -> stripe.StripeClient:
    return sdk(write_server)
