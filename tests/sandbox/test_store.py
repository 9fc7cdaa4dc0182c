"""The SQLite document store: keyset pages in list order, filters and ranges through indexes."""

from __future__ import annotations

import json
import threading

import pytest

from sandbox.store import CollectionSpec, DocumentStore


@pytest.fixture
def store(tmp_path):
    s = DocumentStore(tmp_path / "store.sqlite")
    s.register(CollectionSpec("invoices", sort="created", indexed=("customer", "status", "meta.kind")))
    # three objects share created=200 so the tie-break (insertion order) is exercised
    docs = [
        {
            "id": f"in_{i:03d}",
            "created": 100 + (i // 3) * 100,
            "customer": f"cus_{i % 2}",
            "status": "paid",
            "meta": {"kind": "a" if i % 3 else "b"},
        }
        for i in range(12)
    ]
    s.put_many("invoices", docs)
    return s


def ids(bodies):
    return [json.loads(b)["id"] for b in bodies]


def test_pages_newest_first_and_cover_everything_once(store):
    seen, after = [], None
    while True:
        bodies, more = store.page("invoices", limit=5, after=after)
        seen += ids(bodies)
        if not more:
            break
        after = store.position("invoices", seen[-1])
    assert seen == [f"in_{i:03d}" for i in reversed(range(12))]


def test_before_cursor_pages_backwards_in_list_order(store):
    anchor = store.position("invoices", "in_003")
    bodies, more = store.page("invoices", limit=3, before=anchor)
    assert ids(bodies) == ["in_006", "in_005", "in_004"]
    assert more is True


def test_filters_and_ranges_use_indexed_columns(store):
    bodies, _ = store.page("invoices", where={"customer": "cus_1"}, ranges=[("created", ">=", 300)], limit=100)
    assert ids(bodies) == ["in_011", "in_009", "in_007"]
    assert store.count("invoices", {"meta.kind": "b"}) == 4
    with pytest.raises(KeyError):
        store.page("invoices", where={"not_indexed": 1})


def test_put_replaces_and_keeps_position(store):
    store.put("invoices", {"id": "in_004", "created": 200, "customer": "cus_0", "status": "void", "meta": {}})
    assert store.get("invoices", "in_004")["status"] == "void"
    assert store.count("invoices") == 12
    assert store.count("invoices", {"status": "void"}) == 1


def test_query_plan_uses_an_index(store):
    plan = (
        store.conn()
        .execute(
            'EXPLAIN QUERY PLAN SELECT body FROM "invoices" WHERE f_customer = ? ORDER BY sort_key DESC, seq DESC',
            ("cus_1",),
        )
        .fetchall()
    )
    assert any("USING INDEX" in row[-1] for row in plan), plan


def test_concurrent_readers_and_a_writer(store):
    errors = []

    def read():
        try:
            for _ in range(50):
                store.page("invoices", limit=4)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(50):
        store.put("invoices", {"id": f"in_new{i}", "created": 5000 + i, "customer": "cus_9", "status": "open"})
    for t in threads:
        t.join()
    assert not errors
    assert store.count("invoices", {"customer": "cus_9"}) == 50
