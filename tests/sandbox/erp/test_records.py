"""Record v1 against a real server: create/get/eid/upsert/patch/delete and NetSuite's validation errors."""

from __future__ import annotations

import httpx
import pytest

from sandbox.erp.app import DEFAULT_TOKEN

INVOICE = {
    "entity": {"id": "100"},
    "externalId": "bill-in_new",
    "custbody_q2c_billing_id": "in_new",
    "tranDate": "2026-10-20",
    "item": {"items": [{"item": {"id": "20"}, "quantity": 3, "rate": 33.3, "department": {"id": "30"}}]},
}


def journal(external_id: str, amount: float = 100.25) -> dict:
    return {
        "externalId": external_id,
        "subsidiary": {"id": "1"},
        "currency": {"id": "1"},
        "tranDate": "2026-10-31",
        "line": {
            "items": [
                {"account": {"id": "12"}, "debit": amount, "memo": "release deferred"},
                {"account": {"id": "11"}, "credit": amount, "memo": "recognise revenue"},
            ]
        },
    }


def error_detail(resp: httpx.Response) -> dict:
    body = resp.json()
    assert body["status"] == resp.status_code
    assert body["type"].startswith("https://www.rfc-editor.org/rfc/")
    return body["o:errorDetails"][0]


def test_create_answers_204_with_absolute_location_that_gets_back(client: httpx.Client) -> None:
    resp = client.post("/record/v1/invoice", json=INVOICE)
    assert resp.status_code == 204 and resp.content == b""
    location = resp.headers["Location"]
    assert location.startswith("http://127.0.0.1:") and "/services/rest/record/v1/invoice/" in location
    record = client.get(location, params={"expandSubResources": "true"}).json()
    assert record["id"] == location.rsplit("/", 1)[1]
    assert record["externalId"] == "bill-in_new"
    assert record["entity"]["refName"] == "Acme Corp"
    assert record["entity"]["links"][0]["href"].endswith("/record/v1/customer/100")
    assert record["subsidiary"]["id"] == "1" and record["currency"]["refName"] == "USD"  # from the customer
    assert record["postingPeriod"]["refName"] == "Oct 2026"  # derived from tranDate
    assert record["total"] == 99.9 and record["amountRemaining"] == 99.9  # 3 × 33.3, exact
    assert record["status"] == {"id": "A", "refName": "Open"}
    assert record["createdDate"] == record["lastModifiedDate"] == "2026-11-01T00:00:00Z"


def test_get_collapses_sublists_unless_expanded_and_serves_the_sublist(client: httpx.Client) -> None:
    record = client.get("/record/v1/invoice/500").json()
    assert set(record["item"]) == {"links"}
    assert record["item"]["links"][0]["href"].endswith("/record/v1/invoice/500/item")
    lines = client.get("/record/v1/invoice/500/item").json()
    assert lines["totalResults"] == 1 and lines["items"][0]["amount"] == 125


def test_get_by_external_id(client: httpx.Client) -> None:
    record = client.get("/record/v1/invoice/eid:bill-in_500").json()
    assert record["id"] == "500" and record["custbody_q2c_billing_id"] == "in_500"
    assert client.get("/record/v1/invoice/eid:bill-in_missing").status_code == 404


def test_list_pages_ids_with_links(client: httpx.Client) -> None:
    for n in range(3):
        client.post("/record/v1/invoice", json={**INVOICE, "externalId": f"bill-in_{n}"}).raise_for_status()
    page = client.get("/record/v1/invoice", params={"limit": 2}).json()
    assert page["count"] == 2 and page["hasMore"] is True and page["totalResults"] == 4
    assert page["items"][0]["id"] == "500" and page["items"][0]["links"][0]["rel"] == "self"
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    last = client.get(nxt).json()
    assert last["offset"] == 2 and last["hasMore"] is False and last["count"] == 2
    bad = client.get("/record/v1/invoice", params={"limit": 2, "offset": 1})
    assert bad.status_code == 400 and error_detail(bad)["o:errorQueryParam"] == "offset"


def test_put_eid_upserts_create_then_update(client: httpx.Client) -> None:
    created = client.put("/record/v1/customer/eid:cus_new", json={"companyName": "Initech", "subsidiary": {"id": "2"}})
    assert created.status_code == 204
    customer_id = created.headers["Location"].rsplit("/", 1)[1]
    first = client.get(f"/record/v1/customer/{customer_id}").json()
    assert first["externalId"] == "cus_new" and first["subsidiary"]["refName"] == "Q2C Ltd (UK)"

    updated = client.put("/record/v1/customer/eid:cus_new", json={"email": "ap@initech.test"})
    assert updated.status_code == 204 and updated.headers["Location"] == created.headers["Location"]
    second = client.get("/record/v1/customer/eid:cus_new").json()
    assert second["email"] == "ap@initech.test" and second["companyName"] == "Initech"
    assert client.get("/record/v1/customer", params={"limit": 10}).json()["totalResults"] == 3


