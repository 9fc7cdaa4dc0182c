"""The three sandbox servers started together on one fixture folder, sharing one clock.

Used by ``q2c sandbox serve``, ``q2c demo`` and tests. The servers' stores live in a scratch folder
that is removed on stop. The fixture folder's data is never written; with ``store_cache`` (the default) each
system keeps a pristine copy of its loaded store in ``store_cache_dir`` (default ``<fixtures>/.store-cache``)
and the next start over the same, unchanged folder copies it instead of reloading (:mod:`sandbox.store_cache`).
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sandbox.clock import SandboxClock, parse_iso
from sandbox.faults import FaultPlan
from sandbox.fixtures import read_manifest
from sandbox.http import SandboxServer

SYSTEMS = ("billing", "crm", "erp")
DEFAULT_PORTS = {"billing": 12111, "crm": 12112, "erp": 12113}
VENDOR_NAMES = {"billing": "Stripe REST (billing)", "crm": "HubSpot CRM v3", "erp": "NetSuite SuiteTalk REST"}


@dataclass(frozen=True)
class Endpoint:
    system: str
    url: str
    token: str


class SandboxCluster:
    def __init__(
        self,
        fixtures: Path | None,
        *,
        faults: str = "none",
        seed: int | None = None,
        ports: dict[str, int] | None = None,
        scratch_root: Path | None = None,
        clock: SandboxClock | None = None,
        store_cache: bool = True,
        store_cache_dir: Path | None = None,
    ) -> None:
        self.fixtures = Path(fixtures) if fixtures else None
        self.store_cache = store_cache
        self.store_cache_dir = Path(store_cache_dir) if store_cache_dir is not None else None
        manifest = read_manifest(self.fixtures) if self.fixtures else {}
        self.seed = int(seed if seed is not None else manifest.get("seed", 0))
        self.faults = faults
        self.ports = {s: 0 for s in SYSTEMS} if ports is None else {**DEFAULT_PORTS, **ports}
        as_of = manifest.get("as_of")
        # a hand-written folder without a manifest starts at the wall clock
        self.clock = clock or SandboxClock(parse_iso(as_of) if as_of else int(time.time()))
        if scratch_root is not None:
            Path(scratch_root).mkdir(parents=True, exist_ok=True)
        self._scratch = Path(tempfile.mkdtemp(prefix="q2c-sandbox-", dir=scratch_root))
        self.servers: dict[str, SandboxServer] = {}

    def start(self) -> SandboxCluster:
        try:
            for index, system in enumerate(SYSTEMS):
                module = importlib.import_module(f"sandbox.{system}.app")
                # each system gets its own fault stream, all derived from the one seed
                plan = FaultPlan(self.faults, seed=self.seed * 31 + index)
                app = module.create_app(
                    self.fixtures,
                    self._scratch / system,
                    faults=plan,
                    clock=self.clock,
                    store_cache=self.store_cache,
                    store_cache_dir=self.store_cache_dir,
                )
                self.servers[system] = SandboxServer(app, port=self.ports[system]).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
        shutil.rmtree(self._scratch, ignore_errors=True)

    def endpoint(self, system: str) -> Endpoint:
        server = self.servers[system]
        return Endpoint(system, server.url, server.app.token)

    @property
    def endpoints(self) -> list[Endpoint]:
        return [self.endpoint(s) for s in SYSTEMS if s in self.servers]

    @property
    def store_cache_status(self) -> dict[str, str]:
        """Per system: ``warm`` (store copied from the cache), ``cold`` (loaded from fixtures) or ``off``."""
        return {name: getattr(srv.app, "store_cache", "off") for name, srv in self.servers.items()}

    def errors(self) -> list[str]:
        return [f"{name}: {e}" for name, srv in self.servers.items() for e in srv.errors]

    def __enter__(self) -> SandboxCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
