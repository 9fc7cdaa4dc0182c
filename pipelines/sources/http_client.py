"""The HTTP session every source uses: dlt's retrying client, counting what it does.

Retries: 429, 5xx, timeouts and dropped connections are retried with capped exponential backoff
(dlt's client, which honours ``Retry-After``); other errors fail the request at once. Counting: every
attempt is seen, so the run summary can say how many pages each endpoint took and how many attempts
were retried.

Stopping: once the process is asked to stop (``pipelines.stop_request``: SIGTERM, Ctrl-C), a retry's backoff ends
early and every request fails at once with ``StopRequestedError``, which is never retried, so the threads that fetch
end with the run instead of finishing their backoff.
"""

from __future__ import annotations

import os
import re
import threading
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from dlt.sources.helpers.requests import Client
from dlt.sources.helpers.requests.retry import _make_retry
from dlt.sources.helpers.requests.session import Session
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.sessions import merge_setting
from requests.utils import get_environ_proxies, get_netrc_auth

from pipelines.stop_request import check_not_stopped, wait_unless_stopped

RETRY_STATUS = (429, 500, 502, 503, 504)
_ID_SEGMENT = re.compile(r"^(?:[a-z]{2,5}_[A-Za-z0-9]+|\d+|eid:.*)$")


def endpoint_label(url: str) -> str:
    """``/v1/invoices/in_123/lines`` → ``/v1/invoices/{id}/lines``: one label per endpoint."""
    parts = urlsplit(url).path.split("/")
    return "/".join("{id}" if _ID_SEGMENT.match(p) else p for p in parts)


class RequestStats:
    """Thread-safe counts of answered requests and retried attempts, per endpoint."""

    def __init__(self, *, keep_requests: bool = False) -> None:
        self._lock = threading.Lock()
        self.pages: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        # answered requests as (method, url, headers, body): the benchmark replays them with a bare client
        self.requests: list[tuple[str, str, dict[str, str], bytes | None]] | None = [] if keep_requests else None

    def record(self, label: str, *, ok: bool, request: Any = None) -> None:
        with self._lock:
            (self.pages if ok else self.retries)[label] += 1
            if ok and self.requests is not None and request is not None:
                body = request.body.encode() if isinstance(request.body, str) else request.body
                self.requests.append((request.method, request.url, dict(request.headers), body))

    def drain(self) -> tuple[Counter[str], Counter[str], list | None]:
        """What was counted (and kept) since the last drain, taken out: a worker process sends it to the run's
        own stats (:meth:`add`)."""
        with self._lock:
            taken = (self.pages, self.retries, self.requests)
            self.pages, self.retries = Counter(), Counter()
            self.requests = None if self.requests is None else []
            return taken

    def add(self, pages: Counter[str], retries: Counter[str], requests: list | None = None) -> None:
        """Counts (and kept requests) drained from another process's stats."""
        with self._lock:
            self.pages.update(pages)
            self.retries.update(retries)
            if self.requests is not None and requests:
                self.requests.extend(requests)

    @property
    def keeps_requests(self) -> bool:
        return self.requests is not None

    def total(self) -> tuple[int, int]:
        with self._lock:
            return sum(self.pages.values()), sum(self.retries.values())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class _NoAuth(AuthBase):
    """Leaves the request as it is (a truthy ``auth`` stops requests reading ``~/.netrc`` once more)."""

    def __call__(self, request: Any) -> Any:
        return request


class _CountingSession(Session):
    """Counts every attempt; reads the environment (proxy variables, CA bundle, ``~/.netrc``) once per host.

    ``requests`` reads them again for every request: ~1 ms each, about 15% of a billing backfill's extract
    CPU. They are looked up the same way (per scheme and host, honouring ``no_proxy``), just not repeatedly.
    """

    stats: RequestStats

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._netrc: dict[str, Any] = {}
        self._env_proxies: dict[tuple[str, str | None], dict[str, str]] = {}

    def prepare_request(self, request: Any) -> Any:
        if self.trust_env and not request.auth and not self.auth:
            origin = _origin(request.url)
            if origin not in self._netrc:
                self._netrc[origin] = get_netrc_auth(origin)
            request.auth = self._netrc[origin] or _NoAuth()
        return super().prepare_request(request)

    def merge_environment_settings(self, url: str, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        if self.trust_env:
            no_proxy = proxies.get("no_proxy") if proxies is not None else None
            key = (_origin(url), no_proxy)
            if key not in self._env_proxies:
                self._env_proxies[key] = get_environ_proxies(key[0], no_proxy=no_proxy)
            if proxies is not None:
                for scheme, proxy in self._env_proxies[key].items():
                    proxies.setdefault(scheme, proxy)
            if verify is True or verify is None:
                verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or verify
        return {
            "proxies": merge_setting(proxies, self.proxies),
            "stream": merge_setting(stream, self.stream),
            "verify": merge_setting(verify, self.verify),
            "cert": merge_setting(cert, self.cert),
        }

    def send(self, request: Any, **kwargs: Any) -> Any:
        label = endpoint_label(request.url)
        check_not_stopped(f"{request.method} {label}")
        try:
            response = super().send(request, **kwargs)
        except Exception:
            self.stats.record(label, ok=False)
            raise
        self.stats.record(label, ok=response.status_code not in RETRY_STATUS, request=request)
        return response


class _PoolKeyAdapter(HTTPAdapter):
    """requests' adapter, working out each host's connection pool key once: requests works it out for every
    request, and with a CA bundle named in the environment that is a ``stat`` of its path each time, which in a
    process whose threads are busy waits for the GIL afterwards (27 s of the L cycle's ingest)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool_keys: dict[tuple, tuple[dict[str, Any], dict[str, Any]]] = {}

    def build_connection_pool_key_attributes(self, request: Any, verify: Any, cert: Any = None) -> Any:
        parts = urlsplit(request.url)
        key = (parts.scheme.lower(), parts.hostname, parts.port, verify, cert)
        found = self._pool_keys.get(key)
        if found is None:
            found = self._pool_keys[key] = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params, pool_kwargs = found
        return dict(host_params), dict(pool_kwargs)


class CountingClient(Client):
    """dlt's retrying ``requests`` client whose sessions count every attempt into ``stats``."""

    def __init__(self, stats: RequestStats, *, max_attempts: int = 10, timeout: float = 60.0) -> None:
        self.stats = stats
        self.max_attempts, self.timeout = max_attempts, timeout  # a worker process's own client is made alike
        super().__init__(
            request_timeout=timeout,
            request_max_attempts=max_attempts,
            request_backoff_factor=0.25,
            request_max_retry_delay=20,
            respect_retry_after_header=True,
            status_codes=RETRY_STATUS,
            raise_for_status=False,
        )
        self._adapter = _PoolKeyAdapter(pool_maxsize=self._adapter._pool_maxsize)  # dlt's pool size

    def _make_session(self) -> Session:
        session = _CountingSession(**self._session_kwargs)
        session.stats = self.stats
        for key, value in self._session_attrs.items():
            setattr(session, key, value)
        session.mount("http://", self._adapter)
        session.mount("https://", self._adapter)
        # the retry wrapper calls the counting send on every attempt; its backoff ends early on a stop
        retrying = _make_retry(**self._retry_kwargs).copy(sleep=wait_unless_stopped)
        session.send = retrying.wraps(session.send)  # type: ignore[method-assign]
        return session
