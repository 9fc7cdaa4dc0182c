"""The backfill's listing in worker processes: the same raw rows, counts and fields as listing in the run's own
process; a collection that fails ends the run with its reason; no worker outlives its listing."""

from __future__ import annotations

import multiprocessing
import os
import signal

import pytest

from pipelines.data_dir import raw_path
from pipelines.ingest.runner import _known_fields, make_pipeline
from pipelines.sources.billing import listing, settings
from pipelines.sources.http_client import RequestStats
from tests.pipelines.conftest import endpoints_of
from tests.pipelines.ingest.raw_snapshot import diff, snapshot

from .support import DATASET, fixture_objects, ingest


def _workers() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.name == "q2c-billing-listing"]


def _job(endpoint, table: str, api_key: str | None = None) -> listing.ListingJob:
    return listing.ListingJob(
        table=table,
        base_url=endpoint.base_url,
        api_key=api_key or endpoint.token,
        api_version=settings.API_VERSION,
        version=1,
        max_attempts=3,
        timeout=30.0,
        keep_requests=True,
    )


@pytest.mark.slow
def test_workers_load_what_the_runs_own_process_loads(sandbox, tmp_path, monkeypatch) -> None:
    endpoint = endpoints_of(sandbox)["billing"]
    runs = {}
    for workers in (2, 0):
        monkeypatch.setenv("SOURCES__BILLING__LISTING_WORKERS", str(workers))
        data_dir = tmp_path / f"workers-{workers}"
        summary = ingest(data_dir, endpoint)
        fields = _known_fields(make_pipeline(data_dir, "billing"), "billing")
        runs[workers] = (summary, snapshot(raw_path(data_dir), DATASET), fields)
        assert _workers() == []  # the listing's processes ended with it
    (in_workers, rows_w, fields_w), (in_process, rows_p, fields_p) = runs[2], runs[0]
    assert rows_w and diff(rows_p, rows_w) == []
    assert in_workers.pages == in_process.pages and in_workers.retries == in_process.retries == 0
    loaded = [[(t.table, t.rows_loaded) for t in run.tables] for run in (in_workers, in_process)]
    assert loaded[0] == loaded[1]
    # each collection's fields are kept where the per-collection resources keep them (what drift is read against)
    assert fields_w == fields_p and fields_w["invoices"] >= {"id", "lines", "total"}


@pytest.mark.slow
def test_a_worker_sends_every_row_with_its_requests_and_fields(sandbox, scenario_dir) -> None:
    endpoint = endpoints_of(sandbox)["billing"]
    messages = list(listing.list_in_workers([_job(endpoint, "invoices"), _job(endpoint, "customers")], workers=2))
    rows: dict[str, int] = {}
    stats = RequestStats(keep_requests=True)
    listed = {}
    for m in messages:
        if isinstance(m, listing.Rows):
            rows[m.table] = rows.get(m.table, 0) + m.rows.num_rows
        elif isinstance(m, listing.Requests):
            stats.add(m.pages, m.retries, m.requests)
        elif isinstance(m, listing.Listed):
            listed[m.table] = m.fields
    invoices = fixture_objects(scenario_dir, "invoices")
    customers = fixture_objects(scenario_dir, "customers")
    assert rows == {
        "invoices": len(invoices),
        "invoice_lines": sum(len(i["lines"]["data"]) for i in invoices),
        "customers": len(customers),
    }
    assert listed == {"invoices": frozenset(invoices[0]), "customers": frozenset(customers[0])}
    pages = -(-len(invoices) // settings.PAGE_LIMIT) + -(-len(customers) // settings.PAGE_LIMIT)
    assert stats.pages["/v1/invoices"] + stats.pages["/v1/customers"] == pages
    assert len(stats.requests or []) == sum(stats.pages.values())  # the requests themselves came too
    assert _workers() == []


def test_a_collection_that_fails_ends_the_listing_with_its_reason(sandbox) -> None:
    endpoint = endpoints_of(sandbox)["billing"]
    jobs = [_job(endpoint, "customers"), _job(endpoint, "products", api_key="sk_test_not_this_one")]
    with pytest.raises(listing.ListingError, match=r"listing products: .*401.*Invalid API Key"):
        list(listing.list_in_workers(jobs, workers=2))
    assert _workers() == []


@pytest.mark.slow
def test_a_worker_that_dies_ends_the_listing_and_the_others_stop(sandbox) -> None:
    endpoint = endpoints_of(sandbox)["billing"]
    messages = listing.list_in_workers([_job(endpoint, "invoices"), _job(endpoint, "charges")], workers=2)
    next(messages)
    for worker in _workers():
        if worker.pid is not None:
            os.kill(worker.pid, signal.SIGKILL)
    with pytest.raises(listing.ListingError, match="ended without finishing"):
        list(messages)
    assert _workers() == []


def test_the_largest_collections_are_listed_first() -> None:
    order = listing.backfill_order()
    assert order[:2] == ["invoices", "charges"]
    assert sorted(order) == sorted(c.table.name for c in settings.COLLECTIONS)
