"""Data that does not fit: a money field served as text or a float is set aside with its reason while the rest
loads; a field the API starts sending is reported; invoices with more lines than the embedded page get the
rest from ``/v1/invoices/{id}/lines``; canceled subscriptions are listed too."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.pipelines.conftest import endpoints_of, start_cluster

from .support import DATASET, fixture_objects, ingest, loaded, payloads, query, sdk
from .test_backfill import _expected_counts

EXTRA_LINES = 24  # one invoice gets 25 lines: 10 embedded, 15 from the lines endpoint


def _rewrite(folder: Path, collection: str, change) -> list[dict]:
    path = folder / "billing" / f"{collection}.jsonl"
    objects = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    change(objects)
    path.write_text("".join(json.dumps(o, sort_keys=True, separators=(",", ":")) + "\n" for o in objects))
    return objects


@pytest.fixture(scope="module")
def drifted_dir(scenario_dir, tmp_path_factory) -> Path:
    """The S scenario with an invoice total as text, a charge amount as a float, an invoice with 25 lines, a
    canceled subscription and a customer with a field Stripe does not send today."""
    folder = tmp_path_factory.mktemp("billing-drifted") / "scenario"
    shutil.copytree(scenario_dir, folder)

    def invoices(objects: list[dict]) -> None:
        objects[5]["total"] = "12.50"
        long = objects[6]
        first = long["lines"]["data"][0]
        long["lines"]["data"] += [{**first, "id": f"il_q2cextra{n:02d}"} for n in range(EXTRA_LINES)]

    def charges(objects: list[dict]) -> None:
        objects[3]["amount"] = float(objects[3]["amount"])

    def subscriptions(objects: list[dict]) -> None:
        objects[0].update(status="canceled", canceled_at=objects[0]["created"] + 86400)

    def customers(objects: list[dict]) -> None:
        objects[0]["q2c_new_field"] = "appeared"

    for collection, change in [
        ("invoices", invoices),
        ("charges", charges),
        ("subscriptions", subscriptions),
        ("customers", customers),
    ]:
        _rewrite(folder, collection, change)
    return folder


def test_bad_money_is_set_aside_and_the_rest_loads(drifted_dir, scenario_dir, tmp_path) -> None:
    cluster = start_cluster(drifted_dir, tmp_path / "scratch")
    try:
        endpoint = endpoints_of(cluster)["billing"]
        summary = ingest(tmp_path, endpoint)
        again = ingest(tmp_path, endpoint)
    finally:
        cluster.stop()

    invoices = fixture_objects(drifted_dir, "invoices")
    charges = fixture_objects(drifted_dir, "charges")
    expected = _expected_counts(scenario_dir)
    expected["invoices"] -= 1
    expected["charges"] -= 1
    expected["invoice_lines"] += EXTRA_LINES
    expected["_q2c_quarantine"] = 2
    assert loaded(summary) == expected
    assert summary.quarantined == 2
    set_aside = query(tmp_path, f"select table_name, record_id, reason, payload from {DATASET}._q2c_quarantine")
    reasons = {(t, r): reason for t, r, reason, _ in set_aside}
    assert reasons == {
        ("invoices", invoices[5]["id"]): "total: expected an integer, got str '12.50'",
        ("charges", charges[3]["id"]): f"amount: expected an integer, got float {charges[3]['amount']!r}",
    }
    # nothing is lost: the whole object is kept with the reason
    assert {json.loads(p)["id"] for *_, p in set_aside} == {invoices[5]["id"], charges[3]["id"]}
    # everything else loaded into its own table, none into another
    assert query(tmp_path, f"select count(*) from {DATASET}.invoices where id not like 'in\\_%' escape '\\'") == [(0,)]
    assert query(tmp_path, f"select count(*) from {DATASET}.charges where id = ?", [charges[3]["id"]]) == [(0,)]

    # the long invoice: all 25 lines, in order, 15 of them from the lines endpoint
    lines = query(tmp_path, f"select id from {DATASET}.invoice_lines where invoice = ?", [invoices[6]["id"]])
    assert {r[0] for r in lines} == {line["id"] for line in invoices[6]["lines"]["data"]}
    assert len(lines) == 25
    # canceled subscriptions are listed (status=all)
    assert query(
        tmp_path,
        f"select status from {DATASET}.subscriptions where id = ?",
        [fixture_objects(drifted_dir, "subscriptions")[0]["id"]],
    ) == [("canceled",)]

    # the next run is not blocked by what was set aside, and has nothing to do
    assert loaded(again) == {} and again.pages == 2


def test_a_new_field_is_reported(sandbox, drifted_dir, tmp_path) -> None:
    ingest(tmp_path, endpoints_of(sandbox)["billing"])  # first run: every field is new, none is drift

    # the same account, now sending a field it did not send before
    cluster = start_cluster(drifted_dir, tmp_path / "scratch-drifted")
    try:
        endpoint = endpoints_of(cluster)["billing"]
        customer = fixture_objects(drifted_dir, "customers")[0]["id"]
        sdk(endpoint).v1.customers.update(customer, {"name": "Renamed Co"})
        summary = ingest(tmp_path, endpoint)
    finally:
        cluster.stop()
    assert summary.new_fields == ["customers.q2c_new_field"]
    assert loaded(summary) == {"customers": 1, "events": 1}
    raw = payloads(tmp_path, "customers")[customer]
    assert raw["q2c_new_field"] == "appeared" and raw["name"] == "Renamed Co"
