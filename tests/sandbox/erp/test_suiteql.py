"""SuiteQL against a real server: Prefer header, paging, incremental reads, joins, SELECT-only."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx
import pytest

from sandbox.erp import objects as ns
from sandbox.erp.app import DEFAULT_TOKEN
from sandbox.erp.suiteql import _to_char, oracle_to_strftime
from sandbox.fixtures import write_collection

from .conftest import ACME, OCT, SEATS, US, USD, company_fixtures, serve

TRANSIENT = {"Prefer": "transient"}


def suiteql(client: httpx.Client, q: str, **params) -> httpx.Response:
    return client.post("/query/v1/suiteql", json={"q": q}, headers=TRANSIENT, params=params)


def test_prefer_transient_is_required(client: httpx.Client) -> None:
    resp = client.post("/query/v1/suiteql", json={"q": "SELECT id FROM customer"})
    assert resp.status_code == 400
    detail = resp.json()["o:errorDetails"][0]
    assert detail["o:errorHeader"] == "Prefer"


def test_rows_are_lowercase_strings_without_nulls(client: httpx.Client) -> None:
    body = suiteql(client, "SELECT ID, EntityId, companyname, phone, isinactive FROM customer ORDER BY id").json()
    assert body["count"] == 2 and body["totalResults"] == 2 and body["hasMore"] is False
    assert body["items"][0] == {
        "links": [],
        "id": "100",
        "entityid": "CUS-100",
        "companyname": "Acme Corp",
        "isinactive": "F",
    }


def test_only_select_is_allowed(client: httpx.Client) -> None:
    for q in ("DELETE FROM customer", "UPDATE customer SET email = 'x'", "SELECT 1 FROM customer; DROP TABLE item"):
        resp = suiteql(client, q)
        assert resp.status_code == 400
        assert resp.json()["o:errorDetails"][0]["o:errorCode"] == "USER_ERROR"
    assert suiteql(client, "SELECT id FROM customer").status_code == 200


def test_unknown_field_is_a_search_error(client: httpx.Client) -> None:
    resp = suiteql(client, "SELECT nosuchfield FROM customer")
    assert resp.status_code == 400
    assert "Field 'nosuchfield' was not found" in resp.json()["o:errorDetails"][0]["detail"]


def test_join_transaction_lines_and_customer(client: httpx.Client) -> None:
    q = (
        "SELECT t.tranid, t.type, c.companyname, BUILTIN.DF(t.status) AS status, tl.item, tl.quantity, "
        "tl.foreignamount, t.foreigntotal, t.trandate, t.custbody_q2c_billing_id "
        "FROM transaction t JOIN transactionline tl ON tl.transaction = t.id "
        "JOIN customer c ON c.id = t.entity "
        "WHERE t.type = 'CustInvc' AND tl.mainline = 'F' AND t.trandate >= TO_DATE('2026-10-01', 'YYYY-MM-DD')"
    )
    items = suiteql(client, q).json()["items"]
    assert items == [
        {
            "links": [],
            "tranid": "INV-500",
            "type": "CustInvc",
            "companyname": "Acme Corp",
            "status": "Invoice : Open",
            "item": "20",
            "quantity": "-10",  # sales lines are stored as credits, as in NetSuite
            "foreignamount": "-125",
            "foreigntotal": "125",
            "trandate": "10/5/2026",
            "custbody_q2c_billing_id": "in_500",
        }
    ]


def test_payment_link_table(client: httpx.Client) -> None:
    payment = {"customer": {"id": "100"}, "payment": 50, "apply": {"items": [{"doc": {"id": "500"}, "amount": 50}]}}
    client.post("/record/v1/customerPayment", json=payment).raise_for_status()
    q = (
        "SELECT inv.tranid, pay.type, l.foreignamount, inv.foreignamountunpaid FROM previoustransactionlinelink l "
        "JOIN transaction inv ON inv.id = l.previousdoc JOIN transaction pay ON pay.id = l.nextdoc"
    )
    assert suiteql(client, q).json()["items"] == [
        {"links": [], "tranid": "INV-500", "type": "CustPymt", "foreignamount": "50", "foreignamountunpaid": "75"}
    ]


def test_incremental_on_lastmodifieddate(client: httpx.Client, server) -> None:
    q = (
        "SELECT id, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified FROM transaction "
        "WHERE lastmodifieddate > TO_TIMESTAMP('{since}', 'YYYY-MM-DD HH24:MI:SS') ORDER BY lastmodifieddate, id"
    )
    assert suiteql(client, q.format(since="2026-11-01 00:00:00")).json()["items"] == []
    server.app.clock.advance(3600)
    client.patch("/record/v1/invoice/500", json={"memo": "PO 4711"}).raise_for_status()
    items = suiteql(client, q.format(since="2026-11-01 00:00:00")).json()["items"]
    assert items == [{"links": [], "id": "500", "modified": "2026-11-01 01:00:00"}]
    # the raw column comes back in the account's date format, without the time (as SuiteQL does)
    raw = suiteql(client, "SELECT lastmodifieddate FROM transaction WHERE id = 500").json()["items"][0]
    assert raw["lastmodifieddate"] == "11/1/2026"
    assert suiteql(client, q.format(since="2026-11-01 01:00:00")).json()["items"] == []


def test_nvl_sysdate_and_fetch_first(client: httpx.Client) -> None:
    q = "SELECT NVL(phone, 'none') AS phone, TO_CHAR(SYSDATE, 'YYYY-MM') AS month FROM customer FETCH FIRST 1 ROWS ONLY"
    assert suiteql(client, q).json()["items"] == [{"links": [], "phone": "none", "month": "2026-11"}]


@pytest.fixture
def big_server(tmp_path: Path):
    root = company_fixtures(tmp_path / "fixtures")
    invoices = [
        ns.invoice(
            id=1000 + n,
            entity=ACME,
            subsidiary=US,
            currency=USD,
            tran_date="2026-10-10",
            posting_period=OCT,
            tran_id=f"INV-{n}",
            external_id=f"bill-in_{n}",
            lines=[ns.item_line(item=SEATS, amount="10.10")],
        )
        for n in range(2500)
    ]
    write_collection(root, "erp", "invoice", invoices)
    with serve(root, tmp_path / "work") as srv:
        yield srv
        assert srv.errors == []


def test_paging_across_more_than_1000_rows(big_server) -> None:
    with httpx.Client(
        base_url=f"{big_server.url}/services/rest", headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    ) as c:
        q = "SELECT id, foreigntotal FROM transaction ORDER BY id"
        first = suiteql(c, q).json()
        assert first["count"] == 1000 and first["hasMore"] is True and first["totalResults"] == 2500
        rels = {link["rel"]: link["href"] for link in first["links"]}
        assert set(rels) == {"next", "last", "self"}
        assert rels["next"].endswith("/services/rest/query/v1/suiteql?limit=1000&offset=1000")
        seen = [row["id"] for row in first["items"]]
        url = rels["next"]
        while url:
            page = c.post(url, json={"q": q}, headers=TRANSIENT).json()
            seen += [row["id"] for row in page["items"]]
            url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        assert len(seen) == len(set(seen)) == 2500
        assert page["offset"] == 2000 and page["count"] == 500 and page["hasMore"] is False
        assert first["items"][0]["foreigntotal"] == "10.1"

        small = suiteql(c, q, limit=2, offset=4).json()
        assert [row["id"] for row in small["items"]] == ["1004", "1005"]
        assert suiteql(c, q, limit=1001).status_code == 400
        assert suiteql(c, q, limit=10, offset=5).status_code == 400


def test_total_results_follow_writes_between_pages(client: httpx.Client) -> None:
    """totalResults is counted once per query while the data is unchanged, and again after a write."""
    query = "SELECT id FROM customer ORDER BY id"
    first = suiteql(client, query, limit=1).json()
    assert suiteql(client, query, limit=1, offset=1).json()["totalResults"] == first["totalResults"]
    created = client.post("/record/v1/customer", json={"companyName": "Newco", "subsidiary": {"id": "1"}})
    assert created.status_code == 204, created.text
    assert suiteql(client, query, limit=1).json()["totalResults"] == first["totalResults"] + 1


@pytest.mark.parametrize(
    "fmt",
    ["YYYY-MM-DD", "YYYY-MM-DD HH24:MI:SS", "DD/MM/YYYY", "yyyymmdd", "MON DD, YYYY", "HH:MI AM", "YY-MM", "MONTH"],
)
def test_to_char_renders_a_stored_timestamp_as_oracle_does(fmt):
    # numeric formats take a slicing fast path (TO_CHAR runs once per row); every format renders what strftime does
    stored = "2026-03-07T14:05:06Z"
    moment = datetime.strptime(stored, "%Y-%m-%dT%H:%M:%SZ")
    assert _to_char(stored, fmt) == moment.strftime(oracle_to_strftime(fmt))
