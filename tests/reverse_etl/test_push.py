"""push(): create, update, unchanged, dry run, ownership, rejection → dead letter, replay, repair, 401."""

from __future__ import annotations

import json
import sqlite3

import duckdb
import pytest

from reverse_etl.erp_client import ErpAuthError
from reverse_etl.ledger import Ledger
from reverse_etl.publish_rows import sha256_hex
from reverse_etl.push import ledger_states, push, replay
from tests.reverse_etl import warehouse as wh
from tests.reverse_etl.erp_company import FOREIGN_INVOICE_EID, INACTIVE_CUSTOMER_ID, UK_CUSTOMER_ID


def endpoint(erp):
    return (erp.url, "q2c-erp-sandbox")


def test_create_then_unchanged_then_update(erp, view, data_dir):
    postings = wh.company_postings(6)
    wh.write_warehouse(data_dir, postings)

    first = push(data_dir, endpoint=endpoint(erp))
    assert first.ok, first.format()
    assert first.count("created") == len(postings)
    for p in postings:
        record = view.get(p.record_type, p.external_id)
        assert record is not None, p.external_id
    assert view.lines("invoice", "bill-in_0001", "item")[1]["amount"] == 25  # quantity 2 × rate 12.5
    assert view.get("invoice", "bill-in_0002")["amountPaid"] == 10  # the payment was applied

    again = push(data_dir, endpoint=endpoint(erp))
    assert again.count("unchanged") == len(postings)
    assert again.requests == 0

    # a changed invoice (one line fewer, another rate) and a changed journal: updated in place, lines replaced
    changed = [p for p in postings if p.external_id not in ("bill-in_0001", "q2c-revrec-0003")]
    changed += [wh.invoice(1, lines=1, rate="40"), wh.journal(3, amount="250", lines=4)]
    wh.write_warehouse(data_dir, changed)
    third = push(data_dir, endpoint=endpoint(erp))
    assert third.ok, third.format()
    assert third.count("updated") == 2
    assert third.count("unchanged") == len(postings) - 2
    lines = view.lines("invoice", "bill-in_0001", "item")
    assert [(line["quantity"], line["rate"]) for line in lines] == [(1, 40)]
    assert len(view.lines("journalEntry", "q2c-revrec-0003", "line")) == 4
    assert view.count("invoice") == 6 + 1  # plus the fixture's foreign invoice


def test_references_now_by_internal_id_are_not_sent_again(erp, view, data_dir):
    # created in one push, customers and invoices referenced by external id; the next build knows their internal ids
    postings = [wh.customer(1), wh.customer(2), wh.invoice(1), wh.payment(1), wh.credit_memo(1)]
    wh.write_warehouse(data_dir, postings)
    assert push(data_dir, endpoint=endpoint(erp)).count("created") == 5
    ledger = Ledger.in_data_dir(data_dir)
    ids = {p.external_id: p.erp_internal_id for p in ledger.postings().values()}
    sent_before = {p.external_id: view.get(p.record_type, p.external_id) for p in postings}

    wh.write_warehouse(data_dir, [p.by_internal_id(ids) for p in postings])
    planned = push(data_dir, endpoint=endpoint(erp), dry_run=True).planned
    assert {action for (_, action), n in planned.items() if n} == {"unchanged"}
    again = push(data_dir, endpoint=endpoint(erp))
    assert again.ok, again.format()
    assert (again.requests, again.count("unchanged")) == (0, 5)
    assert [view.get(p.record_type, p.external_id) for p in postings] == list(sent_before.values())
    # the ledger took the new hashes, with an event each, and keeps the time each was posted
    for p in postings[2:]:
        posting = ledger.get(p.record_type, p.external_id)
        assert posting.payload_hash == sha256_hex(p.by_internal_id(ids).payload)
        assert ledger.events(p.record_type, p.external_id)[-1] == ("posted", "posted")
    assert push(data_dir, endpoint=endpoint(erp)).requests == 0

    # an internal id that is not the record q2c created under that external id is a change: sent
    moved = wh.invoice(1).by_internal_id({"bill-cus_0001": ids["bill-cus_0002"]})
    wh.write_warehouse(data_dir, [p.by_internal_id(ids) for p in postings if p.external_id != "bill-in_0001"] + [moved])
    third = push(data_dir, endpoint=endpoint(erp))
    assert (third.count("updated"), third.requests) == (1, 1)
    assert view.get("invoice", "bill-in_0001")["entity"]["id"] == ids["bill-cus_0002"]
    ledger.close()


