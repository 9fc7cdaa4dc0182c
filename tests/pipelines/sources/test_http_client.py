"""http_client: the counting, retrying session, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import requests.adapters

from pipelines.sources.http_client import CountingClient, RequestStats
from pipelines.stop_request import StopRequestedError, request_stop
from tests.local_http import serving


class _Handler(BaseHTTPRequestHandler):
    calls = 0
    unavailable = 0  # requests answered 503

    def do_GET(self) -> None:
        type(self).calls += 1
        if self.path.endswith("/unavailable"):
            type(self).unavailable += 1
            self.send_response(503)
            self.send_header("Retry-After", "20")  # the longest backoff the client waits (its cap)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status = 429 if self.path.endswith("/limited") and type(self).calls % 2 else 200
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    with serving(_Handler) as url:
        yield url


def test_every_attempt_is_counted_per_endpoint(server: str) -> None:
    stats = RequestStats()
    session = CountingClient(stats).session
    for _ in range(3):
        assert session.get(f"{server}/v1/things/th_123/limited").json() == {"ok": True}
    assert session.get(f"{server}/v1/other").status_code == 200
    assert stats.pages == {"/v1/things/{id}/limited": 3, "/v1/other": 1}
    assert sum(stats.retries.values()) >= 1  # the 429s were retried, and counted as retries
    assert stats.total() == (4, sum(stats.retries.values()))


def test_the_connection_pool_key_is_worked_out_once_per_host(server: str, monkeypatch, tmp_path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))  # requests stats a named bundle for every request
    looked = []
    isdir = requests.adapters.os.path.isdir
    monkeypatch.setattr(requests.adapters.os.path, "isdir", lambda path: looked.append(path) or isdir(path))
    session = CountingClient(RequestStats()).session
    for _ in range(20):
        assert session.get(f"{server}/v1/other").status_code == 200
    assert looked == [str(bundle)]


def test_a_stop_ends_the_backoff_and_no_request_goes_out_after_it(server: str) -> None:
    """SIGTERM while a request waits out a 503's Retry-After (20 s): the wait ends at once, the retry is not sent,
    and every later request fails before it is sent."""
    stats = RequestStats()
    session = CountingClient(stats, max_attempts=10).session
    _Handler.unavailable = 0
    outcome: list[BaseException | str] = []

    def fetch() -> None:
        try:
            outcome.append(f"answered {session.get(f'{server}/v1/unavailable').status_code}")
        except StopRequestedError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=fetch)
    thread.start()
    deadline = time.monotonic() + 60
    while stats.total()[1] < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert stats.total()[1] == 1, "the 503 was not retried"
    request_stop(signal.SIGTERM)  # the request is now waiting 20 s before its second attempt
    thread.join(10)
    assert not thread.is_alive(), "the backoff was waited out"
    assert len(outcome) == 1 and isinstance(outcome[0], StopRequestedError), outcome
    assert "/v1/unavailable" in str(outcome[0]) and "SIGTERM" in str(outcome[0])
    assert _Handler.unavailable == 1  # the second attempt was never sent
    with pytest.raises(StopRequestedError):
        session.get(f"{server}/v1/other")
    assert _Handler.unavailable == 1 and stats.pages["/v1/other"] == 0  # nothing more reached the server
