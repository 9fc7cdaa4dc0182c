"""First run: every collection backfilled exactly; money typed as integers; a quiet second run asks only
what it must (one events page and one balance-transactions page) and writes nothing."""

from __future__ import annotations

import json

from pipelines.data_dir import raw_path
from pipelines.ingest.runner import Endpoint, quiet_dlt, run_source, table_counts
from pipelines.sources.billing import settings
from tests.pipelines.conftest import endpoints_of
from tests.pipelines.ingest.raw_snapshot import diff, snapshot

from .support import DATASET, fixture_objects, ingest, loaded, query


def _expected_counts(scenario_dir) -> dict[str, int]:
    manifest = json.loads((scenario_dir / "manifest.json").read_text())
    counts = {k.split("/", 1)[1]: v for k, v in manifest["counts"].items() if k.startswith("billing/")}
    counts["invoice_lines"] = sum(len(i["lines"]["data"]) for i in fixture_objects(scenario_dir, "invoices"))
    counts["credit_note_lines"] = sum(len(c["lines"]["data"]) for c in fixture_objects(scenario_dir, "credit_notes"))
    return counts


def test_backfill_then_a_quiet_run(sandbox, scenario_dir, tmp_path) -> None:
    endpoint = endpoints_of(sandbox)["billing"]
    first = ingest(tmp_path, endpoint)

    expected = _expected_counts(scenario_dir)
    assert loaded(first) == expected
    assert first.quarantined == 0 and first.new_fields == []
    counts = {t: query(tmp_path, f'select count(*) from {DATASET}."{t}"')[0][0] for t in expected}
    assert counts == expected

    # every backfilled row carries the version of the events cursor recorded before the backfill
    newest_event = max(e["created"] for e in fixture_objects(scenario_dir, "events"))
    backfill_version = newest_event * settings.VERSION_SLOTS - 1
    for table in ("invoices", "invoice_lines", "subscriptions", "subscription_items", "charges"):
        assert query(tmp_path, f"select distinct _q2c_state_version, deleted from {DATASET}.{table}") == [
            (backfill_version, False)
        ]

    # exact types: money BIGINT, timestamps with a zone, ids text; nothing is a float
    types = dict(
        ((t, c), d)
        for t, c, d in query(
            tmp_path,
            "select table_name, column_name, data_type from information_schema.columns where table_schema = ?",
            [DATASET],
        )
    )
    assert not [k for k, d in types.items() if d in ("DOUBLE", "FLOAT", "REAL") or d.startswith("DECIMAL")]
    for table in settings.COLLECTIONS:
        for column in table.table.columns:
            if column.kind == "minor_units":
                assert types[(table.table.name, column.name)] == "BIGINT", (table.table.name, column.name)
    assert types[("invoices", "total")] == "BIGINT" and types[("balance_transactions", "fee")] == "BIGINT"
    assert types[("invoices", "created")] == "TIMESTAMP WITH TIME ZONE"
    assert types[("invoices", "id")] == "VARCHAR" and types[("invoices", "payload")] == "JSON"
    # the typed column holds exactly the API's integer
    invoice = fixture_objects(scenario_dir, "invoices")[0]
    assert query(tmp_path, f"select total from {DATASET}.invoices where id = ?", [invoice["id"]]) == [
        (invoice["total"],)
    ]

    before = snapshot(raw_path(tmp_path), DATASET)
    second = ingest(tmp_path, endpoint)
    assert loaded(second) == {}
    assert second.pages == 2  # one events page (nothing new) + one balance-transactions page (nothing new)
    assert second.retries == 0
    assert diff(before, snapshot(raw_path(tmp_path), DATASET)) == []


def test_a_rejected_key_fails_the_run_with_stripes_message(sandbox, tmp_path) -> None:
    endpoint = endpoints_of(sandbox)["billing"]
    quiet_dlt()
    summary = run_source(tmp_path, "billing", Endpoint(endpoint.base_url, "sk_test_not_this_one"))
    assert summary.error is not None and "401" in summary.error and "Invalid API Key" in summary.error
    assert table_counts(tmp_path, DATASET) == {}  # nothing loaded, not even the events seen before the failure