def test_a_payment_sent_with_its_customer_by_id_and_its_invoice_by_external_id(erp, view, data_dir):
    # the customer came a run before; the invoice and its payment are created in one push
    wh.write_warehouse(data_dir, [wh.customer(1)])
    push(data_dir, endpoint=endpoint(erp))
    ids = ledger_ids(data_dir)
    postings = [wh.customer(1), wh.invoice(1).by_internal_id(ids), wh.payment(1).by_internal_id(ids)]
    wh.write_warehouse(data_dir, postings)
    assert push(data_dir, endpoint=endpoint(erp)).count("created") == 2

    wh.write_warehouse(data_dir, [p.by_internal_id(ledger_ids(data_dir)) for p in postings])
    again = push(data_dir, endpoint=endpoint(erp))
    assert (again.requests, again.count("unchanged")) == (0, 3)


def ledger_ids(data_dir) -> dict[str, str]:
    ledger = Ledger.in_data_dir(data_dir)
    try:
        return {p.external_id: p.erp_internal_id for p in ledger.postings().values()}
    finally:
        ledger.close()


def test_a_record_the_erp_already_holds_is_left_alone_and_satisfies_dependents(erp, view, data_dir):
    # posted before q2c (dbt found it by its billing key): q2c neither creates it again nor changes it
    before = view.get("invoice", FOREIGN_INVOICE_EID)
    legacy = wh.invoice(1, lines=3, rate="99", memo="from q2c")
    legacy.external_id, legacy.in_erp = FOREIGN_INVOICE_EID, True
    paid = wh.payment(1)
    paid.depends_on = [FOREIGN_INVOICE_EID]
    paid.body["apply"]["items"][0]["doc"] = {"externalId": FOREIGN_INVOICE_EID}
    wh.write_warehouse(data_dir, [wh.customer(1), legacy, paid])

    summary = push(data_dir, endpoint=endpoint(erp))
    assert summary.ok, summary.format()
    assert summary.planned[("invoice", "in-erp")] == 1
    assert summary.count("created") == 2  # the customer and the payment, which is not blocked by the invoice
    assert view.get("invoice", FOREIGN_INVOICE_EID)["memo"] == before["memo"]
    assert ("invoice", FOREIGN_INVOICE_EID) not in ledger_states(data_dir)


def test_dry_run_counts_and_sends_nothing(erp, view, data_dir):
    postings = wh.company_postings(3)
    postings.append(
        wh.Posting(
            "invoice", "bill-in_0099", "in_0099", {"entity": {"id": "100"}}, None, "quarantined", "PRODUCT_UNMAPPED"
        )
    )
    wh.write_warehouse(data_dir, postings)
    summary = push(data_dir, dry_run=True, endpoint=endpoint(erp))
    assert summary.requests == 0
    assert summary.planned[("invoice", "create")] == 3
    assert summary.planned[("invoice", "quarantined")] == 1
    assert summary.planned[("customer", "create")] == 3
    assert view.get("customer", "bill-cus_0001") is None
    assert not (data_dir / "ops.sqlite").exists()
    text = summary.format()
    assert "invoice" in text and "sample payloads" in text and "bill-in_0001" in text

    push(data_dir, endpoint=endpoint(erp))
    summary = push(data_dir, dry_run=True, endpoint=endpoint(erp))
    assert summary.planned[("invoice", "unchanged")] == 3
    assert summary.planned[("invoice", "quarantined")] == 1


