"""The CRM sandbox app: HubSpot CRM v3 objects and search, v4 associations, properties.

``create_app`` loads a fixture folder's ``crm/`` files into a fresh SQLite file under ``workdir`` (or, with
``store_cache``, copies the store an earlier load of the same folder saved: :mod:`sandbox.store_cache`) and
returns the :class:`sandbox.http.App` that ``q2c sandbox serve`` (or a test's :class:`SandboxServer`) serves.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from sandbox.clock import SandboxClock
from sandbox.crm import routes_associations, routes_objects, routes_properties, routes_search, routes_writes
from sandbox.crm.context import SEARCH_RESULT_CAP, CrmContext
from sandbox.crm.errors import HubSpotVendor
from sandbox.crm.loading import load_fixtures
from sandbox.crm.properties import PropertyCatalog
from sandbox.crm.records import CrmRecords
from sandbox.faults import FaultPlan
from sandbox.fixtures import read_manifest
from sandbox.http import App
from sandbox.store_cache import StoreCache

DEFAULT_TOKEN = "pat-q2c-sandbox"
DB_NAME = "crm.sqlite3"
# every module that shapes the loaded store and the catalog learned with it: a change invalidates cached stores
STORE_MODULES = (
    "sandbox.store",
    "sandbox.fixtures",
    "sandbox.crm.records",
    "sandbox.crm.loading",
    "sandbox.crm.objects",
    "sandbox.crm.views",
    "sandbox.crm.properties",
    "sandbox.crm.app",
)


def _clock_from_manifest(fixtures: Path | None) -> SandboxClock:
    """Start at the scenario's ``as_of`` (unix seconds or ISO-8601) when the folder declares one."""
    as_of = read_manifest(fixtures).get("as_of") if fixtures else None
    if isinstance(as_of, int | float):
        return SandboxClock(int(as_of))
    if isinstance(as_of, str) and as_of:
        return SandboxClock(int(datetime.fromisoformat(as_of.replace("Z", "+00:00")).timestamp()))
    return SandboxClock(int(time.time()))


def _fresh_db(workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / DB_NAME
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def create_app(
    fixtures: Path | None,
    workdir: Path,
    *,
    token: str = DEFAULT_TOKEN,
    faults: FaultPlan | None = None,
    clock: SandboxClock | None = None,
    search_result_cap: int = SEARCH_RESULT_CAP,
    store_cache: bool = False,
    store_cache_dir: Path | None = None,
) -> App:
    """Build the CRM app. ``search_result_cap`` exists for tests; HubSpot's is 10,000. ``store_cache``: reuse
    (and refresh) the loaded store kept in ``store_cache_dir`` (default ``<fixtures>/.store-cache``)."""
    clock = clock or _clock_from_manifest(fixtures)
    app = App("crm", token=token, vendor=HubSpotVendor(), faults=faults, clock=clock)
    catalog = PropertyCatalog()
    db = _fresh_db(Path(workdir))
    with StoreCache(fixtures, "crm", modules=STORE_MODULES, enabled=store_cache, cache_dir=store_cache_dir) as cache:
        state = cache.restore(db)
        records = CrmRecords(db)
        if state is not None:
            catalog.restore_learned(state["properties"])
            app.loaded = state["loaded"]  # type: ignore[attr-defined]
        elif fixtures is not None:
            app.loaded = load_fixtures(Path(fixtures), records, catalog)  # type: ignore[attr-defined]
            cache.save(records.documents, {"loaded": app.loaded, "properties": catalog.learned()})  # type: ignore[attr-defined]
    app.store_cache = cache.status  # type: ignore[attr-defined]  # "warm", "cold" or "off"
    ctx = CrmContext(app=app, records=records, catalog=catalog, clock=clock, search_result_cap=search_result_cap)
    # fixed paths before the {objectId} patterns they would otherwise be mistaken for
    routes_search.register(ctx)
    routes_writes.register(ctx)
    routes_objects.register(ctx)
    routes_associations.register(ctx)
    routes_properties.register(ctx)
    app.crm = ctx  # type: ignore[attr-defined]  # tests and the scenario tools reach the records through it
    return app
