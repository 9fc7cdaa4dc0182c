"""HubSpot's error envelope and rate-limit headers.

Every HubSpot error body is ``{"status": "error", "message", "correlationId", "category", ...}``; 429s add
``errorType: RATE_LIMIT`` and ``policyName``. Clients key on ``category`` (and on the status code), so the
sandbox renders them the same way.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from typing import Any

from sandbox.http import Request, Response

_counter = itertools.count(1)

# a private app's burst window (HubSpot: 190 requests per 10 s on Professional/Enterprise) and daily quota
RATE_LIMIT_MAX = 190
RATE_LIMIT_INTERVAL_MS = 10_000
RATE_LIMIT_DAILY = 1_000_000


def correlation_id(req: Request | None = None) -> str:
    """A UUID per error, derived from the request and a counter, so runs are reproducible."""
    seed = f"{next(_counter)} {req.method if req else ''} {req.path if req else ''}"
    return str(uuid.UUID(bytes=hashlib.blake2b(seed.encode(), digest_size=16).digest()))


def rate_limit_headers(remaining: int = RATE_LIMIT_MAX - 1) -> dict[str, str]:
    """The X-HubSpot-RateLimit-* headers HubSpot sends with responses to private-app tokens."""
    return {
        "X-HubSpot-RateLimit-Daily": str(RATE_LIMIT_DAILY),
        "X-HubSpot-RateLimit-Daily-Remaining": str(RATE_LIMIT_DAILY - 1),
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(RATE_LIMIT_INTERVAL_MS),
        "X-HubSpot-RateLimit-Max": str(RATE_LIMIT_MAX),
        "X-HubSpot-RateLimit-Remaining": str(max(remaining, 0)),
        "X-HubSpot-RateLimit-Secondly": str(RATE_LIMIT_MAX // 10),
        "X-HubSpot-RateLimit-Secondly-Remaining": str(max(remaining // 10, 0)),
    }


def error(
    req: Request | None,
    status: int,
    category: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {"status": "error", "message": message, "correlationId": correlation_id(req)}
    body.update(extra)
    body["category"] = category
    return Response.json(body, status=status, headers=headers)


def validation_error(req: Request, message: str, **extra: Any) -> Response:
    return error(req, 400, "VALIDATION_ERROR", message, **extra)


def object_not_found(req: Request, object_id: str) -> Response:
    return error(req, 404, "OBJECT_NOT_FOUND", "resource not found", context={"id": [str(object_id)]})


class HubSpotVendor:
    """Error rendering for the CRM sandbox (the :class:`sandbox.http.Vendor` protocol)."""

    def unauthorized(self, req: Request) -> Response:
        header = req.headers.get("Authorization")
        message = (
            "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
            "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
            if not header
            else "The OAuth token used to make this call expired or is invalid."
        )
        return error(req, 401, "INVALID_AUTHENTICATION", message)

    def rate_limited(self, req: Request, retry_after: int) -> Response:
        # HubSpot sends no Retry-After; the window is in X-HubSpot-RateLimit-Interval-Milliseconds
        return error(
            req,
            429,
            "RATE_LIMITS",
            "You have reached your ten_secondly_rolling limit.",
            headers=rate_limit_headers(remaining=0),
            errorType="RATE_LIMIT",
            policyName="TEN_SECONDLY_ROLLING",
        )

    def server_error(self, req: Request) -> Response:
        return error(req, 500, "INTERNAL_ERROR", "internal error")

    def not_found(self, req: Request) -> Response:
        return error(req, 404, "OBJECT_NOT_FOUND", f"Unable to find resource for path {req.path}")

    def bad_request(self, req: Request, message: str) -> Response:
        if message == "method not allowed":
            return error(req, 405, "VALIDATION_ERROR", f"HTTP {req.method} is not supported by this URL")
        return validation_error(req, message)
