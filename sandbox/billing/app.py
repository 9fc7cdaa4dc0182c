"""The billing sandbox: a Stripe-REST-shaped API (version ``2026-10-28.endive``) over a fixture folder.

``create_app`` loads every billing collection file present into a fresh SQLite store under ``workdir`` (or,
with ``store_cache``, copies the store saved by an earlier load of the same folder: :mod:`sandbox.store_cache`)
and returns the :class:`App`; serve it with :class:`sandbox.http.SandboxServer`. The official ``stripe`` SDK
works against it unchanged: ``stripe.StripeClient(token, base_addresses={"api": server.url})``.
"""

from __future__ import annotations

import time
from pathlib import Path

from sandbox.billing import routes_read, routes_write
from sandbox.billing.errors import StripeVendor
from sandbox.billing.service import Billing
from sandbox.billing.storage import BillingStore, load_fixtures
from sandbox.clock import SandboxClock, parse_iso
from sandbox.faults import FaultPlan
from sandbox.fixtures import read_manifest
from sandbox.http import App
from sandbox.store_cache import StoreCache

DEFAULT_TOKEN = "sk_test_q2c_sandbox"
# every module that shapes the loaded store: a change to any of them invalidates cached stores
STORE_MODULES = (
    "sandbox.store",
    "sandbox.fixtures",
    "sandbox.billing.storage",
    "sandbox.billing.objects",
    "sandbox.billing.app",
)


def create_app(
    fixtures: Path | None,
    workdir: Path,
    *,
    token: str = DEFAULT_TOKEN,
    faults: FaultPlan | None = None,
    clock: SandboxClock | None = None,
    store_cache: bool = False,
    store_cache_dir: Path | None = None,
) -> App:
    """The billing App over ``fixtures`` (None: empty), its store in a new SQLite file under ``workdir``.
    Without a clock the sandbox starts at the fixture manifest's ``as_of`` (else the wall clock).
    ``store_cache``: reuse (and refresh) the loaded store kept in ``store_cache_dir`` (default
    ``<fixtures>/.store-cache``)."""
    faults = faults or FaultPlan("none")
    if clock is None:
        as_of = read_manifest(fixtures).get("as_of") if fixtures is not None else None
        clock = SandboxClock(_as_of_seconds(as_of) if as_of is not None else int(time.time()))
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / f"billing-{time.time_ns()}.sqlite"
    with StoreCache(
        fixtures, "billing", modules=STORE_MODULES, enabled=store_cache, cache_dir=store_cache_dir
    ) as cache:
        state = cache.restore(db)
        store = BillingStore(db)
        if state is None:
            loaded = load_fixtures(store, fixtures)
            cache.save(store.docs, {"loaded": loaded, "seq": store.docs.sequence})
        else:
            loaded = state["loaded"]
            store.docs.resume_sequence(state["seq"])
    vendor = StripeVendor(seed=faults.seed)
    app = App("billing", token=token, vendor=vendor, faults=faults, clock=clock)
    billing = Billing(store, clock, faults, vendor)
    app.billing = billing  # type: ignore[attr-defined]  # tests and the CLI reach the store through it
    app.loaded = loaded  # type: ignore[attr-defined]
    app.store_cache = cache.status  # type: ignore[attr-defined]  # "warm", "cold" or "off"
    routes_read.register(app, billing)
    routes_write.register(app, billing)
    return app


def _as_of_seconds(as_of: str | int) -> int:
    """The manifest's ``as_of``: ISO-8601 as the generator writes it, or unix seconds from a hand-made folder."""
    if isinstance(as_of, int) or str(as_of).isdigit():
        return int(as_of)
    return parse_iso(str(as_of))
