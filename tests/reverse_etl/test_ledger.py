"""The ops store: durable settings, legal transitions only, an append-only audit, dead letters with rejects."""

from __future__ import annotations

import sqlite3

import pytest

from reverse_etl.ledger import IllegalTransitionError, Ledger


@pytest.fixture
def ledger(tmp_path):
    led = Ledger.in_data_dir(tmp_path)
    yield led
    led.close()


def test_wal_and_full_sync(ledger, tmp_path):
    assert ledger._conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert ledger._conn.execute("pragma synchronous").fetchone()[0] == 2  # FULL
    assert (tmp_path / "ops.sqlite").exists()


def test_transitions_are_checked_and_audited(ledger):
    ledger.add_pending([("invoice", "bill-in_1", "in_1", "h1")])
    with pytest.raises(IllegalTransitionError):
        ledger.transition("invoice", "bill-in_1", "posted")  # never sent
    ledger.transition("invoice", "bill-in_1", "in_flight", count_attempt=True, operation="create", correlation_id="c1")
    ledger.transition("invoice", "bill-in_1", "unknown", detail="ReadTimeout")
    ledger.transition("invoice", "bill-in_1", "posted", erp_internal_id="42")
    posting = ledger.get("invoice", "bill-in_1")
    assert (posting.state, posting.attempts, posting.erp_internal_id) == ("posted", 1, "42")
    assert ledger.events("invoice", "bill-in_1") == [
        (None, "pending"),
        ("pending", "in_flight"),
        ("in_flight", "unknown"),
        ("unknown", "posted"),
    ]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ledger._conn.execute("delete from posting_events")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ledger._conn.execute("update posting_events set to_state = 'x'")


def test_reject_writes_the_dead_letter_and_posting_resolves_it(ledger):
    ledger.add_pending([("invoice", "bill-in_1", "in_1", "h1")])
    ledger.transition("invoice", "bill-in_1", "in_flight")
    ledger.reject(
        "invoice",
        "bill-in_1",
        subject_key="in_1",
        payload='{"externalId": "bill-in_1"}',
        payload_hash="h1",
        correlation_id="c1",
        http_status=400,
        code="USER_ERROR",
        path="postingPeriod",
        message="closed",
        erp_response="{}",
    )
    assert ledger.get("invoice", "bill-in_1").state == "rejected"
    assert [d.error_code for d in ledger.open_dead_letters()] == ["USER_ERROR"]
    ledger.transition("invoice", "bill-in_1", "in_flight", payload_hash="h2")
    ledger.transition("invoice", "bill-in_1", "posted", erp_internal_id="7")
    assert ledger.open_dead_letters() == []