def test_record_not_created_by_q2c_is_never_overwritten(erp, view, data_dir):
    before = view.get("invoice", FOREIGN_INVOICE_EID)
    mine = wh.invoice(1, lines=3, rate="99", memo="from q2c")
    mine.external_id = FOREIGN_INVOICE_EID
    wh.write_warehouse(data_dir, [wh.customer(1), mine])

    summary = push(data_dir, endpoint=endpoint(erp))
    assert [(p.external_id, p.kind) for p in summary.problems] == [(FOREIGN_INVOICE_EID, "not-owned")]
    after = view.get("invoice", FOREIGN_INVOICE_EID)
    assert after["memo"] == before["memo"] == "entered by hand in the ERP"
    assert after["item"]["items"] == before["item"]["items"]
    assert ledger_states(data_dir)[("invoice", FOREIGN_INVOICE_EID)] == "foreign"

    # a later run still leaves it alone, without asking the ERP again
    again = push(data_dir, endpoint=endpoint(erp))
    assert again.planned[("invoice", "not-owned")] == 1
    assert again.requests == 0
    assert view.get("invoice", FOREIGN_INVOICE_EID)["memo"] == "entered by hand in the ERP"

    # until a person asks for the repair: then q2c takes the record over, replacing its lines
    repaired = push(data_dir, repair=[FOREIGN_INVOICE_EID], endpoint=endpoint(erp))
    assert repaired.count("updated") == 1, repaired.format()
    after = view.get("invoice", FOREIGN_INVOICE_EID)
    assert after["memo"] == "from q2c"
    assert len(after["item"]["items"]) == 3
    with sqlite3.connect(data_dir / "ops.sqlite") as con:
        state, requested_by = con.execute(
            "select state, requested_by from postings where external_id = ?", (FOREIGN_INVOICE_EID,)
        ).fetchone()
    assert state == "posted" and requested_by


def test_rejection_is_dead_lettered_and_replayed_after_the_fix(erp, view, data_dir):
    inactive = wh.invoice(1, entity={"id": INACTIVE_CUSTOMER_ID})
    inactive.depends_on = None
    closed = wh.invoice(
        2, entity={"id": UK_CUSTOMER_ID}, subsidiary={"id": "2"}, currency={"id": "2"}, tranDate="2026-09-15"
    )
    closed.depends_on = None
    wh.write_warehouse(data_dir, [inactive, closed, wh.customer(3), wh.invoice(3)])

    summary = push(data_dir, endpoint=endpoint(erp))
    assert not summary.ok
    rejected = {p.external_id: p for p in summary.problems if p.kind == "rejected"}
    assert set(rejected) == {"bill-in_0001", "bill-in_0002"}
    assert rejected["bill-in_0002"].code == "USER_ERROR"
    assert rejected["bill-in_0002"].path == "postingPeriod"
    assert "closed" in rejected["bill-in_0002"].message
    assert "entity" in rejected["bill-in_0001"].path
    assert view.get("invoice", "bill-in_0003") is not None
    with sqlite3.connect(data_dir / "ops.sqlite") as con:
        letters = con.execute(
            "select external_id, payload, error_code, error_path, error_message, erp_response from dead_letters "
            "where resolved_at is null order by external_id"
        ).fetchall()
    assert [row[0] for row in letters] == ["bill-in_0001", "bill-in_0002"]
    assert json.loads(letters[1][1])["tranDate"] == "2026-09-15"  # the full payload is kept
    assert "o:errorDetails" in letters[1][5]  # and the ERP's whole answer

    # the same payload is not sent again by a normal push
    again = push(data_dir, endpoint=endpoint(erp))
    assert again.planned[("invoice", "dead-lettered")] == 2
    assert again.requests == 0

    # the marts are fixed (October instead of the closed September); replay re-reads the current row
    fixed = wh.invoice(
        2, entity={"id": UK_CUSTOMER_ID}, subsidiary={"id": "2"}, currency={"id": "2"}, tranDate="2026-10-15"
    )
    fixed.depends_on = None
    wh.write_warehouse(data_dir, [inactive, fixed, wh.customer(3), wh.invoice(3)])
    replayed = replay(data_dir, ids=["bill-in_0002"], endpoint=endpoint(erp))
    assert replayed.count("created") == 1, replayed.format()
    assert view.get("invoice", "bill-in_0002")["tranDate"] == "2026-10-15"
    with sqlite3.connect(data_dir / "ops.sqlite") as con:
        still_open = [r[0] for r in con.execute("select external_id from dead_letters where resolved_at is null")]
    assert still_open == ["bill-in_0001"]

    everything = replay(data_dir, all=True, endpoint=endpoint(erp))
    assert [p.external_id for p in everything.problems] == ["bill-in_0001"]  # still refused, dead-lettered again