def test_patch_appends_sublist_lines_unless_replace(client: httpx.Client, server) -> None:
    server.app.clock.advance(60)
    extra = {"item": {"items": [{"item": {"id": "21"}, "amount": 10}]}}
    assert client.patch("/record/v1/invoice/500", json=extra).status_code == 204
    appended = client.get("/record/v1/invoice/500", params={"expandSubResources": "true"}).json()
    assert [line["item"]["id"] for line in appended["item"]["items"]] == ["20", "21"]  # the trap: appended
    assert appended["total"] == 135
    assert appended["lastModifiedDate"] == "2026-11-01T00:01:00Z"

    server.app.clock.advance(60)
    assert client.patch("/record/v1/invoice/500?replace=item", json=extra).status_code == 204
    replaced = client.get("/record/v1/invoice/500", params={"expandSubResources": "true"}).json()
    assert [line["item"]["id"] for line in replaced["item"]["items"]] == ["21"]
    assert replaced["total"] == 10 and replaced["lastModifiedDate"] == "2026-11-01T00:02:00Z"


def test_retried_journal_upsert_doubles_lines_without_replace(client: httpx.Client) -> None:
    assert client.put("/record/v1/journalEntry/eid:je-rev-oct", json=journal("je-rev-oct")).status_code == 204
    retry = client.put("/record/v1/journalEntry/eid:je-rev-oct", json=journal("je-rev-oct"))
    assert retry.status_code == 204
    doubled = client.get("/record/v1/journalEntry/eid:je-rev-oct/line").json()
    assert doubled["totalResults"] == 4  # still balanced, but every amount posted twice

    fixed = client.put("/record/v1/journalEntry/eid:je-rev-oct?replace=line", json=journal("je-rev-oct"))
    assert fixed.status_code == 204
    record = client.get("/record/v1/journalEntry/eid:je-rev-oct", params={"expandSubResources": "true"}).json()
    assert len(record["line"]["items"]) == 2 and record["total"] == 100.25


def test_delete_then_404(client: httpx.Client) -> None:
    assert client.delete("/record/v1/invoice/500").status_code == 204
    gone = client.get("/record/v1/invoice/500")
    assert gone.status_code == 404
    assert error_detail(gone)["o:errorCode"] == "NONEXISTENT_ID"
    assert client.delete("/record/v1/invoice/500").status_code == 404


def test_unknown_id_is_404_in_the_envelope(client: httpx.Client) -> None:
    resp = client.get("/record/v1/customer/999999")
    assert resp.status_code == 404
    body = resp.json()
    assert body["title"] == "Not Found"
    assert body["o:errorDetails"][0] == {
        "detail": "The record instance does not exist. Provide a valid record instance ID.",
        "o:errorCode": "NONEXISTENT_ID",
    }


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        ({"entity": {"id": "9999"}}, "entity", "Invalid Field Value 9999 for the following field: entity"),
        (
            {"item": {"items": [{"item": {"id": "20"}, "amount": 1}, {"item": {"id": "9999"}, "amount": 1}]}},
            "item.items[1].item",
            "Invalid Field Value 9999 for the following field: item",
        ),
        (
            {"item": {"items": [{"item": {"id": "20"}, "amount": 1, "department": {"id": "77"}}]}},
            "item.items[0].department",
            "following field: department",
        ),
        ({"currency": {"id": "42"}}, "currency", "following field: currency"),
        ({"subsidiary": {"id": "42"}}, "subsidiary", "following field: subsidiary"),
    ],
)
def test_unknown_reference_is_refused(client: httpx.Client, change: dict, path: str, words: str) -> None:
    resp = client.post("/record/v1/invoice", json={**INVOICE, **change})
    assert resp.status_code == 400
    detail = error_detail(resp)
    assert detail["o:errorCode"] == "USER_ERROR" and detail["o:errorPath"] == path
    assert words in detail["detail"]
    assert client.get("/record/v1/invoice/eid:bill-in_new").status_code == 404  # nothing committed


