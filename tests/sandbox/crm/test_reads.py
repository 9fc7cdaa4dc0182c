"""Lists, reads by id and the properties API, through the official hubspot-api-client and plain httpx."""

import httpx
import pytest
from hubspot.crm.companies import ApiException

from sandbox.crm.app import DEFAULT_TOKEN
from sandbox.http import SandboxServer

from .crm_fixture import ARCHIVED_COMPANY, LOSERS, WINNER, CrmFixture, sdk

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


@pytest.mark.parametrize("type_name", ["companies", "contacts", "deals", "products", "line_items"])
def test_get_all_returns_every_active_record(reader: SandboxServer, crm_fixture: CrmFixture, type_name: str) -> None:
    results = getattr(sdk(reader).crm, type_name).get_all()
    ids = [r.id for r in results]
    assert len(ids) == crm_fixture.counts[type_name] == len(set(ids))
    assert ids == sorted(ids, key=int)


def test_list_pages_by_id_with_an_absolute_link_that_works(reader: SandboxServer) -> None:
    first = httpx.get(f"{reader.url}/crm/v3/objects/companies", params={"limit": 100}, headers=AUTH).json()
    assert len(first["results"]) == 100
    nxt = first["paging"]["next"]
    assert nxt["after"] == "1101" and nxt["link"].startswith(reader.url + "/crm/v3/objects/companies?")
    second = httpx.get(nxt["link"], headers=AUTH).json()
    assert [r["id"] for r in second["results"]] == [str(i) for i in range(1101, 1150)]
    assert "paging" not in second  # the last page has no paging key


def test_default_limit_is_ten_and_limit_above_100_is_refused(reader: SandboxServer) -> None:
    page = httpx.get(f"{reader.url}/crm/v3/objects/companies", headers=AUTH).json()
    assert len(page["results"]) == 10
    refused = httpx.get(f"{reader.url}/crm/v3/objects/companies", params={"limit": 101}, headers=AUTH)
    assert refused.status_code == 400 and refused.json()["category"] == "VALIDATION_ERROR"


def test_properties_repeated_or_comma_joined_and_all_strings(reader: SandboxServer) -> None:
    url = f"{reader.url}/crm/v3/objects/companies"
    repeated = httpx.get(url, params=[("properties", "name"), ("properties", "stripe_customer_id")], headers=AUTH)
    joined = httpx.get(url, params={"properties": "name,stripe_customer_id"}, headers=AUTH)
    both = httpx.get(
        url, params=[("properties", "name,stripe_customer_id"), ("properties", "subsidiary")], headers=AUTH
    )
    expected = {"createdate", "hs_lastmodifieddate", "hs_object_id", "name", "stripe_customer_id"}
    assert set(repeated.json()["results"][0]["properties"]) == expected
    assert repeated.json()["results"] == joined.json()["results"]
    assert set(both.json()["results"][0]["properties"]) == expected | {"subsidiary"}
    for obj in both.json()["results"]:
        assert all(v is None or isinstance(v, str) for v in obj["properties"].values())
    default = httpx.get(url, headers=AUTH).json()["results"][0]["properties"]
    assert set(default) == {"createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"}


def test_sdk_reads_custom_properties_as_strings(reader: SandboxServer) -> None:
    companies = sdk(reader).crm.companies.get_all(properties=["stripe_customer_id", "netsuite_customer_id"])
    by_id = {c.id: c.properties for c in companies}
    assert by_id["1001"]["stripe_customer_id"] == "cus_1001" and by_id["1001"]["netsuite_customer_id"] == "1701"
    assert by_id["1002"]["netsuite_customer_id"] is None


def test_archived_lists_only_archived_records(reader: SandboxServer) -> None:
    page = httpx.get(f"{reader.url}/crm/v3/objects/companies", params={"archived": "true"}, headers=AUTH).json()
    assert [r["id"] for r in page["results"]] == [str(ARCHIVED_COMPANY)]
    assert page["results"][0]["archived"] is True and page["results"][0]["archivedAt"]
    with pytest.raises(ApiException) as err:
        sdk(reader).crm.companies.basic_api.get_by_id(str(ARCHIVED_COMPANY))
    assert err.value.status == 404


def test_merged_away_id_resolves_to_the_winner(reader: SandboxServer) -> None:
    client = sdk(reader)
    for loser in LOSERS:
        company = client.crm.companies.basic_api.get_by_id(loser, properties=["hs_merged_object_ids"])
        assert company.id == str(WINNER)
        assert company.properties["hs_merged_object_ids"] == ";".join(LOSERS)
    listed = {c.id for c in client.crm.companies.get_all()}
    assert not listed & set(LOSERS)


def test_get_by_id_property_and_type_id(reader: SandboxServer) -> None:
    by_email = httpx.get(
        f"{reader.url}/crm/v3/objects/contacts/person2005@example.com", params={"idProperty": "email"}, headers=AUTH
    )
    assert by_email.json()["id"] == "2005"
    by_type_id = httpx.get(f"{reader.url}/crm/v3/objects/0-2/1001", headers=AUTH)
    assert by_type_id.json()["properties"]["name"] == "Company 1001"


def test_batch_read_reports_missing_ids_with_207(reader: SandboxServer) -> None:
    body = {"inputs": [{"id": "1001"}, {"id": LOSERS[0]}, {"id": "999999"}], "properties": ["name"]}
    resp = httpx.post(f"{reader.url}/crm/v3/objects/companies/batch/read", json=body, headers=AUTH)
    assert resp.status_code == 207
    data = resp.json()
    assert [r["id"] for r in data["results"]] == ["1001", str(WINNER)]
    assert data["errors"][0]["category"] == "OBJECT_NOT_FOUND" and data["errors"][0]["context"]["ids"] == ["999999"]


def test_properties_api_lists_custom_properties(reader: SandboxServer) -> None:
    props = sdk(reader).crm.properties.core_api.get_all("companies").results
    by_name = {p.name: p for p in props}
    assert {"stripe_customer_id", "netsuite_customer_id", "subsidiary", "hs_lastmodifieddate"} <= set(by_name)
    assert by_name["hs_lastmodifieddate"].type == "datetime"
    assert by_name["subsidiary"].group_name == "companyinformation" and by_name["subsidiary"].options
    deal_props = {p.name for p in sdk(reader).crm.properties.core_api.get_all("deals").results}
    assert {"stripe_subscription_id", "dealstage", "amount"} <= deal_props
