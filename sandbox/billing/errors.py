"""Stripe's error envelope and the headers every Stripe response carries.

``{"error": {"type", "code", "message", "param", "doc_url", "request_log_url"}}``; the official SDK picks its
exception class from the status and ``error.type`` (401 → AuthenticationError, 404/400 → InvalidRequestError,
402 → CardError, 429 → RateLimitError, ``idempotency_error`` → IdempotencyError, 5xx → APIError).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from typing import Any

from sandbox.billing.objects import API_VERSION
from sandbox.http import Request, Response

DOC_URL = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    """Raised by handlers; rendered in Stripe's envelope by the route wrapper."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's field name
        code: str | None = None,
        param: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.extra = extra or {}


def no_such(kind: str, obj_id: str, param: str = "id") -> StripeError:
    """Stripe's 404 for an unknown id (``No such invoice: 'in_…'``)."""
    return StripeError(404, f"No such {kind}: '{obj_id}'", code="resource_missing", param=param)


def invalid_param(param: str, message: str, code: str = "parameter_invalid") -> StripeError:
    return StripeError(400, message, code=code, param=param)


def mask_key(key: str) -> str:
    """Stripe masks the key it echoes: prefix kept, last four shown, the rest starred."""
    if len(key) <= 12:
        return "*" * len(key)
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


class StripeVendor:
    """Renders errors as Stripe does and stamps ``Request-Id`` / ``Stripe-Version`` on every response."""

    def __init__(self, seed: int = 0) -> None:
        self._seed = seed
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def next_request_id(self) -> str:
        """Deterministic per server: the n-th request of a seed always gets the same id."""
        with self._lock:
            n = next(self._counter)
        return "req_" + hashlib.blake2b(repr((self._seed, n)).encode(), digest_size=7).hexdigest()

    def headers(self, request_id: str) -> dict[str, str]:
        return {"Request-Id": request_id, "Stripe-Version": API_VERSION, "Cache-Control": "no-cache, no-store"}

    def error(self, req: Request, err: StripeError, request_id: str | None = None) -> Response:
        rid = request_id or self.next_request_id()
        body: dict[str, Any] = {
            "type": err.type,
            "message": err.message,
            "request_log_url": f"https://dashboard.stripe.com/test/logs/{rid}",
        }
        if err.code:
            body["code"] = err.code
            body["doc_url"] = DOC_URL + err.code.replace("_", "-")
        if err.param:
            body["param"] = err.param
        body.update(err.extra)
        headers = self.headers(rid)
        if err.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="Stripe"'
        return Response.json({"error": body}, status=err.status, headers=headers)

    # -- the base server's Vendor protocol ------------------------------------------------------------
    def unauthorized(self, req: Request) -> Response:
        header = req.headers.get("Authorization", "")
        _scheme, _, value = header.partition(" ")
        value = value.strip()
        if not value:
            message = (
                "You did not provide an API key. You need to provide your API key in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api"
                "#authentication for details, or we can help at https://support.stripe.com/."
            )
        else:
            message = f"Invalid API Key provided: {mask_key(value)}"
        return self.error(req, StripeError(401, message))

    def rate_limited(self, req: Request, retry_after: int) -> Response:
        err = StripeError(
            429,
            "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
            code="rate_limit",
        )
        response = self.error(req, err)
        response.headers["Retry-After"] = str(max(int(retry_after), 1))
        return response

    def server_error(self, req: Request) -> Response:
        err = StripeError(500, "An unknown error occurred", type="api_error")
        return self.error(req, err)

    def not_found(self, req: Request) -> Response:
        message = (
            f"Unrecognized request URL ({req.method}: {req.path}). Please see https://stripe.com/docs or we can "
            "help at https://support.stripe.com/."
        )
        return self.error(req, StripeError(404, message))

    def bad_request(self, req: Request, message: str) -> Response:
        if message == "method not allowed":
            return self.not_found(req)  # Stripe answers an unsupported method as an unrecognised URL
        return self.error(req, StripeError(400, message))
