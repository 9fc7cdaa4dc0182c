"""publish_rows: the push reads every row's key and status but only the payloads it sends; the contract checks
made in the database (rows read without payloads) quarantine exactly what the checks in Python quarantine."""

from __future__ import annotations

import json

import duckdb

from reverse_etl.publish_rows import read_publish_rows, sha256_hex, with_payloads
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