def test_dependents_wait_for_a_quarantined_customer(erp, view, data_dir):
    cust = wh.customer(1)
    cust.validation_status, cust.quarantine_reason = "quarantined", "CUSTOMER_UNMATCHED"
    wh.write_warehouse(data_dir, [cust, wh.invoice(1), wh.payment(1)])
    summary = push(data_dir, endpoint=endpoint(erp))
    assert summary.count("blocked") == 2
    assert summary.requests == 0


def test_refused_credentials_stop_the_run(erp, view, data_dir):
    wh.write_warehouse(data_dir, wh.company_postings(3))
    with pytest.raises(ErpAuthError, match="INVALID_LOGIN") as caught:
        push(data_dir, endpoint=(erp.url, "wrong-token"))
    assert "wrong-token" not in str(caught.value)
    assert caught.value.summary.stopped
    assert view.count("customer") == 3  # the fixture's only
    states = ledger_states(data_dir)
    assert set(states.values()) <= {"pending"}
    assert not any(k[0] != "customer" for k in states)  # later record types never started
    ledger_bytes = (data_dir / "ops.sqlite").read_bytes()
    assert b"wrong-token" not in ledger_bytes

    summary = push(data_dir, endpoint=endpoint(erp))
    assert summary.ok, summary.format()
    assert view.get("journalEntry", "q2c-revrec-0003") is not None


def test_repair_by_exception_id(erp, view, data_dir):
    mine = wh.invoice(1, lines=1, rate="5", memo="from q2c")
    mine.external_id, mine.subject_key = FOREIGN_INVOICE_EID, "in_foreign"
    exceptions = {"exc-0001": "in_foreign"}
    wh.write_warehouse(data_dir, [wh.customer(1), mine], exceptions=exceptions)
    assert push(data_dir, endpoint=endpoint(erp)).count("not-owned") == 1
    assert push(data_dir, repair=["exc-0001"], endpoint=endpoint(erp)).count("updated") == 1
    assert view.get("invoice", FOREIGN_INVOICE_EID)["memo"] == "from q2c"
    assert push(data_dir, endpoint=endpoint(erp)).count("unchanged") == 2  # q2c's own from now on


def test_a_row_that_breaks_the_contract_is_quarantined(erp, view, data_dir):
    wh.write_warehouse(data_dir, [wh.customer(1)])
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        con.execute("update publish.erp_customers set payload_hash = 'not-the-hash'")
    summary = push(data_dir, endpoint=endpoint(erp))
    assert summary.planned[("customer", "quarantined")] == 1
    assert summary.requests == 0


def test_a_stop_starts_no_further_posting_and_the_next_push_sends_the_rest_once(erp, view, data_dir):
    """SIGTERM mid-push (``should_stop``, as ``q2c run`` passes it): postings already sent are recorded, none is
    left in flight, no later posting or record type starts; the next push sends the rest, each exactly once."""
    postings = wh.company_postings(6)
    wh.write_warehouse(data_dir, postings)
    asked = []

    def stop_after_the_first_postings() -> bool:
        asked.append(1)
        return len(asked) > 2  # the first two postings go out, then the stop is asked

    stopped = push(data_dir, endpoint=endpoint(erp), should_stop=stop_after_the_first_postings)
    sent = stopped.count("created")
    assert 1 <= sent < len(postings), stopped.format()
    states = ledger_states(data_dir)
    assert "in_flight" not in set(states.values()) and "unknown" not in set(states.values()), states
    assert sum(1 for s in states.values() if s == "posted") == sent
    assert not any(k[0] == "journalEntry" for k in states)  # the last record type never started

    rest = push(data_dir, endpoint=endpoint(erp))
    assert rest.ok, rest.format()
    assert rest.count("created") == len(postings) - sent
    assert all(view.get(p.record_type, p.external_id) is not None for p in postings)
    assert view.count("invoice") == 6 + 1  # each once (plus the fixture's foreign invoice)
