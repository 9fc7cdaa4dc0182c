"""A payload's references to records q2c created, spelled the way they were before the ERP reported their ids.

A publish payload refers to another record by its internal id once the ERP has reported it (the ingest after the
push that created it), and by the external id q2c creates it with until then (``erp_ref`` in
``dbt_project/macros/publish_postings.sql``). So the payload of an invoice created in the same push as its
customer changes once, from ``"entity":{"externalId":"bill-cus_…"}`` to ``"entity":{"id":"5019"}``, and its
hash with it, though the ERP record holds the same content: NetSuite resolved the external id to that very
record when it took the create. Sending it again would be an update of every such record the run after it was
created (at L, 4,514 of the 14,917 requests of an incremental push).

:func:`hashes_as_first_spelled` gives the hashes the payload would have had with some of those references spelled
by external id, for the records the ledger says q2c created (or found holding its external id) under exactly that
internal id: each combination of them, since a payload may have named one record by id when it was sent (a customer
created a run before) and another by external id (an invoice created in the same push). When the ledger's hash is
one of them, the ERP record already has this content, and the push only restates the hash. A reference to any other
internal id (a record someone else created, or one re-created under a new id) keeps its spelling, the hashes differ,
and the update is sent.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Mapping

from reverse_etl.ledger import FOREIGN, POSTED, Posting
from reverse_etl.publish_rows import PublishRow

# per record type, the payload keys that reference a record q2c may have created, and that record's type
REFERENCES: dict[str, dict[str, str]] = {
    "invoice": {"entity": "customer"},
    "creditMemo": {"entity": "customer", "createdFrom": "invoice", "doc": "invoice"},
    "customerPayment": {"customer": "customer", "doc": "invoice"},
}
MAX_SPELLED = 6  # references combined per payload (2**6 - 1 hashes at most)
# `"key":{"id":"…"}` as DuckDB's json_object writes it (no spaces). Within a JSON string the quotes are escaped,
# so nothing inside a memo can match.
_BY_ID = re.compile(r'"(?P<key>[A-Za-z_]\w*)":\{"id":(?P<id>"(?:[^"\\]|\\.)*")\}')


def created_records(postings: Iterable[Posting]) -> dict[tuple[str, str], str]:
    """(record type, ERP internal id) → the external id q2c sent it with, for the records the ERP holds under
    q2c's external id."""
    return {
        (p.record_type, p.erp_internal_id): p.external_id
        for p in postings
        if p.erp_internal_id is not None and p.state in (POSTED, FOREIGN)
    }


def hashes_as_first_spelled(record_type: str, payload: str, created: Mapping[tuple[str, str], str]) -> set[str]:
    """The sha256s (hex, as ``payload_hash``) of ``payload`` with each non-empty combination of its references to
    records in ``created`` spelled by external id; empty when it has none. At most ``MAX_SPELLED`` references are
    combined (a payload has two or three)."""
    keys = REFERENCES.get(record_type)
    if not keys:
        return set()
    pieces: list[str] = []  # the payload's text cut around each reference that can be spelled back
    choices: list[tuple[str, str]] = []  # (as it is, by external id) per reference
    at = 0
    for match in _BY_ID.finditer(payload):
        target = keys.get(match["key"])
        external_id = created.get((target, json.loads(match["id"]))) if target else None
        if external_id is None:
            continue
        pieces.append(payload[at : match.start()])
        choices.append((match[0], f'"{match["key"]}":{{"externalId":{json.dumps(external_id, ensure_ascii=False)}}}'))
        at = match.end()
    if not choices or len(choices) > MAX_SPELLED:
        return set()
    hashes = set()
    for spelled in itertools.product((False, True), repeat=len(choices)):
        if any(spelled):
            parts = (
                piece + (new if by_external_id else old)
                for piece, (old, new), by_external_id in zip(pieces, choices, spelled, strict=True)
            )
            text = "".join(parts) + payload[at:]
            hashes.add(hashlib.sha256(text.encode()).hexdigest())
    return hashes


def only_restated(row: PublishRow, posting: Posting | None, created: Mapping[tuple[str, str], str]) -> bool:
    """Whether ``row`` (read with its payload) differs from what q2c posted only in how it refers to records q2c
    created: the update would send the content the ERP record holds already."""
    return (
        posting is not None
        and posting.state == POSTED
        and row.payload is not None
        and posting.payload_hash in hashes_as_first_spelled(row.record_type, row.payload, created)
    )
