"""Helpers for the billing ingest tests: running the source, writing through Stripe's SDK, reading raw."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import httpx
import stripe

from pipelines.data_dir import raw_path
from pipelines.ingest.runner import Endpoint, SourceSummary, quiet_dlt, run_source

DATASET = "raw_billing"
T = TypeVar("T")


def ingest(data_dir: Path, endpoint: Endpoint) -> SourceSummary:
    quiet_dlt()
    summary = run_source(data_dir, "billing", endpoint)
    assert summary.error is None, summary.error
    return summary


def loaded(summary: SourceSummary) -> dict[str, int]:
    """Rows written per table (new or updated), tables with none left out."""
    return {t.table: t.rows_loaded for t in summary.tables if t.rows_loaded}


def sdk(endpoint: Endpoint) -> stripe.StripeClient:
    return stripe.StripeClient(endpoint.token, base_addresses={"api": endpoint.base_url})


def retried(call: Callable[..., T], *args: Any, attempts: int = 12, **kwargs: Any) -> T:
    """A call through the SDK, retried through injected faults (429, 5xx, dropped connections)."""
    for attempt in range(attempts):
        try:
            return call(*args, **kwargs)
        except (stripe.RateLimitError, stripe.APIConnectionError, stripe.APIError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


def write(call: Callable[..., T], *args: Any, key: str) -> T:
    """A write with an idempotency key, retried: a response lost after the commit replays, never repeats."""
    return retried(call, *args, options={"idempotency_key": key})


def fixture_objects(scenario: Path, collection: str) -> list[dict]:
    with (Path(scenario) / "billing" / f"{collection}.jsonl").open() as f:
        return [json.loads(line) for line in f if line.strip()]


def rows_by_id(data_dir: Path, table: str) -> dict[str, tuple]:
    """One raw table as id → the row (every column but dlt's bookkeeping), for finding what changed."""
    with duckdb.connect(str(raw_path(data_dir)), read_only=True) as con:
        cols = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                " order by ordinal_position",
                [DATASET, table],
            ).fetchall()
            if not r[0].startswith("_dlt")
        ]
        if not cols:
            return {}
        select = ", ".join(f'"{c}"' for c in cols)
        rows = con.execute(f'select {select} from {DATASET}."{table}"').fetchall()
    return {row[cols.index("id")]: row for row in rows}


def payloads(data_dir: Path, table: str) -> dict[str, dict]:
    with duckdb.connect(str(raw_path(data_dir)), read_only=True) as con:
        rows = con.execute(f'select id, payload from {DATASET}."{table}"').fetchall()
    return {i: json.loads(p) for i, p in rows}


def changed_ids(before: dict[str, tuple], after: dict[str, tuple]) -> set[str]:
    return {i for i, row in after.items() if before.get(i) != row} | (set(before) - set(after))


def query(data_dir: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(raw_path(data_dir)), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _get(http: httpx.Client, path: str, params: dict | None = None) -> dict:
    for attempt in range(12):
        try:
            response = http.get(path, params=params, timeout=30)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code not in (429, 500, 502, 503, 504):
            return response.raise_for_status().json()
        time.sleep(0.05 * (attempt + 1))
    raise AssertionError(f"GET {path} kept failing")


def _http(endpoint: Endpoint) -> httpx.Client:
    return httpx.Client(base_url=endpoint.base_url, headers={"Authorization": f"Bearer {endpoint.token}"})


def retrieve(endpoint: Endpoint, path: str) -> dict:
    """An object exactly as the API serves it now (the truth raw must hold)."""
    with _http(endpoint) as http:
        return _get(http, path)


def list_all(endpoint: Endpoint, path: str) -> list[dict]:
    """Every object of a list, as served (plain JSON)."""
    found: list[dict] = []
    params: dict[str, Any] = {"limit": 100}
    with _http(endpoint) as http:
        while True:
            body = _get(http, path, params)
            found += body["data"]
            if not body["has_more"]:
                return found
            params["starting_after"] = body["data"][-1]["id"]
