"""The ERP sandbox: a NetSuite SuiteTalk REST server (record v1 + SuiteQL) over a fixture folder."""

from __future__ import annotations

import time
from pathlib import Path

from sandbox.clock import SandboxClock, parse_iso
from sandbox.erp import objects, routes_records, routes_suiteql
from sandbox.erp.errors import NetSuiteVendor
from sandbox.erp.records import RecordStore
from sandbox.erp.suiteql import SuiteQL, utc_iso
from sandbox.faults import FaultPlan
from sandbox.fixtures import read_collection, read_manifest
from sandbox.http import App
from sandbox.store import DocumentStore
from sandbox.store_cache import StoreCache

DEFAULT_TOKEN = "q2c-erp-sandbox"
# a standard NetSuite account allows 5 concurrent web-services requests (more with SuiteCloud Plus licences)
DEFAULT_MAX_CONCURRENCY = 5
# every module that shapes the loaded store (records and their SuiteQL projections): a change to any of them
# invalidates cached stores
STORE_MODULES = (
    "sandbox.store",
    "sandbox.fixtures",
    "sandbox.erp.records",
    "sandbox.erp.suiteql_tables",
    "sandbox.erp.objects",
    "sandbox.erp.app",
)


def create_app(
    fixtures: Path | None,
    workdir: Path,
    *,
    token: str = DEFAULT_TOKEN,
    faults: FaultPlan | None = None,
    clock: SandboxClock | None = None,
    max_concurrency: int | None = DEFAULT_MAX_CONCURRENCY,
    latency_seconds: float = 0.0,
    suiteql_max_results: int = 100_000,
    store_cache: bool = False,
    store_cache_dir: Path | None = None,
) -> App:
    """Load ``fixtures/erp/<recordType>.jsonl`` (absent files = empty) into a fresh store under ``workdir``.

    ``latency_seconds`` delays every answer (NetSuite's are slow, and a slow answer is what makes the
    concurrency limit bite); ``suiteql_max_results`` is SuiteQL's 100,000-row ceiling per query.
    ``store_cache``: reuse (and refresh) the loaded store kept in ``store_cache_dir`` (default
    ``<fixtures>/.store-cache``), see :mod:`sandbox.store_cache`.
    The returned app carries ``app.records`` (the :class:`RecordStore`) and ``app.loaded`` (records loaded per
    type) for tests and the CLI.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / f"erp-{time.time_ns()}.sqlite"
    if clock is None:
        # the scenario's own "now", as the billing and CRM sandboxes do; the wall clock for hand-made folders
        as_of = read_manifest(Path(fixtures)).get("as_of") if fixtures is not None else None
        clock = SandboxClock(parse_iso(as_of) if as_of else int(time.time()))
    loaded: dict[str, int] = {}
    with StoreCache(fixtures, "erp", modules=STORE_MODULES, enabled=store_cache, cache_dir=store_cache_dir) as cache:
        state = cache.restore(db_path)
        store = DocumentStore(db_path)
        records = RecordStore(store, clock)
        if state is not None:
            loaded = state["loaded"]
            store.resume_sequence(state["seq"])
        elif fixtures is not None:
            # reference records first, so nothing depends on load order; fixtures are trusted, not re-validated
            for record_type in (*objects.REFERENCE_TYPES, "customer", *objects.TRANSACTION_TYPES):
                loaded[record_type] = records.load(record_type, read_collection(Path(fixtures), "erp", record_type))
            cache.save(store, {"loaded": loaded, "seq": store.sequence})
    app = App(
        "erp",
        token=token,
        vendor=NetSuiteVendor(),
        faults=faults,
        clock=clock,
        max_concurrency=max_concurrency,
    )
    suiteql = SuiteQL(db_path, lambda: utc_iso(clock.now()), max_results=suiteql_max_results)
    routes_records.register(app, records, latency_seconds=latency_seconds)
    routes_suiteql.register(app, suiteql, latency_seconds=latency_seconds)
    app.records = records  # type: ignore[attr-defined]
    app.loaded = loaded  # type: ignore[attr-defined]
    app.store_cache = cache.status  # type: ignore[attr-defined]  # "warm", "cold" or "off"
    return app
