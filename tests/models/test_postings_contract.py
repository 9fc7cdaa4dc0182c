"""The Python posting contracts equal the enforced dbt contracts of the publish models, and validate_payload
accepts the shapes q2c sends and names what is wrong with others."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from models.postings import POSTING_MODELS, contract_columns, validate_payload

PUBLISH_YML = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "publish" / "_publish__models.yml"


def _publish_models() -> dict[str, dict]:
    doc = yaml.safe_load(PUBLISH_YML.read_text(encoding="utf-8"))
    return {model["name"]: model for model in doc["models"]}


@pytest.mark.parametrize("model", sorted(POSTING_MODELS))
def test_contract_columns_equal_the_dataclass_fields(model):
    spec = _publish_models()[model]
    assert spec["config"]["contract"]["enforced"] is True
    yaml_columns = [column["name"] for column in spec["columns"]]
    assert sorted(yaml_columns) == sorted(contract_columns(model))
    assert all(column.get("data_type") and column.get("description") for column in spec["columns"])


def test_every_publish_model_has_an_enforced_contract():
    for name, spec in _publish_models().items():
        if name.startswith("int_"):
            continue  # internal to the layer (schema intermediate), read by nothing outside it
        assert spec["config"]["contract"]["enforced"] is True, name
        assert all(column.get("data_type") for column in spec["columns"]), name


INVOICE = {
    "externalId": "bill-in_1",
    "entity": {"externalId": "bill-cus_1"},
    "subsidiary": {"id": "1"},
    "currency": {"id": "1"},
    "tranDate": "2026-10-01",
    "postingPeriod": {"id": "26"},
    "item": {"items": [{"item": {"id": "6"}, "amount": -12.5, "tax1Amt": 0}, {"item": {"id": "6"}, "amount": 30}]},
}


def test_a_well_formed_invoice_passes():
    assert validate_payload("invoice", INVOICE) == []


def test_problems_are_named():
    bad = {**INVOICE, "externalId": "bill in 1", "entity": {"name": "x"}, "tranDate": "01/10/2026"}
    bad.pop("postingPeriod")
    problems = validate_payload("invoice", bad)
    assert "missing postingPeriod" in problems
    assert any(p.startswith("externalId") for p in problems)
    assert "entity has neither id nor externalId" in problems
    assert any(p.startswith("tranDate") for p in problems)
    assert validate_payload("memo", {}) == ["unknown record type 'memo'"]


def test_journal_balance_and_sides():
    journal = {
        "externalId": "q2c-revrec-us-usd-2026-10",
        "subsidiary": {"id": "1"},
        "currency": {"id": "1"},
        "tranDate": "2026-10-31",
        "postingPeriod": {"id": "26"},
        "line": {"items": [{"account": {"id": "7"}, "debit": 10.01}, {"account": {"id": "8"}, "credit": 10.01}]},
    }
    assert validate_payload("journalEntry", journal) == []
    journal["line"]["items"][1]["credit"] = 10
    assert any(p.startswith("unbalanced") for p in validate_payload("journalEntry", journal))
    journal["line"]["items"][1]["debit"] = 1
    assert any("exactly one of debit and credit" in p for p in validate_payload("journalEntry", journal))
