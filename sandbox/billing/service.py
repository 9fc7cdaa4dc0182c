"""The billing sandbox's shared state and request plumbing: ids, the clock, the store, per-request context
(Stripe's ``Request-Id``, ``Idempotency-Key``) and the wrapper that renders :class:`StripeError` and stamps
Stripe's headers on every response."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.billing.errors import StripeError, StripeVendor
from sandbox.billing.idempotency import IdempotencyCache
from sandbox.billing.objects import make_id
from sandbox.billing.storage import BillingStore
from sandbox.clock import SandboxClock
from sandbox.faults import FaultPlan
from sandbox.fixtures import dumps
from sandbox.http import Request, Response


@dataclass(frozen=True)
class Ctx:
    """What a handler knows about the API request it serves (events record both)."""

    request_id: str
    idempotency_key: str | None


BillingHandler = Callable[[Request, Ctx], Response]


class Billing:
    def __init__(self, store: BillingStore, clock: SandboxClock, faults: FaultPlan, vendor: StripeVendor) -> None:
        self.store = store
        self.clock = clock
        self.faults = faults
        self.vendor = vendor
        self.idempotency = IdempotencyCache()
        self._ids = itertools.count(1)
        self._id_lock = threading.Lock()

    def new_id(self, prefix: str, length: int = 24) -> str:
        """Ids of objects created through the API: deterministic for a seed and request sequence."""
        with self._id_lock:
            n = next(self._ids)
        return make_id(prefix, "api", self.faults.seed, n, length=length)

    def now(self) -> int:
        return self.clock.now()

    def handler(self, fn: BillingHandler) -> Callable[[Request], Response]:
        """Wrap a handler: request id, idempotent replay for writes, Stripe's envelope for errors."""

        def run(req: Request) -> Response:
            ctx = Ctx(self.vendor.next_request_id(), req.headers.get("Idempotency-Key") or None)
            try:
                if req.method in ("POST", "DELETE") and ctx.idempotency_key:
                    response = self.idempotency.run(
                        ctx.idempotency_key,
                        _fingerprint(req),
                        lambda: self._call(fn, req, ctx),
                        self.store.docs.write_lock,
                    )
                elif req.method in ("POST", "DELETE"):
                    with self.store.docs.write_lock:  # writes are serialised, as one Stripe object lock would
                        response = self._call(fn, req, ctx)
                else:
                    response = self._call(fn, req, ctx)
            except StripeError as err:
                response = self.vendor.error(req, err, ctx.request_id)
            for key, value in self.vendor.headers(ctx.request_id).items():
                response.headers.setdefault(key, value)
            if ctx.idempotency_key:
                response.headers.setdefault("Idempotency-Key", ctx.idempotency_key)
            return response

        return run

    def _call(self, fn: BillingHandler, req: Request, ctx: Ctx) -> Response:
        try:
            return fn(req, ctx)
        except StripeError as err:
            return self.vendor.error(req, err, ctx.request_id)


def _fingerprint(req: Request) -> str:
    return f"{req.method} {req.path} " + dumps(sorted(req.form()))


def json_response(obj: Any, status: int = 200) -> Response:
    return Response.raw_json(dumps(obj), status=status)
