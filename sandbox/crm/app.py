"""The CRM sandbox app: HubSpot CRM v3 objects and search, v4 associations, properties.

``create_app`` loads a fixture folder's ``crm/`` files into a fresh SQLite file under ``workdir`` and returns
the :class:`sandbox.http.App` that ``q2c sandbox serve`` (or a test's :class:`SandboxServer`) serves.
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

DEFAULT_TOKEN = "pat-q2c-sandbox"
DB_NAME = "crm.sqlite3"


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
) -> App:
    """Build the CRM app. ``search_result_cap`` exists for tests; HubSpot's is 10,000."""
    clock = clock or _clock_from_manifest(fixtures)
    app = App("crm", token=token, vendor=HubSpotVendor(), faults=faults, clock=clock)
    records = CrmRecords(_fresh_db(Path(workdir)))
    catalog = PropertyCatalog()
    if fixtures is not None:
        app.loaded = load_fixtures(Path(fixtures), records, catalog)  # type: ignore[attr-defined]
    ctx = CrmContext(app=app, records=records, catalog=catalog, clock=clock, search_result_cap=search_result_cap)
    # fixed paths before the {objectId} patterns they would otherwise be mistaken for
    routes_search.register(ctx)
    routes_writes.register(ctx)
    routes_objects.register(ctx)
    routes_associations.register(ctx)
    routes_properties.register(ctx)
    app.crm = ctx  # type: ignore[attr-defined]  # tests and the scenario tools reach the records through it
    return app
