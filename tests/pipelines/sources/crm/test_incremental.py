"""CRM ingest against the sandbox: full load, a run with nothing to do, and exactly-what-changed after writes."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import hubspot
from hubspot.crm.companies import PublicMergeInput
from hubspot.crm.deals import SimplePublicObjectInput

from pipelines.sources.crm.settings import OBJECTS
from pipelines.sources.http_client import endpoint_label
from tests.pipelines.ingest.raw_snapshot import diff
from tests.pipelines.sources.crm.conftest import (
    DATASET,
    OBJECT_TABLES,
    crm_objects,
    crm_snapshot,
    loaded,
    manifest_counts,
    query,
    run_counting,
    run_crm,
)


def _association_rows(data_dir) -> set[tuple]:
    return set(
        query(data_dir, f"select from_type, from_id, to_type, to_id, association_type_ids from {DATASET}.associations")
    )


def test_full_load_matches_the_scenario(crm, scenario_dir, data_dir):
    summary = run_crm(data_dir, crm)

    counts = manifest_counts(scenario_dir)
    for table in OBJECT_TABLES:
        assert query(data_dir, f"select count(*) from {DATASET}.{table}")[0][0] == counts[table], table
    # every fixture association seen from both sides (all pairs are between types whose associations are kept)
    assert len(_association_rows(data_dir)) == 2 * counts["associations"]
    merged = {
        loser: c["id"]
        for c in crm_objects(scenario_dir, "companies")
        for loser in (c["properties"].get("hs_merged_object_ids") or "").split(";")
        if loser
    }
    assert merged, "the S scenario has merged companies"
    assert dict(query(data_dir, f"select loser_id, winner_id from {DATASET}.company_merges")) == merged
    assert summary.quarantined == 0 and summary.new_fields == []


def test_raw_values_are_exact(crm, scenario_dir, data_dir):
    run_crm(data_dir, crm)

    # money as exact decimals equal to HubSpot's strings; no float column anywhere
    deals = {d["id"]: d["properties"]["amount"] for d in crm_objects(scenario_dir, "deals")}
    stored = dict(query(data_dir, f"select id, amount from {DATASET}.deals"))
    assert stored == {k: (Decimal(v) if v is not None else None) for k, v in deals.items()}
    types = query(
        data_dir,
        "select table_name, column_name, data_type from information_schema.columns where table_schema = ?",
        [DATASET],
    )
    assert not [t for t in types if t[2] in ("FLOAT", "DOUBLE", "REAL")], types
    assert ("deals", "amount", "DECIMAL(38,9)") in types and ("line_items", "price", "DECIMAL(38,9)") in types
    assert ("companies", "updated_at", "TIMESTAMP WITH TIME ZONE") in types
    # the cursor column is the instant HubSpot reports, in UTC
    first = crm_objects(scenario_dir, "companies")[0]
    (updated,) = query(
        data_dir, f"select updated_at at time zone 'UTC' from {DATASET}.companies where id = ?", [first["id"]]
    )[0]
    assert updated.isoformat(timespec="milliseconds") + "Z" == first["updatedAt"]


def test_second_run_with_no_change_loads_nothing(crm, data_dir):
    endpoint = crm
    run_crm(data_dir, endpoint)
    before = crm_snapshot(data_dir)

    again = run_crm(data_dir, endpoint)
    assert loaded(again) == {}
    assert crm_snapshot(data_dir) == before
    # one search per type (nothing changed since the cursor) and one page of archived records per type
    stats = run_counting(data_dir, endpoint)
    expected = Counter(endpoint_label(f"{endpoint.base_url}/crm/v3/objects/{t}/search") for t in OBJECTS)
    expected.update(endpoint_label(f"{endpoint.base_url}/crm/v3/objects/{t}") for t in OBJECTS)
    assert stats.pages == expected and not stats.retries
    assert again.pages == sum(expected.values()) and again.retries == 0


def test_a_closed_deal_and_a_merge_change_exactly_their_rows(crm, scenario_dir, data_dir):
    endpoint = crm
    run_crm(data_dir, endpoint)
    before = crm_snapshot(data_dir)
    links_before = _association_rows(data_dir)

    deal = next(d for d in crm_objects(scenario_dir, "deals") if d["properties"]["dealstage"] != "closedwon")
    with_deals = [
        c["id"]
        for c in crm_objects(scenario_dir, "companies")
        if not c["properties"].get("hs_merged_object_ids")
        and any(r[0] == "companies" and r[1] == c["id"] and r[2] == "deals" for r in links_before)
    ]
    winner, loser = with_deals[0], with_deals[1]

    client = hubspot.HubSpot(access_token=endpoint.token, host=endpoint.base_url)
    client.crm.deals.basic_api.update(deal["id"], SimplePublicObjectInput(properties={"dealstage": "closedwon"}))
    client.crm.companies.basic_api.merge(PublicMergeInput(primary_object_id=winner, object_id_to_merge=loser))
    # as HubSpot does, the loser's id now answers with the winner
    assert client.crm.companies.basic_api.get_by_id(loser).id == winner

    summary = run_crm(data_dir, endpoint)
    after = crm_snapshot(data_dir)
    assert loaded(summary)["deals"] == 1 and loaded(summary)["companies"] == 2
    assert loaded(summary)["company_merges"] == 1

    def changed(table: str) -> tuple[set, set]:
        return set(before[table]) - set(after[table]), set(after[table]) - set(before[table])

    for table in ("contacts", "products", "line_items"):
        assert before[table] == after[table], table
    gone, new = changed("deals")
    assert [r[0] for r in gone] == [deal["id"]] and [r[0] for r in new] == [deal["id"]]
    stage = query(
        data_dir, f"select payload->>'$.properties.dealstage' from {DATASET}.deals where id = ?", [deal["id"]]
    )
    assert stage == [("closedwon",)]

    gone, new = changed("companies")
    assert sorted(r[0] for r in gone) == sorted([winner, loser]) == sorted(r[0] for r in new)
    (loser_before,) = [r for r in gone if r[0] == loser]
    (loser_after,) = [r for r in new if r[0] == loser]
    ((merged_into, payload),) = query(
        data_dir, f"select merged_into, payload from {DATASET}.companies where id = ?", [loser]
    )
    assert merged_into == winner
    assert json.loads(payload)["id"] == loser, "the loser keeps its last payload"
    assert [v for v in loser_before if v is not None] == [v for v in loser_after if v not in (None, winner)]
    gone, new = changed("company_merges")
    assert gone == set() and [r[:2] for r in new] == [(loser, winner)]

    # associations: the loser's moved to the winner, on both sides; nothing else changed
    moved = {r for r in links_before if ("companies", loser) in ((r[0], r[1]), (r[2], r[3]))}
    expected = {r: r for r in links_before - moved}
    for from_type, from_id, to_type, to_id, types in sorted(moved):
        if (from_type, from_id) == ("companies", loser):
            key = ("companies", winner, to_type, to_id)
        else:
            key = (from_type, from_id, "companies", winner)
        current = next((r for r in expected.values() if r[:4] == key), None)
        union = set(types.split(";")) | (set(current[4].split(";")) if current else set())
        if current:
            del expected[current]
        merged_row = (*key, ";".join(sorted(union, key=int)))
        expected[merged_row] = merged_row
    assert _association_rows(data_dir) == set(expected)
    assert diff(before, after) != []  # sanity: the snapshot comparison sees changes at all


def test_archived_records_stay_visible(crm, scenario_dir, data_dir):
    endpoint = crm
    run_crm(data_dir, endpoint)
    deal = crm_objects(scenario_dir, "deals")[3]["id"]
    client = hubspot.HubSpot(access_token=endpoint.token, host=endpoint.base_url)
    client.crm.deals.basic_api.archive(deal)

    summary = run_crm(data_dir, endpoint)
    assert loaded(summary) == {"deals": 1} and summary.new_fields == []
    rows = query(
        data_dir,
        f"select archived, archived_at is not null, payload->>'$.archived' from {DATASET}.deals where id = ?",
        [deal],
    )
    assert rows == [(True, True, "true")]
    assert query(data_dir, f"select count(*) from {DATASET}.deals")[0][0] == manifest_counts(scenario_dir)["deals"]
    assert loaded(run_crm(data_dir, endpoint)) == {}, "an archived record is loaded once"
