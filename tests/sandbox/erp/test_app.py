"""create_app: fixture folders load (missing files = empty), and an empty ERP accepts its reference data."""

from __future__ import annotations

from pathlib import Path

import httpx

from sandbox.erp.app import DEFAULT_TOKEN

from .conftest import serve

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def test_fixture_collections_load_with_their_projections(server) -> None:
    base = f"{server.url}/services/rest"
    customers = httpx.get(f"{base}/record/v1/customer", headers=AUTH).json()
    assert [i["id"] for i in customers["items"]] == ["100", "101"]
    q = {"q": "SELECT COUNT(*) AS n FROM transaction"}
    count = httpx.post(f"{base}/query/v1/suiteql", json=q, headers={**AUTH, "Prefer": "transient"}).json()
    assert count["items"][0]["n"] == "1"


def test_empty_sandbox_builds_up_through_the_api(tmp_path: Path) -> None:
    with (
        serve(None, tmp_path / "work") as srv,
        httpx.Client(base_url=f"{srv.url}/services/rest/record/v1", headers=AUTH) as c,
    ):
        assert c.get("/customer").json()["totalResults"] == 0
        currency = c.post("/currency", json={"symbol": "USD", "name": "US Dollar", "isBaseCurrency": True})
        currency_id = currency.headers["Location"].rsplit("/", 1)[1]
        sub = c.post("/subsidiary", json={"name": "US", "currency": {"id": currency_id}, "country": {"id": "US"}})
        assert sub.status_code == 204
        sub_id = sub.headers["Location"].rsplit("/", 1)[1]
        cust = c.post(
            "/customer", json={"companyName": "Acme", "subsidiary": {"id": sub_id}, "currency": {"id": currency_id}}
        )
        assert cust.status_code == 204
        assert c.get(cust.headers["Location"]).json()["subsidiary"]["refName"] == "US"
        assert c.get("/nosuchtype/1").status_code == 404
        assert srv.errors == []
