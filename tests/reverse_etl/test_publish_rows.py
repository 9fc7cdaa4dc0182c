"""publish_rows: the push reads every row's key and status but only the payloads it sends; the contract checks
made in the database (rows read without payloads) quarantine exactly what the checks in Python quarantine."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import duckdb

from reverse_etl import plan
from reverse_etl.ledger import Posting
from reverse_etl.publish_rows import read_publish_rows, read_unsettled_rows, sha256_hex, with_payloads
from tests.reverse_etl import warehouse as wh

# payload per customer number: what each broken row holds instead of its proper payload (hash kept consistent)
BROKEN = {
    2: "[1, 2]",  # not an object
    3: "{not json",  # not JSON at all
    4: json.dumps({"externalId": "someone-else", "companyName": "x"}),
    5: json.dumps({"externalId": 5, "companyName": "x"}),  # a number where the id string should be
    6: json.dumps({"companyName": "no id"}),
}


def _broken_warehouse(data_dir):
    wh.write_warehouse(data_dir, [wh.customer(n) for n in range(1, 9)])
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        ids = [r[0] for r in con.execute("select external_id from publish.erp_customers order by 1").fetchall()]
        for n, payload in BROKEN.items():
            con.execute(
                "update publish.erp_customers set payload = ?, payload_hash = ? where external_id = ?",
                [payload, sha256_hex(payload), ids[n - 1]],
            )
        con.execute("update publish.erp_customers set payload_hash = 'not-the-hash' where external_id = ?", [ids[6]])
        con.execute(
            "update publish.erp_customers set validation_status = 'quarantined', quarantine_reason = 'gate' "
            "where external_id = ?",
            [ids[7]],
        )
    return ids


def test_checks_in_the_database_match_the_checks_in_python(data_dir):
    _broken_warehouse(data_dir)
    full = read_publish_rows(data_dir)["customer"]
    light = read_publish_rows(data_dir, payloads=False)["customer"]
    assert all(r.payload is None for r in light)
    assert [(r.external_id, r.validation_status, r.quarantine_reason) for r in light] == [
        (r.external_id, r.validation_status, r.quarantine_reason) for r in full
    ]
    statuses = [r.validation_status for r in full]
    assert statuses.count("ready") == 1  # only customer 1 is sound
    assert {r.quarantine_reason for r in full if r.validation_status != "ready"} == {
        "q2c push: payload is not a JSON object",
        "q2c push: payload externalId differs from external_id",
        "q2c push: payload_hash is not the sha256 of payload",
        "gate",
    }


def test_payloads_are_read_for_the_rows_sent_and_a_row_changed_meanwhile_is_held(data_dir):
    wh.write_warehouse(data_dir, [wh.customer(n) for n in range(1, 4)])
    full = read_publish_rows(data_dir)["customer"]
    light = read_publish_rows(data_dir, payloads=False)["customer"]
    loaded = with_payloads(data_dir, light[:2])
    assert loaded == full[:2]

    changed = json.dumps({"externalId": light[2].external_id, "companyName": "renamed by a later build"})
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        con.execute(
            "update publish.erp_customers set payload = ?, payload_hash = ? where external_id = ?",
            [changed, sha256_hex(changed), light[2].external_id],
        )
    [held] = with_payloads(data_dir, [light[2]])
    assert held.validation_status == "quarantined"
    assert held.quarantine_reason == "q2c push: the publish row changed while the push ran"


def test_the_ledger_settles_most_rows_in_the_database_as_the_plan_would(data_dir):
    postings = [wh.customer(n) for n in range(1, 11)]
    postings[0] = replace(postings[0], in_erp=True)  # the ERP has it, q2c never sent it: in-erp
    postings[1] = replace(postings[1], validation_status="quarantined", quarantine_reason="gate")
    wh.write_warehouse(data_dir, postings)
    rows = {r.external_id: r for r in read_publish_rows(data_dir, payloads=False)["customer"]}
    ids = sorted(rows)

    def posting(external_id: str, state: str, payload_hash: str | None) -> Posting:
        return Posting("customer", external_id, None, payload_hash, state, "create", "7", 1, *[None] * 5)

    ledger = {
        ids[2]: posting(ids[2], "posted", rows[ids[2]].payload_hash),  # unchanged
        ids[3]: posting(ids[3], "posted", "an older hash"),  # update
        ids[4]: posting(ids[4], "in_flight", rows[ids[4]].payload_hash),  # recover first
        ids[5]: posting(ids[5], "rejected", rows[ids[5]].payload_hash),  # dead-lettered
        ids[6]: posting(ids[6], "foreign", rows[ids[6]].payload_hash),  # not owned
        ids[7]: posting(ids[7], "posted", rows[ids[7]].payload_hash),  # unchanged, but a replay names it
    }
    expected = Counter(plan.decide(row, ledger.get(eid), replay=eid == ids[7]) for eid, row in rows.items())
    unsettled, settled = read_unsettled_rows(
        data_dir, "customer", [(p.external_id, p.state, p.payload_hash) for p in ledger.values()], keep=[ids[7]]
    )
    got = settled + Counter(
        plan.decide(r, ledger.get(r.external_id), replay=r.external_id == ids[7]) for r in unsettled
    )
    assert got == expected
    assert settled == Counter({"in-erp": 1, "quarantined": 1, "unchanged": 1})
    assert {r.external_id for r in unsettled} == set(ids[3:]) - {ids[2]}
    assert all(r.payload is None for r in unsettled)


def test_payloads_are_checked_only_for_rows_the_ledger_leaves(data_dir):
    """An unchanged row is not sent, so its payload is not read: a broken one counts as unchanged; a broken row
    that would be sent (an update, a replay, a recovery) counts as quarantined and is not returned."""
    wh.write_warehouse(data_dir, [wh.customer(n) for n in range(1, 6)])
    ids = [r.external_id for r in read_publish_rows(data_dir, payloads=False)["customer"]]
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:  # hashes kept, payloads broken
        con.execute("update publish.erp_customers set payload = '[1, 2]' where external_id <> ?", [ids[4]])
        hashes = dict(con.execute("select external_id, payload_hash from publish.erp_customers").fetchall())
    ledger = [
        (ids[0], "posted", hashes[ids[0]]),  # unchanged
        (ids[1], "posted", "an older hash"),  # an update
        (ids[2], "posted", hashes[ids[2]]),  # unchanged, but a replay names it
        (ids[3], "in_flight", hashes[ids[3]]),  # a recovery
    ]
    unsettled, settled = read_unsettled_rows(data_dir, "customer", ledger, keep=[ids[2]])
    assert settled == Counter({"unchanged": 1, "quarantined": 3})
    assert [r.external_id for r in unsettled] == [ids[4]]  # new, and sound
