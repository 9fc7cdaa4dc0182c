"""Schema drift: a type change on an id or money field is set aside with its reason; a new property is reported."""

from __future__ import annotations

import json

from pipelines.ingest.runner import make_pipeline
from tests.pipelines.sources.crm.conftest import (
    DATASET,
    crm_server,
    crm_snapshot,
    loaded,
    manifest_counts,
    query,
    run_crm,
    variant_scenario,
)


def _type_changes(name: str, objects: list[dict]) -> list[dict]:
    """A deal whose amount arrives as a JSON float, a company whose id arrives as a number, a line item whose
    quantity is not a number at all."""
    if name == "deals":
        objects[0]["properties"]["amount"] = 1234.5
    elif name == "companies":
        plain = next(o for o in objects if not o["properties"].get("hs_merged_object_ids"))
        plain["id"] = int(plain["id"])
    elif name == "line_items":
        objects[0]["properties"]["quantity"] = "ten"
    return objects


def test_a_type_change_on_an_id_or_money_field_is_set_aside(scenario_dir, tmp_path):
    fixtures = variant_scenario(scenario_dir, tmp_path / "fixtures", _type_changes)
    data_dir = tmp_path / "data"
    with crm_server(fixtures, tmp_path / "crm") as endpoint:
        summary = run_crm(data_dir, endpoint)
        assert summary.quarantined == 3
        again = run_crm(data_dir, endpoint)
        assert loaded(again) == {} and again.quarantined == 0
    assert not make_pipeline(data_dir, "crm").has_pending_data, "no package is left stuck"

    rows = query(data_dir, f"select table_name, record_id, reason, payload from {DATASET}._q2c_quarantine")
    reasons = {table: reason for table, _, reason, _ in rows}
    assert reasons == {
        "deals": "amount: expected an exact decimal (string or integer), got float 1234.5",
        "companies": reasons["companies"],
        "line_items": "quantity: expected a decimal, got 'ten'",
    }
    assert reasons["companies"].startswith("id: expected text, got int ")
    # nothing is lost: the set-aside rows keep the object as HubSpot sent it
    deal = next(json.loads(p) for t, _, _, p in rows if t == "deals")
    assert deal["properties"]["amount"] == 1234.5
    # the rest loaded
    counts = manifest_counts(fixtures)
    for table in ("companies", "deals", "line_items"):
        assert query(data_dir, f"select count(*) from {DATASET}.{table}")[0][0] == counts[table] - 1
    assert query(data_dir, f"select count(*) from {DATASET}.contacts")[0][0] == counts["contacts"]


def _with_annual_revenue(name: str, objects: list[dict]) -> list[dict]:
    if name == "companies":
        for i, obj in enumerate(objects):
            obj["properties"]["annualrevenue"] = str(1_000_000 + i)
    return objects


def test_a_new_property_is_reported_and_read_for_every_record(scenario_dir, tmp_path, monkeypatch):
    """A property q2c did not request (the portal has it) is added in the configuration: the next run reads
    every company again and the run summary reports the new field."""
    fixtures = variant_scenario(scenario_dir, tmp_path / "fixtures", _with_annual_revenue)
    data_dir = tmp_path / "data"
    with crm_server(fixtures, tmp_path / "crm") as endpoint:
        first = run_crm(data_dir, endpoint)
        assert first.new_fields == []
        links = crm_snapshot(data_dir)["associations"]
        monkeypatch.setenv("SOURCES__CRM__EXTRA_PROPERTIES", json.dumps({"companies": ["annualrevenue"]}))
        second = run_crm(data_dir, endpoint)
        assert second.new_fields == ["companies.properties.annualrevenue"]
        # the companies are read again (with their associations, which did not change)
        assert loaded(second)["companies"] == 60 and set(loaded(second)) == {"companies", "associations"}
        assert crm_snapshot(data_dir)["associations"] == links
        third = run_crm(data_dir, endpoint)
        assert loaded(third) == {} and third.new_fields == []
    revenue = query(data_dir, f"select count(payload->>'$.properties.annualrevenue') from {DATASET}.companies")
    assert revenue == [(60,)]
