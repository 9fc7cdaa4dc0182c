"""The concurrency limit (429) and a write whose response is lost after it committed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from sandbox.erp.app import DEFAULT_TOKEN
from sandbox.faults import FaultKind, FaultPlan, Profile

from .conftest import serve

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


def test_more_concurrent_requests_than_the_limit_get_429(fixtures_dir: Path, tmp_path: Path) -> None:
    limit = 3
    with serve(fixtures_dir, tmp_path / "work", max_concurrency=limit, latency_seconds=0.4) as srv:
        url = f"{srv.url}/services/rest/record/v1/customer/100"

        def fetch(_: int) -> httpx.Response:
            return httpx.get(url, headers=AUTH, timeout=10)  # one connection each, as parallel workers would

        with ThreadPoolExecutor(max_workers=limit + 3) as pool:
            responses = list(pool.map(fetch, range(limit + 3)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(200) >= limit and 429 in statuses
        blocked = next(r for r in responses if r.status_code == 429).json()
        assert blocked["status"] == 429
        assert blocked["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
        # once the burst is over, requests pass again
        assert httpx.get(url, headers=AUTH).status_code == 200
        assert srv.errors == []


def test_lost_response_after_commit_is_found_by_external_id(fixtures_dir: Path, tmp_path: Path) -> None:
    lose_first_write = Profile("lose-first-write", {FaultKind.LOST_RESPONSE: 1.0}, max_faulted_attempts=1)
    with serve(fixtures_dir, tmp_path / "work", faults=FaultPlan(lose_first_write, seed=1)) as srv:
        base = f"{srv.url}/services/rest/record/v1"
        body = {
            "entity": {"id": "100"},
            "externalId": "bill-in_lost",
            "tranDate": "2026-10-20",
            "item": {"items": [{"item": {"id": "20"}, "amount": 42}]},
        }
        with pytest.raises(httpx.TransportError):
            httpx.post(f"{base}/invoice", json=body, headers=AUTH)
        # the client cannot know; the record is there
        found = httpx.get(f"{base}/invoice/eid:bill-in_lost", headers=AUTH)
        assert found.status_code == 200 and found.json()["total"] == 42
        # a blind retry of the create is refused as a duplicate instead of posting twice
        retry = httpx.post(f"{base}/invoice", json=body, headers=AUTH)
        assert retry.status_code == 400
        assert retry.json()["o:errorDetails"][0]["o:errorPath"] == "externalId"
        listing = httpx.get(f"{base}/invoice", headers=AUTH).json()
        assert listing["totalResults"] == 2  # the fixture's invoice and the one lost-response create
        assert srv.errors == []