def test_unknown_account_and_payment_doc_are_refused(client: httpx.Client) -> None:
    bad_je = journal("je-bad")
    bad_je["line"]["items"][1]["account"] = {"id": "4444"}
    resp = client.post("/record/v1/journalEntry", json=bad_je)
    assert resp.status_code == 400 and error_detail(resp)["o:errorPath"] == "line.items[1].account"
    payment = {"customer": {"id": "100"}, "payment": 10, "apply": {"items": [{"doc": {"id": "8888"}, "amount": 10}]}}
    resp = client.post("/record/v1/customerPayment", json=payment)
    assert resp.status_code == 400 and error_detail(resp)["o:errorPath"] == "apply.items[0].doc"


def test_posting_in_a_period_closed_for_the_subsidiary_is_refused(client: httpx.Client) -> None:
    uk = {**INVOICE, "subsidiary": {"id": "2"}, "currency": {"id": "2"}, "tranDate": "2026-09-15"}
    resp = client.post("/record/v1/invoice", json=uk)
    assert resp.status_code == 400
    detail = error_detail(resp)
    assert detail["o:errorCode"] == "USER_ERROR" and detail["o:errorPath"] == "postingPeriod"
    assert "closed" in detail["detail"]
    # the same month is still open for the US subsidiary
    us = {**INVOICE, "tranDate": "2026-09-15"}
    assert client.post("/record/v1/invoice", json=us).status_code == 204


def test_unbalanced_journal_is_refused(client: httpx.Client) -> None:
    je = journal("je-unbalanced")
    je["line"]["items"][1]["credit"] = 100.24
    resp = client.post("/record/v1/journalEntry", json=je)
    assert resp.status_code == 400
    detail = error_detail(resp)
    assert detail["o:errorCode"] == "USER_ERROR" and detail["o:errorPath"] == "line"
    assert "100.25" in detail["detail"] and "100.24" in detail["detail"]


def test_duplicate_external_id_is_refused(client: httpx.Client) -> None:
    assert client.post("/record/v1/invoice", json=INVOICE).status_code == 204
    resp = client.post("/record/v1/invoice", json=INVOICE)
    assert resp.status_code == 400
    detail = error_detail(resp)
    assert detail["o:errorCode"] == "USER_ERROR" and detail["o:errorPath"] == "externalId"
    assert "already exists" in detail["detail"]


def test_payment_settles_the_invoice(client: httpx.Client) -> None:
    payment = {
        "customer": {"id": "100"},
        "externalId": "bill-py_1",
        "tranDate": "2026-10-25",
        "payment": 125,
        "apply": {"items": [{"doc": {"id": "500"}, "amount": 125, "apply": True}]},
    }
    assert client.post("/record/v1/customerPayment", json=payment).status_code == 204
    invoice = client.get("/record/v1/invoice/500").json()
    assert invoice["status"]["refName"] == "Paid In Full" and invoice["amountRemaining"] == 0


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {DEFAULT_TOKEN}"])
def test_unauthorized_is_401_invalid_login(server, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    resp = httpx.get(f"{server.url}/services/rest/record/v1/customer/100", headers=headers)
    assert resp.status_code == 401
    body = resp.json()
    assert body["title"] == "Unauthorized"
    assert body["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"


def test_money_is_exact_in_json(client: httpx.Client) -> None:
    lines = [{"item": {"id": "21"}, "amount": 0.1} for _ in range(3)] + [{"item": {"id": "20"}, "amount": 1234.4}]
    resp = client.post("/record/v1/invoice", json={**INVOICE, "item": {"items": lines}})
    assert resp.status_code == 204
    text = client.get(resp.headers["Location"]).text
    assert '"total":1234.7' in text and "0.30000000000000004" not in text


def test_posting_to_an_inactive_customer_is_refused_as_an_invalid_entity(client: httpx.Client) -> None:
    """NetSuite refuses a transaction for an inactive customer: the reverse ETL's POSTING_REJECTED case."""
    created = client.post(
        "/record/v1/customer",
        json={"companyName": "Dormant Ltd", "subsidiary": {"id": "1"}, "isInactive": True, "externalId": "dormant"},
    )
    assert created.status_code == 204, created.text
    customer_id = created.headers["Location"].rsplit("/", 1)[1]
    refused = client.post(
        "/record/v1/invoice", json={**INVOICE, "externalId": "bill-in_x", "entity": {"id": customer_id}}
    )
    assert refused.status_code == 400
    detail = refused.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "USER_ERROR"
    assert f"Invalid entity reference key {customer_id}" in detail["detail"]
    assert detail["o:errorPath"] == "entity"
    assert client.get("/record/v1/invoice/eid:bill-in_x").status_code == 404
