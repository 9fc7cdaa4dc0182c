"""A scheduler's stop (SIGTERM) ends ``q2c run`` at once, even while every request is backing off, and the history
says the run was interrupted. Against a real HTTP server on 127.0.0.1 that answers 503 to everything."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from pipelines.run.history import recent_runs
from tests.local_http import serving
from tests.pipelines.run.served import REPO, q2c

_TOKENS = {"CRM": "ACCESS_TOKEN", "BILLING": "API_KEY", "ERP": "ACCESS_TOKEN"}


class _Unavailable(BaseHTTPRequestHandler):
    requests = 0

    def do_GET(self) -> None:
        type(self).requests += 1
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        self.do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def unavailable() -> Iterator[str]:
    _Unavailable.requests = 0
    with serving(_Unavailable) as url:
        yield url


def test_sigterm_ends_a_run_whose_requests_are_backing_off(unavailable, tmp_path) -> None:
    """Before: the CRM's extraction swallowed the signal ("generator already executing"), billing and the ERP
    then retried for 72 s each, and the run exited 1 as if a step had failed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    for source, token in _TOKENS.items():
        env[f"SOURCES__{source}__BASE_URL"] = unavailable
        env[f"SOURCES__{source}__{token}"] = "q2c-test-token"
    env.update(Q2C_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(REPO), RUNTIME__DLTHUB_TELEMETRY="false")
    process = q2c("run", "--skip", "build", "--skip", "push", env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while _Unavailable.requests < 3 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert process.poll() is None and _Unavailable.requests >= 3, "the run never reached the retries"
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=60)  # a full retry of one request alone takes about 72 s
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 128 + signal.SIGTERM, err[-2000:]
    (run,) = recent_runs(tmp_path / "data")
    assert run.outcome == "interrupted"
    assert [(s.step, s.outcome) for s in run.steps] == [("ingest.billing", "interrupted")]  # no later source started
    assert run.steps[0].seconds is not None and run.steps[0].seconds > 0
