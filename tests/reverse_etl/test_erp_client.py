"""The ERP client against the real sandbox: answers classified, 429 retried, lost responses unknown."""

from __future__ import annotations

import json

import pytest

from reverse_etl.erp_client import ErpAuthError, ErpClient, ErpConfig, Rejection, Unknown, Written, load_config
from sandbox.faults import FaultKind, FaultPlan, Profile
from tests.reverse_etl.erp_company import serve_company

CUSTOMER = {"externalId": "bill-cus_1", "companyName": "One", "subsidiary": {"id": "1"}, "currency": {"id": "1"}}


def client_for(server, token="q2c-erp-sandbox", **kw) -> ErpClient:
    return ErpClient(ErpConfig(base_url=server.url, token=token, backoff_base=0.01, **kw))


def test_create_read_and_structured_rejection(erp):
    with client_for(erp) as client:
        written = client.create("customer", json.dumps(CUSTOMER).encode(), "c-1")
        assert isinstance(written, Written) and written.internal_id.isdigit()
        assert client.get_by_external_id("customer", "bill-cus_1", "c-2")["id"] == written.internal_id
        assert client.get_by_external_id("customer", "bill-cus_404", "c-3") is None
        duplicate = client.create("customer", json.dumps(CUSTOMER).encode(), "c-4")
        assert isinstance(duplicate, Rejection) and duplicate.is_duplicate_external_id
        bad = {**CUSTOMER, "externalId": "bill-cus_2", "subsidiary": {"id": "9999"}}
        refused = client.create("customer", json.dumps(bad).encode(), "c-5")
        assert isinstance(refused, Rejection)
        assert (refused.status, refused.code, refused.path) == (400, "USER_ERROR", "subsidiary")
        assert "Invalid Field Value 9999" in refused.message
        assert not refused.is_duplicate_external_id


def test_401_raises_without_the_token(erp):
    with client_for(erp, token="not-the-token") as client, pytest.raises(ErpAuthError) as caught:
        client.create("customer", json.dumps(CUSTOMER).encode(), "c-1")
    assert "INVALID_LOGIN" in str(caught.value) and "not-the-token" not in str(caught.value)
    assert "not-the-token" not in repr(client.config)


def test_concurrency_limit_answers_are_retried(company, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    # the client allows 4 in flight against an ERP allowing 1: 429s come, and are retried
    with (
        serve_company(company, tmp_path / "erp", max_concurrency=1, latency_seconds=0.02) as erp,
        client_for(erp, max_concurrency=4, max_attempts=30) as client,
    ):
        bodies = [json.dumps({**CUSTOMER, "externalId": f"bill-cus_{i}"}).encode() for i in range(12)]
        with ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(lambda b: client.create("customer", b, "c"), bodies))
        assert all(isinstance(o, Written) for o in outcomes)
        assert client.stats["retry_429"] > 0


def test_lost_response_is_unknown_and_the_write_committed(company, tmp_path):
    lose_first = Profile("lose", {FaultKind.LOST_RESPONSE: 1.0}, max_faulted_attempts=1)
    with (
        serve_company(company, tmp_path / "erp", faults=FaultPlan(lose_first, seed=1)) as erp,
        client_for(erp) as client,
    ):
        outcome = client.create("customer", json.dumps(CUSTOMER).encode(), "c-1")
        assert isinstance(outcome, Unknown)
        assert client.get_by_external_id("customer", "bill-cus_1", "c-2") is not None


def test_no_connection_is_retried_then_unknown():
    import socket

    with socket.socket() as probe:  # a port on this machine that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ErpConfig(base_url=f"http://127.0.0.1:{port}", token="t", backoff_base=0.001, max_attempts=3)
    with ErpClient(config) as client:
        outcome = client.create("customer", json.dumps(CUSTOMER).encode(), "c-1")
        assert isinstance(outcome, Unknown) and "after 3 attempts" in outcome.reason
        assert client.stats["retry_connect"] == 3 and client.stats["unknown"] == 0


def test_a_write_answered_too_late_is_unknown(company, tmp_path):
    slow_first = Profile("slow", {FaultKind.SLOW: 1.0}, max_faulted_attempts=1, slow_seconds=2.0)
    with (
        serve_company(company, tmp_path / "erp", faults=FaultPlan(slow_first, seed=1)) as erp,
        client_for(erp, read_timeout=0.5) as client,
        client_for(erp, read_timeout=10) as patient,
    ):
        outcome = client.create("customer", json.dumps(CUSTOMER).encode(), "c-1")
        assert isinstance(outcome, Unknown) and "Timeout" in outcome.reason
        # the lookup's first attempt is answered late too: a patient client waits for it (no request is left
        # running past the test), and by then the ERP has finished the create the first client gave up on
        assert patient.get_by_external_id("customer", "bill-cus_1", "c-2") is not None


def test_config_from_dlt_defaults_to_the_sandbox(monkeypatch):
    monkeypatch.setenv("SOURCES__ERP__BASE_URL", "http://127.0.0.1:1/")
    monkeypatch.setenv("SOURCES__ERP__ACCESS_TOKEN", "from-env")
    config = load_config()
    assert (config.base_url, config.token) == ("http://127.0.0.1:1", "from-env")
    assert load_config("http://127.0.0.1:2", "explicit").token == "explicit"


def test_push_limits_come_from_config_and_arguments_win(monkeypatch):
    from reverse_etl.erp_client import load_config

    monkeypatch.setenv("REVERSE_ETL__MAX_CONCURRENCY", "2")
    monkeypatch.setenv("REVERSE_ETL__READ_TIMEOUT", "12.5")
    config = load_config()
    assert (config.max_concurrency, config.read_timeout) == (2, 12.5)
    assert load_config(max_concurrency=7).max_concurrency == 7
