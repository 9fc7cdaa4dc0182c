"""The builders produce HubSpot's v3 shape: string properties, ISO-8601 ms timestamps, v4 association rows."""

from decimal import Decimal

import pytest

from sandbox.crm import objects


def test_company_shape_and_merge_property() -> None:
    obj = objects.company(
        id=101, name="Acme", created_ms=1_769_860_800_000, merged_object_ids=[5, "6"], stripe_customer_id="cus_1"
    )
    assert set(obj) == {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert obj["id"] == "101" and obj["archived"] is False
    assert obj["createdAt"] == "2026-01-31T12:00:00.000Z" == obj["properties"]["hs_lastmodifieddate"]
    assert obj["properties"]["hs_merged_object_ids"] == "5;6"
    assert obj["properties"]["hs_object_id"] == "101"
    assert all(v is None or isinstance(v, str) for v in obj["properties"].values())


def test_archived_record_has_archived_at() -> None:
    obj = objects.contact(id=7, email="a@b.c", created_ms=0, updated_ms=1000, archived=True, archived_ms=2005)
    assert obj["archived"] is True and obj["archivedAt"] == "1970-01-01T00:00:02.005Z"
    assert obj["properties"]["lastmodifieddate"] == "1970-01-01T00:00:01.000Z"


def test_deal_amount_is_a_decimal_string_and_flags_follow_stage() -> None:
    won = objects.deal(
        id=1, dealname="D", amount=Decimal("1200.50"), deal_currency_code="EUR", dealstage="closedwon", created_ms=0
    )
    assert won["properties"]["amount"] == "1200.50"
    assert won["properties"]["hs_is_closed_won"] == "true" and won["properties"]["pipeline"] == "default"
    with pytest.raises(TypeError):
        objects.deal(id=2, dealname="D", amount=1.5, deal_currency_code="EUR", dealstage="closedwon", created_ms=0)
    with pytest.raises(ValueError):
        objects.deal(id=3, dealname="D", amount="1", deal_currency_code="EUR", dealstage="won", created_ms=0)


def test_line_item_amount_is_quantity_times_price_exactly() -> None:
    item = objects.line_item(id=1, name="Seats", quantity=3, price="10.10", currency="KWD", created_ms=0)
    assert item["properties"]["amount"] == "30.30"
    assert item["properties"]["hs_line_item_currency_code"] == "KWD"


def test_association_row_uses_hubspot_default_type_ids() -> None:
    row = objects.association(from_type="deals", from_id=1, to_type="companies", to_id=2, primary=True)
    assert [t["typeId"] for t in row["associationTypes"]] == [341, 5]
    assert objects.inverse_association_types(row["associationTypes"])[0]["typeId"] == 342
    assert objects.association(from_type="contacts", from_id=1, to_type="companies", to_id=2)["associationTypes"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None}
    ]
    with pytest.raises(ValueError):
        objects.association(from_type="deals", from_id=1, to_type="line_items", to_id=2, primary=True)
