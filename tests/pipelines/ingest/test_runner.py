"""The ingest runner and `q2c ingest`: all three sources into one raw.duckdb, exact types, recovery."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
from click.testing import CliRunner

from pipelines import stop_request
from pipelines.cli import cli
from pipelines.data_dir import raw_path
from pipelines.ingest.report import format_summary
from pipelines.ingest.runner import INGEST_ORDER, SOURCES, make_pipeline, quiet_dlt, run_ingest, run_source
from pipelines.stop_request import install_handlers
from tests.pipelines.conftest import endpoints_of

FLOATING = ("FLOAT", "DOUBLE", "REAL")


def test_all_sources_load_with_exact_types_and_utc_timestamps(sandbox, tmp_path):
    summaries = run_ingest(tmp_path, SOURCES, endpoints_of(sandbox))
    assert [s.source for s in summaries] == list(INGEST_ORDER)
    assert all(s.ok for s in summaries), [s.error for s in summaries]
    assert all(s.pages > 0 and sum(t.rows_loaded for t in s.tables) > 0 for s in summaries)
    # where each source's time went: its preparation (planning included), then dlt's three phases, within the
    # source's own seconds
    phases = ["prepare", "extract", "normalize", "load"]
    assert all(list(s.phases) == phases for s in summaries), [s.phases for s in summaries]
    assert all(0 < sum(s.phases.values()) <= s.seconds for s in summaries)
    with duckdb.connect(str(raw_path(tmp_path)), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns"
            " where table_schema like 'raw_%' and table_schema not like '%_staging'"
        ).fetchall()
    assert {c[0] for c in columns} == {"raw_crm", "raw_billing", "raw_erp"}
    floating = [c for c in columns if any(f in c[3].upper() for f in FLOATING)]
    assert floating == [], floating
    naive = [c for c in columns if c[3].upper() == "TIMESTAMP"]  # without time zone
    assert naive == [], naive
    text = format_summary(summaries)
    for source in SOURCES:
        assert f"{source}: ok" in text
    assert text.count("  prepare ") == len(SOURCES) and ", extract " in text and ", load " in text


def test_cli_ingest_reads_endpoints_from_the_environment(sandbox, tmp_path, monkeypatch):
    endpoint = endpoints_of(sandbox)["crm"]
    monkeypatch.setenv("SOURCES__CRM__BASE_URL", endpoint.base_url)
    monkeypatch.setenv("SOURCES__CRM__ACCESS_TOKEN", endpoint.token)
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "ingest", "crm"])
    assert result.exit_code == 0, result.output
    assert "crm: ok" in result.output and "companies" in result.output
    assert raw_path(tmp_path).exists()


def test_cli_ingest_fails_with_exit_1_and_names_the_source_when_the_api_refuses(sandbox, tmp_path, monkeypatch):
    endpoint = endpoints_of(sandbox)["crm"]
    monkeypatch.setenv("SOURCES__CRM__BASE_URL", endpoint.base_url)
    monkeypatch.setenv("SOURCES__CRM__ACCESS_TOKEN", "not-the-token")
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "ingest", "crm"])
    assert result.exit_code == 1
    assert "crm: FAILED" in result.output and "401" in result.output


def test_a_package_that_cannot_load_is_dropped_and_the_next_run_completes(sandbox, tmp_path):
    """A run interrupted after extraction leaves a package; if it can never load, it must not block later runs."""
    quiet_dlt()
    endpoint = endpoints_of(sandbox)["crm"]
    from pipelines.ingest.runner import build_source
    from pipelines.sources.http_client import CountingClient, RequestStats

    pipeline = make_pipeline(tmp_path, "crm")
    pipeline.extract(build_source("crm", endpoint, CountingClient(RequestStats())), loader_file_format="parquet")
    pipeline.normalize()
    assert pipeline.has_pending_data
    # sabotage the normalized package so that its load fails for good
    load_dir = Path(pipeline.pipelines_dir) / pipeline.pipeline_name / "load" / "normalized"
    broken = 0
    for parquet in load_dir.rglob("*.parquet"):
        parquet.write_bytes(b"not parquet")
        broken += 1
    assert broken > 0
    summary = run_source(tmp_path, "crm", endpoint)
    assert summary.ok, summary.error
    assert any("dropped a package" in note for note in summary.recovered), summary.recovered
    assert not make_pipeline(tmp_path, "crm").has_pending_data
    with duckdb.connect(str(raw_path(tmp_path)), read_only=True) as con:
        assert con.execute("select count(*) from raw_crm.companies").fetchone()[0] > 0


def _raw_counts(data_dir: Path) -> dict[str, int]:
    with duckdb.connect(str(raw_path(data_dir)), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema like 'raw_%' and table_schema not like '%_staging' and table_name not like '_dlt%'"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables}


def _stopped_ingest(data_dir: Path, sandbox, when: Callable[[], bool]) -> list:
    """run_ingest of erp and crm (in that order), sent SIGTERM the first time ``when()`` holds; what it returned
    (or [])."""
    restore = install_handlers()
    sent = threading.Event()

    def terminate() -> None:
        while not sent.is_set():
            if when():
                os.kill(os.getpid(), signal.SIGTERM)
                sent.set()
            time.sleep(0.001)

    thread = threading.Thread(target=terminate, daemon=True)
    thread.start()
    summaries: list = []
    try:
        summaries = run_ingest(data_dir, ("crm", "erp"), endpoints_of(sandbox))
    except SystemExit as exc:  # the signal reached the main thread outside dlt's hands
        assert exc.code == 128 + signal.SIGTERM
    finally:
        sent.set()
        thread.join()
        restore()
    assert stop_request.stop_requested()
    stop_request.clear()
    return summaries


def test_a_signal_dlt_holds_through_the_last_load_stops_the_ingest_and_loses_nothing(sandbox, tmp_path):
    """dlt swaps in its own SIGTERM handler while it normalizes and loads the last source (the others load in a
    thread, where it does not), lets the running jobs finish, then fails the step: the stop is still recorded (the
    command exits as SIGTERM asks), and the next run ends with what an uninterrupted ingest loads."""
    from dlt.common.runtime import signals as dlt_signals

    def dlt_loading() -> bool:
        return signal.getsignal(signal.SIGTERM) is dlt_signals._signal_receiver

    _stopped_ingest(tmp_path / "data", sandbox, dlt_loading)
    again = run_ingest(tmp_path / "data", ("crm", "erp"), endpoints_of(sandbox))
    assert all(s.ok for s in again), [s.error for s in again]
    clean = run_ingest(tmp_path / "clean", ("crm", "erp"), endpoints_of(sandbox))
    assert all(s.ok for s in clean)
    assert _raw_counts(tmp_path / "data") == _raw_counts(tmp_path / "clean")


def test_a_stop_while_a_source_loads_beside_the_next_lets_that_load_finish(sandbox, tmp_path):
    """SIGTERM while erp loads in its thread beside crm's extraction: the main thread stops, the load beside
    ends first (raw is closed after it), erp's rows are all in raw, and the next run completes crm."""

    def erp_loading() -> bool:
        return any(t.name == "q2c-raw-load" for t in threading.enumerate())

    summaries = _stopped_ingest(tmp_path / "data", sandbox, erp_loading)
    assert not any(s.ok and s.source == "crm" for s in summaries)  # the stop came before crm was done
    clean = run_ingest(tmp_path / "clean", ("crm", "erp"), endpoints_of(sandbox))
    assert all(s.ok for s in clean)
    counts = _raw_counts(tmp_path / "data")
    erp = {t: n for t, n in _raw_counts(tmp_path / "clean").items() if t.startswith("raw_erp.")}
    assert {t: n for t, n in counts.items() if t.startswith("raw_erp.")} == erp
    again = run_ingest(tmp_path / "data", ("crm", "erp"), endpoints_of(sandbox))
    assert all(s.ok for s in again), [s.error for s in again]
    assert _raw_counts(tmp_path / "data") == _raw_counts(tmp_path / "clean")
