"""``q2c status`` and ``q2c exceptions`` on a data folder with nothing in it yet, and on a small snapshot."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.run.exception_queue import ExceptionFilter, read_exceptions
from pipelines.run.snapshot import publish_snapshot


def invoke(data_dir, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args])


def test_status_of_an_empty_data_folder(tmp_path):
    result = invoke(tmp_path, "status")
    assert result.exit_code == 0, result.output
    assert "none yet (q2c run)" in result.output and "Snapshot: none yet" in result.output
    status = json.loads(invoke(tmp_path, "status", "--format", "json").output)
    assert status["runs"] == [] and status["ledger"] == {} and status["dead_letters_open"] == 0
    assert [f["note"] for f in status["freshness"]] == ["nothing ingested yet"] * 3


def test_exceptions_without_a_snapshot_exit_1_and_say_why(tmp_path):
    result = invoke(tmp_path, "exceptions")
    assert result.exit_code == 1
    assert "q2c run" in result.output


EXCEPTIONS = """
select * from (values
  ('e1', 'INVOICE_MISSING_IN_ERP', 'in_1', 'US', 'USD', 12000.00, 12000.00, 'critical', 'accounting',
   timestamptz '2026-10-01 00:00:00+00', 'open', 'Billing invoice in_1 …'),
  ('e2', 'PRODUCT_UNMAPPED', 'prod_1', 'UK', 'GBP', 80.0000, 101.25, 'medium', 'finance_systems',
   timestamptz '2026-10-30 00:00:00+00', 'open', 'Product prod_1 …'),
  ('e3', 'INVOICE_AMOUNT_MISMATCH', 'in_2', 'DE', 'EUR', 5.0000, 5.41, 'low', 'accounting',
   timestamptz '2026-09-01 00:00:00+00', 'resolved', 'Invoice in_2 …')
) as t(exception_id, exception_type, subject_key, subsidiary, currency, amount_at_risk, amount_at_risk_reporting,
       severity, owner_domain, first_seen_at, status, detail)
"""


def small_snapshot(data_dir) -> None:
    import duckdb

    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        con.execute("create schema reconciliation")
        con.execute(
            "create table reconciliation.exceptions as select exception_id, exception_type, subject_key, subsidiary,"
            " currency, cast(amount_at_risk as decimal(38, 4)) as amount_at_risk,"
            " cast(amount_at_risk_reporting as decimal(38, 2)) as amount_at_risk_reporting, severity, owner_domain,"
            " first_seen_at, first_seen_at as last_seen_at, cast(null as timestamptz) as resolved_at, status,"
            f" detail, 'do something' as suggested_action from ({EXCEPTIONS})"
        )
    publish_snapshot(data_dir, "run-small")


def test_filters_on_a_small_snapshot(tmp_path):
    small_snapshot(tmp_path)
    ids = lambda where: [r["exception_id"] for r in read_exceptions(tmp_path, where)]  # noqa: E731
    assert ids(ExceptionFilter()) == ["e1", "e2", "e3"]  # worst first
    assert ids(ExceptionFilter(status="open")) == ["e1", "e2"]
    assert ids(ExceptionFilter(min_severity="medium")) == ["e1", "e2"]
    assert ids(ExceptionFilter(severities=("low",))) == ["e3"]
    assert ids(ExceptionFilter(subsidiaries=("UK", "DE"))) == ["e2", "e3"]
    assert ids(ExceptionFilter(types=("INVOICE_MISSING_IN_ERP",))) == ["e1"]
    as_of = datetime(2026, 10, 31, tzinfo=UTC)
    assert ids(ExceptionFilter(min_age_days=7, as_of=as_of)) == ["e1", "e3"]
    assert ids(ExceptionFilter(min_age_days=7, status="open", as_of=as_of)) == ["e1"]


def test_formats_keep_money_exact_and_times_utc(tmp_path):
    small_snapshot(tmp_path)
    rows = json.loads(invoke(tmp_path, "exceptions", "--status", "all", "--format", "json").output)
    assert rows[1]["amount_at_risk"] == "80.0000" and rows[1]["amount_at_risk_reporting"] == "101.25"
    assert rows[0]["first_seen_at"] == "2026-10-01T00:00:00Z" and rows[0]["resolved_at"] is None
    table = invoke(tmp_path, "exceptions", "--subsidiary", "UK").output.splitlines()
    assert table[0].split() == [
        "severity",
        "exception_type",
        "subject_key",
        "subsidiary",
        "at",
        "risk",
        "(USD)",
        "status",
    ]
    assert table[1].split() == ["medium", "PRODUCT_UNMAPPED", "prod_1", "UK", "101.25", "open"]
    assert table[-1] == "1 exception(s)"
    parsed = list(csv.DictReader(io.StringIO(invoke(tmp_path, "exceptions", "--format", "csv").output)))
    assert [r["exception_id"] for r in parsed] == ["e1", "e2"]
    assert parsed[0]["amount_at_risk_reporting"] == "12000.00"
    assert invoke(tmp_path, "exceptions", "--type", "NOPE").output.strip() == "no exceptions match"


WRITER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("create table if not exists t (x int)")
print("writing", flush=True)
time.sleep(60)
"""


def test_status_does_not_wait_for_a_run_writing_raw(tmp_path):
    import subprocess
    import sys
    import time

    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path / "raw.duckdb")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "writing"
        started = time.perf_counter()
        status = json.loads(invoke(tmp_path, "status", "--format", "json").output)
        assert time.perf_counter() - started < 10
        assert all("being written" in f["note"] for f in status["freshness"])
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
