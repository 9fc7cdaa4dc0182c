"""hashes_as_first_spelled() on payloads DuckDB writes the way the publish models do (``erp_ref``,
``json_without_nulls`` and ``payload_hash`` in dbt_project/macros/publish_postings.sql)."""

from __future__ import annotations

import duckdb
import pytest

from reverse_etl.references import hashes_as_first_spelled

# a customer payment's body as erp_customer_payments builds it, for a customer and an invoice known by internal id
# or not yet; the memo quotes what a reference looks like, and must be left alone
PAYMENT = """
    select cast(json_merge_patch('{}', json_object(
        'externalId', 'bill-ch_1',
        'customer', case when $customer_id is not null then json_object('id', $customer_id)
            else json_object('externalId', 'bill-cus_1') end,
        'memo', 'paid "customer":{"id":"5019"} by hand',
        'payment', cast(1248.5 as decimal(38, 4)),
        'apply', json_object('items', json_array(json_object(
            'doc', case when $invoice_id is not null then json_object('id', $invoice_id)
                else json_object('externalId', 'bill-in_1') end,
            'apply', true,
            'amount', cast(1248.5 as decimal(38, 4))
        )))
    )) as varchar) as payload
"""


@pytest.fixture
def con():
    with duckdb.connect() as connection:
        yield connection


def payment(con, customer_id: str | None, invoice_id: str | None) -> tuple[str, str]:
    """The payload and its payload_hash, both DuckDB's."""
    payload = con.execute(PAYMENT, {"customer_id": customer_id, "invoice_id": invoice_id}).fetchone()[0]
    return payload, con.execute("select sha256(?)", [payload]).fetchone()[0]


CREATED = {("customer", "5019"): "bill-cus_1", ("invoice", "11999134"): "bill-in_1"}


def test_references_to_created_records_hash_as_when_first_sent(con):
    _, first = payment(con, None, None)
    payload, now = payment(con, "5019", "11999134")
    assert now != first
    assert first in hashes_as_first_spelled("customerPayment", payload, CREATED)
    # sent when the customer was known by id already and the invoice was created in the same push
    _, customer_known = payment(con, "5019", None)
    assert customer_known in hashes_as_first_spelled("customerPayment", payload, CREATED)
    assert now not in hashes_as_first_spelled("customerPayment", payload, CREATED)  # only spellings that differ


def test_an_internal_id_of_another_record_keeps_its_spelling(con):
    payload, _ = payment(con, "5019", "11999134")
    _, first = payment(con, None, None)
    # the ledger's customer bill-cus_1 is 77: 5019 is someone else's record, so the content changed
    assert hashes_as_first_spelled("customerPayment", payload, {("customer", "77"): "bill-cus_1"}) == set()
    # an invoice id is not a customer id: the record type counts
    assert hashes_as_first_spelled("customerPayment", payload, {("invoice", "5019"): "bill-cus_1"}) == set()
    assert first not in hashes_as_first_spelled("customerPayment", payload, {("invoice", "11999134"): "bill-in_1"})


def test_a_record_type_without_references_to_created_records(con):
    assert hashes_as_first_spelled("journalEntry", '{"entity":{"id":"1"}}', {("customer", "1"): "bill-cus_1"}) == set()
