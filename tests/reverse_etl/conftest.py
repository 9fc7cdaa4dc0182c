"""Push tests run against the real ERP sandbox (HTTP on 127.0.0.1) and a real ``warehouse.duckdb``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.http import SandboxServer
from tests.reverse_etl.erp_company import serve_company, write_company

TOKEN = "q2c-erp-sandbox"


@pytest.fixture(scope="session")
def company(tmp_path_factory) -> Path:
    """The ERP fixture folder (written once; servers never write to it)."""
    return write_company(tmp_path_factory.mktemp("erp-company"))


@pytest.fixture
def erp(company: Path, tmp_path: Path) -> Iterator[SandboxServer]:
    with serve_company(company, tmp_path / "erp-work") as server:
        yield server
        assert server.errors == []


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


class ErpView:
    """Reads the sandbox through its HTTP API, as an auditor would."""

    def __init__(self, url: str, token: str = TOKEN) -> None:
        self.http = httpx.Client(
            base_url=f"{url}/services/rest/record/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def get(self, record_type: str, external_id: str) -> dict | None:
        response = self.http.get(f"/{record_type}/eid:{external_id}", params={"expandSubResources": "true"})
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def count(self, record_type: str) -> int:
        response = self.http.get(f"/{record_type}", params={"limit": 1})
        response.raise_for_status()
        return response.json()["totalResults"]

    def lines(self, record_type: str, external_id: str, sublist: str) -> list[dict]:
        record = self.get(record_type, external_id)
        assert record is not None, f"{record_type} {external_id} is not in the ERP"
        return record.get(sublist, {}).get("items", [])

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def view(erp: SandboxServer) -> Iterator[ErpView]:
    v = ErpView(erp.url)
    yield v
    v.close()
