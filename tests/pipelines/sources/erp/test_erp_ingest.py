"""The ERP source against the NetSuite sandbox: a full first run, an idle rerun, and changes made through
NetSuite's own REST API (payment applied, invoice lines replaced, journal deleted, a field appearing)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from pipelines.data_dir import raw_path
from pipelines.ingest.runner import table_counts
from pipelines.sources.raw_tables import QUARANTINE_TABLE
from sandbox.clock import SandboxClock, parse_iso
from tests.pipelines.ingest.raw_snapshot import diff, snapshot
from tests.pipelines.sources.erp.conftest import erp_sandbox
from tests.pipelines.sources.erp.support import (
    DATASET,
    KEYS,
    api,
    changed_keys,
    column_types,
    created_id,
    expected_counts,
    fixture_records,
    ingest,
    load_seqs,
    loaded,
    query,
    rows_by_key,
)

# an idle run asks: 6 reference tables (one page each), then for customers and transactions one probe
# (count/sum/max) and one read of the rows at the cursor's second
IDLE_RUN_REQUESTS = 6 + 2 * 2


def test_first_run_loads_every_record_exactly(erp, scenario_dir, tmp_path):
    data = tmp_path / "data"
    summary = ingest(data, erp)

    counts = table_counts(data, DATASET)
    expected = expected_counts(scenario_dir)
    assert {t: counts.get(t) for t in expected} == expected
    assert QUARANTINE_TABLE not in counts
    assert summary.quarantined == 0 and summary.new_fields == []

    types = column_types(data)
    assert not [k for k, t in types.items() if t in ("DOUBLE", "FLOAT", "REAL")], "a float column in raw_erp"
    for table, column in [
        ("transaction", "foreigntotal"),
        ("transaction", "foreignamountpaid"),
        ("transaction", "exchangerate"),
        ("transactionline", "rate"),
        ("transactionline", "netamount"),
        ("transactionline", "debitforeignamount"),
        ("previoustransactionlinelink", "foreignamount"),
        ("currency", "exchangerate"),
    ]:
        assert types[(table, column)] == "DECIMAL(38,9)", (table, column)
    for table, key in KEYS.items():
        assert all(types[(table, k)] == "VARCHAR" for k in key), table
    assert types[("transaction", "lastmodifieddate")] == "TIMESTAMP WITH TIME ZONE"

    # money exactly as NetSuite holds it, timestamps in UTC
    raw = {r[0]: r[1:] for r in query(data, f"select id, foreigntotal, lastmodifieddate from {DATASET}.transaction")}
    for record_type in ("invoice", "creditMemo", "customerPayment", "journalEntry"):
        for record in fixture_records(scenario_dir, record_type):
            total, modified = raw[record["id"]]
            assert total == Decimal(str(record["total"])), record["id"]
            assert modified == datetime.fromtimestamp(parse_iso(record["lastModifiedDate"]), UTC), record["id"]
    journal_sums = query(
        data,
        f"select transaction, sum(debitforeignamount), sum(creditforeignamount) from {DATASET}.transactionline"
        " where expenseaccount is not null group by 1",  # journal lines carry their account
    )
    assert journal_sums and all(debit == credit for _, debit, credit in journal_sums)

    # the per-subsidiary close: Sep 2026 closed for the US subsidiary only
    closed = query(
        data,
        f"select c.subsidiary, c.closed from {DATASET}.accountingperiod_subsidiaryclose c"
        f" join {DATASET}.accountingperiod p on p.id = c.period where p.periodname = 'Sep 2026' order by 1",
    )
    assert closed == [("1", True), ("2", False), ("3", False)]


def test_second_run_without_changes_loads_nothing(erp, tmp_path):
    data = tmp_path / "data"
    ingest(data, erp)
    before = snapshot(raw_path(data), DATASET)

    summary = ingest(data, erp)

    assert loaded(summary) == {}
    assert (summary.pages, summary.retries) == (IDLE_RUN_REQUESTS, 0)
    assert diff(before, snapshot(raw_path(data), DATASET)) == []


def _open_invoice(scenario: Path) -> dict:
    return next(i for i in fixture_records(scenario, "invoice") if i["status"]["id"] == "A" and i["amountRemaining"])


def test_changes_through_the_api_change_exactly_those_rows(erp, scenario_dir, tmp_path):
    data = tmp_path / "data"
    ingest(data, erp)
    before = {t: rows_by_key(data, t) for t in KEYS}
    seqs_before = {t: load_seqs(data, t) for t in KEYS}
    (first_seq,) = {s for seqs in seqs_before.values() for s in seqs.values()}  # one run, one sequence

    paid = _open_invoice(scenario_dir)
    amended = next(  # in the open month (its period must be open to change it), with lines to lose
        i
        for i in fixture_records(scenario_dir, "invoice")
        if i["tranDate"] >= "2026-10-01" and len(i["item"]["items"]) >= 2 and i["id"] != paid["id"]
    )
    assert paid["id"] != amended["id"]
    journal = fixture_records(scenario_dir, "journalEntry")[0]
    with api(erp) as ns:
        payment = created_id(
            ns.post(
                "/customerPayment",
                json={
                    "customer": {"id": paid["entity"]["id"]},
                    "payment": paid["amountRemaining"],
                    "externalId": "test-payment-1",
                    "apply": {"items": [{"doc": {"id": paid["id"]}, "apply": True, "amount": paid["amountRemaining"]}]},
                },
            )
        )
        old_line = amended["item"]["items"][0]
        new_lines = [{"item": old_line["item"], "quantity": 3, "rate": "19.99", "description": "re-priced"}]
        response = ns.patch(f"/invoice/{amended['id']}?replace=item", json={"item": {"items": new_lines}})
        assert response.status_code == 204, response.text
        response = ns.delete(f"/journalEntry/{journal['id']}")
        assert response.status_code == 204, response.text

    summary = ingest(data, erp)
    after = {t: rows_by_key(data, t) for t in KEYS}
    changes = {t: changed_keys(before[t], after[t]) for t in KEYS}
    changes = {t: {k: v for k, v in c.items() if v} for t, c in changes.items() if any(c.values())}

    def line_keys(transaction: str, rows: dict) -> set:
        return {k for k, row in rows.items() if row[1] == transaction}

    amended_old = line_keys(amended["id"], before["transactionline"])
    amended_new = line_keys(amended["id"], after["transactionline"])
    journal_lines = line_keys(journal["id"], before["transactionline"])
    assert len(amended_old) >= 3 and len(amended_new) == 2 and len(journal_lines) == 1 + len(journal["line"]["items"])
    assert changes == {
        "transaction": {
            "added": {(payment,)},
            "updated": {(paid["id"],), (amended["id"],)},
            "removed": {(journal["id"],)},
        },
        "transactionline": {
            "added": ({(f"{int(payment) * 1000}",)} | amended_new) - amended_old,
            # the main line carries the new total; the old item line is gone, the new one replaced it
            "updated": amended_old & amended_new,
            "removed": (amended_old - amended_new) | journal_lines,
        },
        "previoustransactionlinelink": {"added": {(f"{paid['id']}:0:{payment}:0:Payment",)}},
    }
    # every row the second run wrote (the changed ones, and the unchanged lines of a changed transaction) carries its
    # larger sequence; the others keep the first run's
    seqs_after = {t: load_seqs(data, t) for t in KEYS}
    written = {t: {k for k, s in seqs.items() if s != seqs_before[t].get(k)} for t, seqs in seqs_after.items()}
    (second_seq,) = {seqs_after[t][k] for t, keys in written.items() for k in keys}
    assert second_seq > first_seq
    assert all(c.get("added", set()) | c.get("updated", set()) <= written[t] for t, c in changes.items())
    assert written["transaction"] == {(payment,), (paid["id"],), (amended["id"],)}
    status, paid_amount, unpaid = query(
        data,
        f"select status, foreignamountpaid, foreignamountunpaid from {DATASET}.transaction where id = '{paid['id']}'",
    )[0]
    assert (status, paid_amount, unpaid) == ("B", Decimal(str(paid["total"])), Decimal(0))
    assert paid["amountPaid"] == 0
    assert query(
        data,
        f"select quantity, rate, netamount from {DATASET}.transactionline where transaction = '{amended['id']}'"
        " and not mainline",
    ) == [(Decimal(-3), Decimal("19.99"), Decimal("-59.97"))]
    assert summary.new_fields == []

    # and the run after that is idle again
    idle = ingest(data, erp)
    assert loaded(idle) == {} and idle.pages == IDLE_RUN_REQUESTS


def test_a_field_appearing_is_reported_and_lands_in_the_payload(erp, scenario_dir, tmp_path):
    data = tmp_path / "data"
    ingest(data, erp)
    # SuiteQL omits NULLs, so a field nobody has filled yet (no customer has a phone in the scenario) is
    # indistinguishable from a column NetSuite adds: both appear in results for the first time
    customer = fixture_records(scenario_dir, "customer")[5]
    assert "phone" not in customer
    with api(erp) as ns:
        assert ns.patch(f"/customer/{customer['id']}", json={"phone": "+1 555 0100"}).status_code == 204

    summary = ingest(data, erp)

    assert summary.new_fields == ["customer.phone"]
    assert loaded(summary) == {"customer": 1}
    assert query(data, f"select payload->>'phone' from {DATASET}.customer where id = '{customer['id']}'") == [
        ("+1 555 0100",)
    ]


def test_a_money_value_that_is_not_a_decimal_is_quarantined_and_the_rest_loads(scenario_dir, tmp_path):
    # a fixture copy where one invoice's total is NaN (NetSuite's formula fields can yield it; the sandbox
    # stores and serves what the fixture holds)
    fixtures = tmp_path / "fixtures"
    shutil.copytree(scenario_dir, fixtures)
    path = fixtures / "erp" / "invoice.jsonl"
    invoices = [json.loads(line) for line in path.read_text().splitlines()]
    bad = invoices[3]
    bad["total"] = "NaN"
    path.write_text("".join(json.dumps(i) + "\n" for i in invoices))

    with erp_sandbox(fixtures, tmp_path / "erp-sandbox") as (endpoint, _):
        data = tmp_path / "data"
        summary = ingest(data, endpoint)
        rerun = ingest(data, endpoint)

    counts = table_counts(data, DATASET)
    expected = expected_counts(scenario_dir)
    assert counts["transaction"] == expected["transaction"] - 1
    assert counts["transactionline"] == expected["transactionline"] - 1  # the main line carries the total
    quarantined = query(
        data, f"select table_name, record_id, reason from {DATASET}.{QUARANTINE_TABLE} order by table_name"
    )
    assert quarantined == [
        ("transaction", bad["id"], "foreigntotal: expected a finite decimal, got 'NaN'"),
        ("transactionline", "0", "foreignamount: expected a finite decimal, got 'NaN'"),
    ]
    assert summary.quarantined == 2 and summary.error is None
    assert loaded(rerun) == {}  # set aside once, not again on every run


def test_pages_by_keyset_past_suiteql_result_ceiling(scenario_dir, tmp_path, monkeypatch):
    # a ceiling of 500 results per query and pages of 250: reading 1,796 transactions by offset would be
    # refused from offset 500 on; keyset windows never ask past offset 0
    monkeypatch.setenv("SOURCES__ERP__PAGE_SIZE", "250")
    with erp_sandbox(scenario_dir, tmp_path / "erp-sandbox", suiteql_max_results=500) as (endpoint, _):
        data = tmp_path / "data"
        summary = ingest(data, endpoint)
    counts = table_counts(data, DATASET)
    assert {t: counts.get(t) for t in KEYS} == expected_counts(scenario_dir)
    assert summary.pages > 45  # smaller pages: more of them


def test_records_committed_late_or_deleted_are_found_by_the_id_reconciliation(scenario_dir, tmp_path):
    # the ERP's clock one hour behind the data: a record created now carries a lastmodifieddate older than
    # the cursor, as a long-running NetSuite save committing after a later one does
    manifest = json.loads((scenario_dir / "manifest.json").read_text())
    clock = SandboxClock(parse_iso(manifest["as_of"]) - 3600, frozen=True)
    with erp_sandbox(scenario_dir, tmp_path / "erp-sandbox", clock=clock) as (endpoint, _):
        data = tmp_path / "data"
        ingest(data, endpoint)
        with api(endpoint) as ns:
            late = created_id(ns.post("/customer", json={"companyName": "Late Ltd", "subsidiary": {"id": "2"}}))
        summary = ingest(data, endpoint)
        assert loaded(summary) == {"customer": 1}
        assert query(data, f"select payload->>'companyname' from {DATASET}.customer where id = '{late}'") == [
            ("Late Ltd",)
        ]
        assert loaded(ingest(data, endpoint)) == {}

        # deleted again: the highest id, so MAX(id) drops below it, and the reconciliation still sees it gone
        customers = table_counts(data, DATASET)["customer"]
        with api(endpoint) as ns:
            assert ns.delete(f"/customer/{late}").status_code == 204
        ingest(data, endpoint)
    assert query(data, f"select count(*) from {DATASET}.customer where id = '{late}'") == [(0,)]
    assert table_counts(data, DATASET)["customer"] == customers - 1


def test_timestamps_are_read_in_the_users_time_zone_and_stored_in_utc(erp, scenario_dir, tmp_path, monkeypatch):
    # SuiteQL renders TO_CHAR in the integration user's time zone preference (the sandbox: UTC); told the
    # user is in Los Angeles, the source reads the sandbox's wall times as Los Angeles times
    monkeypatch.setenv("SOURCES__ERP__TIMEZONE", "America/Los_Angeles")
    data = tmp_path / "data"
    ingest(data, erp)
    customer = fixture_records(scenario_dir, "customer")[0]
    wall = datetime.fromisoformat(customer["lastModifiedDate"].replace("Z", "")).replace(
        tzinfo=ZoneInfo("America/Los_Angeles")
    )
    assert query(data, f"select lastmodifieddate from {DATASET}.customer where id = '{customer['id']}'") == [
        (wall.astimezone(UTC),)
    ]
