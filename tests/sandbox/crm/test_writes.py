"""Writes through the official client: PATCH a deal to closed won, create, archive, merge companies.

Each write stamps the sandbox clock, so "modified since" searches see it afterwards.
"""

import httpx
import pytest
from hubspot.crm.companies import ApiException, PublicMergeInput
from hubspot.crm.companies import Filter as CompanyFilter
from hubspot.crm.companies import FilterGroup as CompanyFilterGroup
from hubspot.crm.companies import PublicObjectSearchRequest as CompanySearch
from hubspot.crm.deals import Filter, FilterGroup, PublicObjectSearchRequest, SimplePublicObjectInput
from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealCreate

from sandbox.crm.app import DEFAULT_TOKEN
from sandbox.http import SandboxServer

from .crm_fixture import AS_OF, sdk

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
AS_OF_MS = AS_OF * 1000


def _deals_modified_since(ms: int) -> PublicObjectSearchRequest:
    return PublicObjectSearchRequest(
        filter_groups=[
            FilterGroup(filters=[Filter(property_name="hs_lastmodifieddate", operator="GTE", value=str(ms))])
        ],
        properties=["dealstage", "hs_is_closed_won"],
        limit=100,
    )


def test_deal_closed_won_by_patch_is_found_by_last_modified(served: SandboxServer) -> None:
    client = sdk(served)
    assert client.crm.deals.search_api.do_search(_deals_modified_since(AS_OF_MS)).total == 0
    updated = client.crm.deals.basic_api.update(
        "3002", SimplePublicObjectInput(properties={"dealstage": "closedwon", "stripe_subscription_id": "sub_new"})
    )
    assert updated.properties["dealstage"] == "closedwon" and updated.properties["hs_is_closed_won"] == "true"
    assert updated.updated_at.timestamp() * 1000 >= AS_OF_MS
    found = client.crm.deals.search_api.do_search(_deals_modified_since(AS_OF_MS))
    assert [d.id for d in found.results] == ["3002"]
    assert found.results[0].properties["hs_is_closed_won"] == "true"
    assert found.results[0].properties["hs_lastmodifieddate"] == updated.properties["hs_lastmodifieddate"]


def test_patch_refuses_unknown_read_only_and_invalid_values(served: SandboxServer) -> None:
    url = f"{served.url}/crm/v3/objects/deals/3002"
    for props, code in (
        ({"nope": "1"}, "PROPERTY_DOESNT_EXIST"),
        ({"hs_lastmodifieddate": "1"}, "READ_ONLY_VALUE"),
        ({"dealstage": "won"}, "INVALID_OPTION"),
    ):
        resp = httpx.patch(url, json={"properties": props}, headers=AUTH)
        assert resp.status_code == 400 and resp.json()["category"] == "VALIDATION_ERROR"
        assert code in resp.json()["message"]
    missing = httpx.patch(f"{served.url}/crm/v3/objects/deals/999", json={"properties": {}}, headers=AUTH)
    assert missing.status_code == 404 and missing.json()["category"] == "OBJECT_NOT_FOUND"


def test_create_with_association_then_archive(served: SandboxServer) -> None:
    client = sdk(served)
    created = client.crm.deals.basic_api.create(
        DealCreate(
            properties={"dealname": "New", "amount": "99.90", "dealstage": "appointmentscheduled"},
            associations=[
                {
                    "to": {"id": "1005"},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}],
                }
            ],
        )
    )
    assert int(created.id) > 3040 and created.properties["pipeline"] == "default"
    assert created.properties["amount"] == "99.90"
    assoc = client.crm.associations.v4.basic_api.get_page("deals", created.id, "companies")
    assert [(a.to_object_id, sorted(t.type_id for t in a.association_types)) for a in assoc.results] == [
        ("1005", [5, 341])
    ]
    assert len(client.crm.deals.get_all()) == 41
    client.crm.deals.basic_api.archive(created.id)
    assert len(client.crm.deals.get_all()) == 40
    archived = client.crm.deals.basic_api.get_by_id(created.id, archived=True)
    assert archived.archived is True and archived.archived_at is not None


def test_merge_moves_associations_and_resolves_the_loser(served: SandboxServer) -> None:
    client = sdk(served)
    merged = client.crm.companies.basic_api.merge(PublicMergeInput(primary_object_id="1010", object_id_to_merge="1011"))
    assert merged.id == "1010"
    assert merged.properties["hs_merged_object_ids"] == "1011"
    assert client.crm.companies.basic_api.get_by_id("1011").id == "1010"
    assert "1011" not in {c.id for c in client.crm.companies.get_all()}
    # deal 3011 was the loser's: it now belongs to the winner, in both directions
    to_deals = client.crm.associations.v4.basic_api.get_page("companies", "1010", "deals")
    assert {a.to_object_id for a in to_deals.results} == {"3010", "3011"}
    to_company = client.crm.associations.v4.basic_api.get_page("deals", "3011", "companies")
    assert [a.to_object_id for a in to_company.results] == ["1010"]
    # the merge is a modification: it shows up in "modified since"
    since = CompanySearch(
        filter_groups=[
            CompanyFilterGroup(
                filters=[CompanyFilter(property_name="hs_lastmodifieddate", operator="GTE", value=str(AS_OF_MS))]
            )
        ],
        limit=10,
    )
    assert [c.id for c in client.crm.companies.search_api.do_search(since).results] == ["1010"]
    # merging into an already merged id, or a company with itself, is refused
    with pytest.raises(ApiException) as err:
        client.crm.companies.basic_api.merge(PublicMergeInput(primary_object_id="1010", object_id_to_merge="1011"))
    assert err.value.status == 400
    # a merge of a winner carries its own merged ids along
    again = client.crm.companies.basic_api.merge(PublicMergeInput(primary_object_id="1003", object_id_to_merge="1010"))
    assert again.properties["hs_merged_object_ids"] == "1200;1201;1010;1011"
    assert client.crm.companies.basic_api.get_by_id("1011").id == "1003"


def test_line_item_amount_follows_quantity(served: SandboxServer) -> None:
    resp = httpx.patch(
        f"{served.url}/crm/v3/objects/line_items/5001", json={"properties": {"quantity": "4"}}, headers=AUTH
    )
    assert resp.status_code == 200 and resp.json()["properties"]["amount"] == "196.00"
