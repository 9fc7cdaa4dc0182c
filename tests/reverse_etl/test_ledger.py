"""The ops store: durable settings, legal transitions only, an append-only audit, dead letters with rejects,
syncs only where a request follows, outcomes committed before any later read."""

from __future__ import annotations

import sqlite3
import threading

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


def test_only_the_moves_before_a_request_and_the_run_end_sync(ledger):
    ledger.start_run("r1", "push")
    ledger.add_pending([("invoice", f"bill-in_{n}", f"in_{n}", "h1") for n in range(3)])
    assert ledger.commits == {"synced": 0, "unsynced": 2}
    moves = [("invoice", f"bill-in_{n}", "create", {"correlation_id": f"c{n}"}) for n in range(3)]
    ledger.mark_in_flight(moves)  # the three in one commit, synced
    assert ledger.commits == {"synced": 1, "unsynced": 2}
    assert ledger._conn.execute("pragma synchronous").fetchone()[0] == 2  # FULL
    ledger.transition("invoice", "bill-in_0", "posted", erp_internal_id="1")
    ledger.transition("invoice", "bill-in_1", "unknown", detail="ReadTimeout")
    assert ledger._conn.execute("pragma synchronous").fetchone()[0] == 1  # NORMAL
    ledger.transition("invoice", "bill-in_1", "in_flight", count_attempt=True)  # a re-send after the lookup
    ledger.finish_run("r1", "ok", {})
    assert ledger.commits == {"synced": 3, "unsynced": 4}
    assert [ledger.get("invoice", f"bill-in_{n}").attempts for n in range(3)] == [1, 2, 1]
    assert ledger.get("invoice", "bill-in_2").correlation_id == "c2"


def test_a_chunk_with_an_illegal_move_moves_none(ledger):
    ledger.add_pending([("invoice", "bill-in_1", "in_1", "h1"), ("invoice", "bill-in_2", "in_2", "h2")])
    ledger.mark_in_flight([("invoice", "bill-in_2", "create", {})])
    with pytest.raises(IllegalTransitionError, match="bill-in_2: in_flight → in_flight"):
        ledger.mark_in_flight([("invoice", "bill-in_1", "create", {}), ("invoice", "bill-in_2", "create", {})])
    assert ledger.get("invoice", "bill-in_1").state == "pending"


def test_an_outcome_left_to_a_running_commit_is_committed_before_the_next_read(ledger):
    ledger.add_pending([("invoice", "bill-in_1", "in_1", "h1"), ("invoice", "bill-in_2", "in_2", "h2")])
    ledger.mark_in_flight([("invoice", "bill-in_1", "create", {})])
    running, release = threading.Event(), threading.Event()

    def slow_write() -> None:
        running.set()
        release.wait(10)

    other = threading.Thread(target=ledger._write, args=(slow_write,))
    other.start()
    assert running.wait(10)
    # both return at once: the running commit's caller commits them after its own
    ledger.transition("invoice", "bill-in_1", "posted", erp_internal_id="1")
    ledger.transition("invoice", "bill-in_2", "posted")  # illegal: never sent
    assert ledger._unfinished == 3
    release.set()
    with pytest.raises(IllegalTransitionError, match="bill-in_2: pending → posted"):
        ledger.get("invoice", "bill-in_1")  # the read waits for them, and raises the error nobody waited for
    other.join(10)
    assert ledger.get("invoice", "bill-in_1").state == "posted"
    assert ledger.get("invoice", "bill-in_2").state == "pending"


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
