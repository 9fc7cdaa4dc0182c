"""Search: filterGroups on the last-modified time, sorts, offset paging and HubSpot's 10,000-result cap."""

from pathlib import Path

import httpx
import pytest
from hubspot.crm.companies import ApiException, Filter, FilterGroup, PublicObjectSearchRequest

from sandbox.clock import SandboxClock
from sandbox.crm import objects
from sandbox.crm.app import DEFAULT_TOKEN, create_app
from sandbox.fixtures import write_collection
from sandbox.http import SandboxServer

from .crm_fixture import AS_OF, BASE_MS, HOUR_MS, CrmFixture, sdk

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def _modified_since(since_ms: int, *, limit: int, after: str | None = None) -> PublicObjectSearchRequest:
    return PublicObjectSearchRequest(
        filter_groups=[
            FilterGroup(filters=[Filter(property_name="hs_lastmodifieddate", operator="GTE", value=str(since_ms))])
        ],
        sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        properties=["name", "stripe_customer_id"],
        limit=limit,
        after=after,
    )


def _search_all(search_api, request_for) -> tuple[list[str], int]:
    ids, after, total = [], None, 0
    while True:
        page = search_api.do_search(request_for(after))
        total = page.total
        ids += [r.id for r in page.results]
        if page.paging is None or page.paging.next is None:
            return ids, total
        after = page.paging.next.after


def test_modified_since_pages_exactly_the_expected_ids(reader: SandboxServer, crm_fixture: CrmFixture) -> None:
    since = BASE_MS + 30 * HOUR_MS
    expected = sorted(
        (ms, int(cid))
        for cid, ms in crm_fixture.company_updated_ms.items()
        if ms >= since and cid != "1150"  # the archived company is never found by search
    )
    search_api = sdk(reader).crm.companies.search_api
    ids, total = _search_all(search_api, lambda after: _modified_since(since, limit=7, after=after))
    assert ids == [str(cid) for _, cid in expected]
    assert total == len(expected)
    first = search_api.do_search(_modified_since(since, limit=7))
    assert set(first.results[0].properties) == {
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "name",
        "stripe_customer_id",
    }


def test_operators(reader: SandboxServer) -> None:
    url = f"{reader.url}/crm/v3/objects/deals/search"

    def ids(*filters: dict, **body: object) -> list[str]:
        resp = httpx.post(url, json={"filterGroups": [{"filters": list(filters)}], "limit": 200, **body}, headers=AUTH)
        assert resp.status_code == 200, resp.text
        return [r["id"] for r in resp.json()["results"]]

    won = ids({"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"})
    assert won == [str(d) for d in range(3001, 3041) if objects.DEAL_STAGES[d % 7] == "closedwon"]
    assert ids({"propertyName": "dealstage", "operator": "EQ", "value": "CLOSEDWON"}) == won  # case-insensitive
    assert ids({"propertyName": "stripe_subscription_id", "operator": "HAS_PROPERTY"}) == won
    assert len(ids({"propertyName": "dealstage", "operator": "NEQ", "value": "closedwon"})) == 40 - len(won)
    assert ids({"propertyName": "dealstage", "operator": "IN", "values": ["closedwon", "closedlost"]}) == [
        str(d) for d in range(3001, 3041) if objects.DEAL_STAGES[d % 7] in ("closedwon", "closedlost")
    ]
    assert ids({"propertyName": "amount", "operator": "BETWEEN", "value": "2401.01", "highValue": "6002.5"}) == [
        "3003",
        "3004",
        "3005",
    ]
    assert ids({"propertyName": "amount", "operator": "GT", "value": "46819.5"}) == ["3040"]
    assert ids({"propertyName": "hs_object_id", "operator": "LTE", "value": "3002"}) == ["3001", "3002"]
    iso = "2026-01-01T00:39:00.000Z"  # ISO-8601 as well as epoch ms
    assert ids({"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": iso}) == ["3040"]
    assert ids(sorts=[{"propertyName": "amount", "direction": "DESCENDING"}])[:2] == ["3040", "3039"]


def test_or_of_filter_groups_and_limits(reader: SandboxServer) -> None:
    url = f"{reader.url}/crm/v3/objects/contacts/search"
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": "email", "operator": "EQ", "value": "person2001@example.com"}]},
            {"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": "2002"}]},
        ]
    }
    assert [r["id"] for r in httpx.post(url, json=body, headers=AUTH).json()["results"]] == ["2001", "2002"]
    too_big = httpx.post(url, json={"limit": 201}, headers=AUTH)
    assert too_big.status_code == 400 and too_big.json()["category"] == "VALIDATION_ERROR"
    unknown = httpx.post(
        url,
        json={"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ", "value": "1"}]}]},
        headers=AUTH,
    )
    assert unknown.status_code == 400 and "nope" in unknown.json()["message"]
    six_groups = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "HAS_PROPERTY"}]}] * 6}
    assert httpx.post(url, json=six_groups, headers=AUTH).status_code == 400


def test_cap_refuses_paging_beyond_it(crm_fixture: CrmFixture, tmp_path: Path) -> None:
    app = create_app(crm_fixture.root, tmp_path, clock=SandboxClock(AS_OF), search_result_cap=50)
    with SandboxServer(app) as srv:
        search_api = sdk(srv).crm.companies.search_api
        seen: list[str] = []
        with pytest.raises(ApiException) as err:
            _search_all(search_api, lambda after: _modified_since(0, limit=20, after=after))
        assert err.value.status == 400
        body = httpx.post(
            f"{srv.url}/crm/v3/objects/companies/search", json={"after": "50", "limit": 10}, headers=AUTH
        ).json()
        assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR" and body["correlationId"]
        page = httpx.post(
            f"{srv.url}/crm/v3/objects/companies/search", json={"after": "40", "limit": 20}, headers=AUTH
        ).json()
        seen = [r["id"] for r in page["results"]]
        assert len(seen) == 10 and page["total"] == 149  # total counts every match; results stop at the cap
        assert page["paging"]["next"]["after"] == "50"  # HubSpot still offers the page it will refuse
        assert srv.errors == []


def test_default_cap_is_10000(tmp_path: Path) -> None:
    companies = (
        objects.company(id=i, name=f"C{i}", created_ms=BASE_MS, updated_ms=BASE_MS + i) for i in range(1, 10_051)
    )
    write_collection(tmp_path / "fx", "crm", "companies", companies)
    app = create_app(tmp_path / "fx", tmp_path / "work", clock=SandboxClock(AS_OF))
    with SandboxServer(app) as srv:
        url = f"{srv.url}/crm/v3/objects/companies/search"
        body = {"sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}], "limit": 200}
        last = httpx.post(url, json={**body, "after": "9800"}, headers=AUTH).json()
        assert last["total"] == 10_050 and last["results"][-1]["id"] == "10000"
        assert last["paging"]["next"]["after"] == "10000"
        refused = httpx.post(url, json={**body, "after": "10000"}, headers=AUTH)
        assert refused.status_code == 400 and refused.json()["category"] == "VALIDATION_ERROR"
        # narrowing the filter (the documented way out) reaches the rest
        rest = httpx.post(
            url,
            json={
                **body,
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": "hs_lastmodifieddate", "operator": "GT", "value": str(BASE_MS + 10_000)}
                        ]
                    }
                ],
            },
            headers=AUTH,
        ).json()
        assert [r["id"] for r in rest["results"]] == [str(i) for i in range(10_001, 10_051)]
        assert srv.errors == []
