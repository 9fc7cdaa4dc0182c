"""Stripe's idempotent requests: a POST with an ``Idempotency-Key`` already seen with the same parameters
replays the first response (``Idempotent-Replayed: true``); with other parameters it is refused with a 400
``idempotency_error``. Responses are kept only once the endpoint started executing: parameter validation
failures (400) are not saved, so a corrected retry with the same key goes through, as on Stripe.

This is what lets the SDK's automatic retries (it sends a key on every POST) survive a lost response.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.billing.errors import StripeError
from sandbox.http import Response


@dataclass
class _Entry:
    fingerprint: str
    response: Response


class IdempotencyCache:
    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def run(self, key: str, fingerprint: str, execute: Callable[[], Response], write_lock: threading.RLock) -> Response:
        with write_lock:  # one request per key at a time; replays wait for the first to finish
            with self._lock:
                entry = self._entries.get(key)
            if entry is not None:
                if entry.fingerprint != fingerprint:
                    raise StripeError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters they were first used "
                        f"with. Try using a key other than '{key}' if you meant to execute a different request.",
                        type="idempotency_error",
                    )
                original = entry.response
                headers = {**original.headers, "Idempotent-Replayed": "true"}
                if "Request-Id" in original.headers:
                    headers["Original-Request"] = original.headers["Request-Id"]
                    headers.pop("Request-Id")
                return Response(original.status, original.body, headers, original.content_type)
            response = execute()
            if response.status != 400:
                with self._lock:
                    self._entries[key] = _Entry(fingerprint, response)
            return response
