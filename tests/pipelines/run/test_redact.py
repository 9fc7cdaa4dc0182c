"""Secrets never reach a log line, in either format, whatever path the text takes."""

from __future__ import annotations

import io
import json
import logging

from pipelines.run.logs import configure, log
from pipelines.run.redact import MASK, Redactor, secret_values


def test_known_values_and_token_shapes_are_masked():
    redact = Redactor(["my-very-secret-value"])
    text = redact(
        "token my-very-secret-value, key sk_live_abc123XYZ, hubspot pat-na1-1234-abcd, "
        "header Authorization: Bearer eyJhbGciOi.x.y"
    )
    assert "my-very-secret-value" not in text
    assert "sk_live_abc123XYZ" not in text and "pat-na1-1234-abcd" not in text and "eyJhbGciOi" not in text
    assert text.count(MASK) == 4
    assert "Bearer ***" in text


def test_secrets_are_found_in_the_environment_by_name():
    env = {
        "SOURCES__BILLING__API_KEY": "billing-secret-1",
        "SOURCES__ERP__ACCESS_TOKEN": "erp-secret-22",
        "SOURCES__ERP__BASE_URL": "http://127.0.0.1:12113",
        "MY_PASSWORD": "hunter2-long",
        "SHORT_TOKEN": "abc",  # too short to mask without mangling ordinary words
    }
    assert secret_values(env) == {"billing-secret-1", "erp-secret-22", "hunter2-long"}


def test_json_lines_are_scrubbed_in_message_args_fields_and_tracebacks(monkeypatch):
    monkeypatch.setenv("SOURCES__CRM__ACCESS_TOKEN", "crm-token-0123456789")
    out = io.StringIO()
    setup = configure("json", stream=out)
    try:
        setup.set_run_id("run-test")
        logger = logging.getLogger("q2c.test")
        logger.info("calling with %s", "crm-token-0123456789")
        log(logger, logging.INFO, "fields too", step="ingest.crm", detail="crm-token-0123456789 leaked?")
        try:
            raise RuntimeError("401 for token crm-token-0123456789")
        except RuntimeError:
            logger.exception("failed")
        logging.getLogger("dlt.some.module").warning("library said crm-token-0123456789")
    finally:
        setup.close()
    text = out.getvalue()
    assert "crm-token-0123456789" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert [entry["msg"] for entry in lines] == ["calling with ***", "fields too", "failed", "library said ***"]
    assert all(entry["run_id"] == "run-test" for entry in lines)
    assert lines[1]["step"] == "ingest.crm" and lines[1]["detail"] == "*** leaked?"
    assert "RuntimeError" in lines[2]["exception"] and MASK in lines[2]["exception"]


def test_human_lines_name_the_step(monkeypatch):
    out = io.StringIO()
    setup = configure("human", stream=out)
    try:
        log(logging.getLogger("q2c.run"), logging.INFO, "ok in 1.0s", step="build")
    finally:
        setup.close()
    line = out.getvalue().strip()
    assert line.endswith("INFO    build: ok in 1.0s") and line[:4].isdigit() and "Z " in line
