"""Associations v4 through the official client: one record's (paged) and batch read."""

import httpx
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest

from sandbox.crm.app import DEFAULT_TOKEN
from sandbox.http import SandboxServer

from .crm_fixture import WINNER, sdk

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def test_record_associations_with_primary_label(reader: SandboxServer) -> None:
    page = sdk(reader).crm.associations.v4.basic_api.get_page("deals", "3001", "companies")
    assert len(page.results) == 1
    row = page.results[0]
    assert row.to_object_id == "1001"
    assert {(t.category, t.type_id, t.label) for t in row.association_types} == {
        ("HUBSPOT_DEFINED", 341, None),
        ("HUBSPOT_DEFINED", 5, "Primary"),
    }
    raw = httpx.get(f"{reader.url}/crm/v4/objects/deals/3001/associations/companies", headers=AUTH).json()
    assert raw["results"][0]["toObjectId"] == 1001  # a number on the wire, as HubSpot sends it


def test_association_to_a_merged_away_id_points_at_the_winner(reader: SandboxServer) -> None:
    page = sdk(reader).crm.associations.v4.basic_api.get_page("deals", "3040", "companies")
    assert sorted(int(r.to_object_id) for r in page.results) == [WINNER, 1040]


def test_paging_of_one_record_associations(reader: SandboxServer) -> None:
    url = f"{reader.url}/crm/v4/objects/companies/1001/associations/contacts"
    first = httpx.get(url, params={"limit": 20}, headers=AUTH).json()
    assert len(first["results"]) == 20
    rest = httpx.get(first["paging"]["next"]["link"], headers=AUTH).json()
    assert "paging" not in rest
    ids = [r["toObjectId"] for r in first["results"] + rest["results"]]
    assert ids == list(range(2001, 2030))  # the archived contact 2030 is not listed
    primary = [r for r in first["results"] if any(t["typeId"] == 2 for t in r["associationTypes"])]
    assert [r["toObjectId"] for r in primary] == [2001]


def test_batch_read(reader: SandboxServer) -> None:
    batch = sdk(reader).crm.associations.v4.batch_api.get_page(
        "deals",
        "line_items",
        BatchInputPublicFetchAssociationsBatchRequest(inputs=[{"id": "3001"}, {"id": "3002"}]),
    )
    assert batch.status == "COMPLETE"
    assert {r._from.id: [t.to_object_id for t in r.to] for r in batch.results} == {"3001": ["5001"], "3002": ["5002"]}
    partial = httpx.post(
        f"{reader.url}/crm/v4/associations/deals/line_items/batch/read",
        json={"inputs": [{"id": "3001"}, {"id": "999"}]},
        headers=AUTH,
    )
    assert partial.status_code == 207
    assert partial.json()["errors"][0]["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"


def test_v3_associations_parameter(reader: SandboxServer) -> None:
    deal = sdk(reader).crm.deals.basic_api.get_by_id("3001", associations=["companies", "line_items"])
    assert {(a.id, a.type) for a in deal.associations["companies"].results} == {
        ("1001", "deal_to_company"),
        ("1001", "deal_to_company_unlabeled"),
    }
    assert [a.id for a in deal.associations["line_items"].results] == ["5001"]
