"""The push's ceiling: a bare httpx client POSTing the payloads a push created, at the same concurrency.

Against the ERP the push wrote to, the bare client sends the very payloads the push created (read with
:func:`push_payloads` right after the push, before a later build changes them; the cycle sends them after its
incremental run, so that run does not read the bare client's records), and those whose create the ERP rejected (the push
sent them too, and the ERP validated them), one record type after another in the push's order, with ``concurrency``
requests in flight. Each payload gets a suffix on its ``externalId`` (the originals now exist and the ERP would refuse
them as duplicates); references to other records stay as they are and resolve to the records the push made, so the ERP
does the same validation work. The bare client keeps no ledger, plans nothing and only retries 429s. Whether the ERP's
store is in the page cache changes its pace by a quarter at L, so the cycle drops the store from the page cache before
each side (``bench/page_cache.py``).
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from reverse_etl.publish_rows import PUSH_ORDER, read_publish_rows

SUFFIX = "-bench"


def _ledger_rows(data_dir: Path, sql: str, since: str, until: str) -> list[tuple]:
    with sqlite3.connect(Path(data_dir) / "ops.sqlite") as con:
        return con.execute(sql, [since, until]).fetchall()


def created_postings(data_dir: Path, since: str, until: str = "9999") -> set[str]:
    """External ids of postings the ledger records as created and posted between ``since`` and ``until`` (UTC
    ISO, as the ledger writes them)."""
    sql = (
        "select distinct p.external_id from postings p join posting_events e "
        "on e.record_type = p.record_type and e.external_id = p.external_id "
        "where p.state = 'posted' and p.operation = 'create' and e.to_state = 'posted' and e.at >= ? and e.at <= ?"
    )
    return {r[0] for r in _ledger_rows(data_dir, sql, since, until)}


def rejected_creates(data_dir: Path, since: str, until: str = "9999") -> dict[str, list[str]]:
    """Per record type, the payloads of creates the ERP rejected between ``since`` and ``until`` (their dead
    letters)."""
    sql = (
        "select d.record_type, d.payload from dead_letters d join postings p "
        "on p.record_type = d.record_type and p.external_id = d.external_id "
        "where p.operation = 'create' and d.created_at >= ? and d.created_at <= ? order by d.dead_letter_id"
    )
    out: dict[str, list[str]] = {}
    for record_type, payload in _ledger_rows(data_dir, sql, since, until):
        out.setdefault(record_type, []).append(payload)
    return out


@dataclass
class PushPayloads:
    """What one push sent: per record type, the payloads it created and those whose create the ERP rejected."""

    created: dict[str, list[str]]
    rejected: dict[str, list[str]]

    @property
    def postings(self) -> int:
        return sum(map(len, self.created.values()))

    @property
    def rejected_postings(self) -> int:
        return sum(map(len, self.rejected.values()))

    def bodies(self, suffix: str) -> dict[str, list[tuple[bytes, bool]]]:
        """Per record type, each payload under an external id ending in ``suffix``, and whether it was refused."""
        return {
            t: [(_rekeyed(p, suffix), False) for p in self.created.get(t, [])]
            + [(_rekeyed(p, suffix), True) for p in self.rejected.get(t, [])]
            for t in PUSH_ORDER
        }


def push_payloads(data_dir: Path, since: str, until: str = "9999") -> PushPayloads:
    """The payloads of the push that ran between ``since`` and ``until``, read from the warehouse it read: call it
    before a later build changes them."""
    external_ids = created_postings(data_dir, since, until)
    rows = read_publish_rows(data_dir, external_ids) if external_ids else {t: [] for t in PUSH_ORDER}
    return PushPayloads({t: [r.payload for r in rows[t]] for t in PUSH_ORDER}, rejected_creates(data_dir, since, until))


def _rekeyed(payload_text: str, suffix: str = SUFFIX) -> bytes:
    payload = json.loads(payload_text)
    payload["externalId"] = f"{payload['externalId']}{suffix}"
    return json.dumps(payload).encode()


def post_in_order(
    url: str, token: str, bodies: dict[str, list[tuple[bytes, bool]]], concurrency: int
) -> tuple[float, list[str], int, dict[str, float]]:
    """Seconds for ``concurrency`` threads to POST every body, one record type after another in the push's
    order; the ERP's unexpected errors; how many bodies it refused as expected; and the seconds per record type.
    ``bodies``: per record type, (body, whether the ERP refused it before). The client keeps nothing and only
    retries 429s (the limit binds it too)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    errors: list[str] = []
    refused: list[int] = []
    started = time.perf_counter()
    by_type: dict[str, float] = {}
    for record_type in PUSH_ORDER:
        type_started = time.perf_counter()
        work: queue.Queue = queue.Queue()
        for body in bodies.get(record_type, []):
            work.put(body)

        def post_all(record_type: str = record_type, work: queue.Queue = work) -> None:
            with httpx.Client(base_url=f"{url}/services/rest/record/v1", headers=headers, timeout=120) as http:
                while True:
                    try:
                        body, was_refused = work.get_nowait()
                    except queue.Empty:
                        return
                    response = http.post(f"/{record_type}", content=body)
                    while response.status_code == 429:
                        time.sleep(0.05)
                        response = http.post(f"/{record_type}", content=body)
                    if response.status_code >= 400 and was_refused:
                        refused.append(1)
                    elif response.status_code >= 400:
                        errors.append(f"{record_type} {response.status_code} {response.text[:160]}")

        threads = [threading.Thread(target=post_all) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if bodies.get(record_type):
            by_type[record_type] = round(time.perf_counter() - type_started, 3)
    return time.perf_counter() - started, errors, len(refused), by_type


def bare_post(url: str, token: str, payloads: PushPayloads, *, concurrency: int, suffix: str = SUFFIX) -> dict:
    """Seconds for the bare client to POST again every payload a push created and every create the ERP rejected
    (refused again, as expected), their external ids ending in ``suffix`` (one per pass); unexpected errors
    counted."""
    bodies = payloads.bodies(suffix)  # prepared before the clock
    seconds, errors, refused, by_type = post_in_order(url, token, bodies, concurrency)
    return {
        "seconds": seconds,
        "seconds_by_type": by_type,
        "postings": payloads.postings,
        "rejected_postings": payloads.rejected_postings,
        "refused_again": refused,
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def push_timeline(data_dir: Path, since: str, until: str) -> dict[str, float]:
    """Per record type, the seconds from the push's first ledger event to its last between ``since`` and
    ``until`` (UTC ISO): the push's time per type, to set beside the bare client's."""
    sql = (
        "select record_type, min(at), max(at) from posting_events where at >= ? and at <= ? group by record_type "
        "order by min(at)"
    )
    with sqlite3.connect(Path(data_dir) / "ops.sqlite") as con:
        rows = con.execute(sql, [since, until]).fetchall()
    span = {t: datetime.fromisoformat(last) - datetime.fromisoformat(first) for t, first, last in rows}
    return {t: round(d.total_seconds(), 3) for t, d in span.items()}
