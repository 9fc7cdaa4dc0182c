"""raw.duckdb held open for a whole ingest: loads and checkpoints beside the next source, nothing lost, closed at the
end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace

import duckdb
import pytest

from pipelines.data_dir import raw_path
from pipelines.ingest.raw_database import RawDatabase
from pipelines.ingest.runner import run_ingest
from tests.pipelines.conftest import endpoints_of


def _rows(path, table: str) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]


def _opened_with(path, *statements: str) -> tuple[RawDatabase, duckdb.DuckDBPyConnection]:
    raw = RawDatabase(path)
    cursor = raw.connection.cursor()
    for sql in statements:
        cursor.execute(sql)
    return raw, cursor


def _wal_bytes(path) -> int:
    try:  # the checkpoint beside may remove the log between a look and a stat
        return path.with_name(path.name + ".wal").stat().st_size
    except FileNotFoundError:
        return 0


def test_a_load_beside_gives_its_value_then_moves_the_log_into_the_file_and_close_releases_it(tmp_path):
    path = tmp_path / "raw.duckdb"
    raw = RawDatabase(path)

    def load() -> int:
        cursor = raw.cursor()
        cursor.execute("create schema raw_x")
        cursor.execute("create table raw_x.t as select range as i from range(100000)")
        cursor.close()
        return 7

    loading = raw.load_beside(load)
    assert loading.result() == 7 and loading.seconds > 0
    assert raw.table_counts("raw_x") == {"t": 100_000}  # the connection stays usable while the checkpoint runs
    deadline = time.monotonic() + 30
    while _wal_bytes(path) and time.monotonic() < deadline:  # the thread, not the close, empties the log
        time.sleep(0.05)
    assert _wal_bytes(path) == 0
    raw.close()
    assert _rows(path, "raw_x.t") == 100_000  # the same process opens it again: the connection was closed
    with pytest.raises(RuntimeError, match="was closed"):
        raw.credentials()
    raw.close()  # twice is harmless


def test_a_wait_a_signal_cuts_short_can_be_waited_again_and_close_still_waits_for_the_load(tmp_path):
    """SIGTERM's handler raises wherever the main thread is, also while it waits for the load beside: waiting again
    (as close() does) must still wait. Thread.join could not: interrupted once, it took the thread for ended."""
    raw = RawDatabase(tmp_path / "raw.duckdb")
    release, finished = threading.Event(), threading.Event()

    def load() -> str:
        release.wait(30)
        cursor = raw.cursor()
        cursor.execute("create table t as select 1 as i")
        cursor.close()
        finished.set()
        return "loaded"

    class SignalledError(Exception):
        pass

    def interrupt(signum, frame) -> None:
        raise SignalledError

    previous = signal.signal(signal.SIGUSR1, interrupt)
    try:
        loading = raw.load_beside(load)
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        with pytest.raises(SignalledError):
            raw.wait_beside()
        threading.Timer(0.3, release.set).start()
        raw.close()
        assert finished.is_set()  # close waited for the load, which wrote through the connection before it closed
        assert loading.result() == "loaded"
        assert _rows(tmp_path / "raw.duckdb", "t") == 1
    finally:
        release.set()
        signal.signal(signal.SIGUSR1, previous)


def test_a_load_beside_that_fails_raises_for_whoever_waits_and_the_next_one_runs(tmp_path):
    raw = RawDatabase(tmp_path / "raw.duckdb")

    def broken() -> None:
        raise ValueError("no such package")

    failed = raw.load_beside(broken)
    second = raw.load_beside(lambda: "loaded")  # waits for the first (one load at a time), then runs
    with pytest.raises(ValueError, match="no such package"):
        failed.result()
    assert second.result() == "loaded"
    raw.close()


def test_a_checkpoint_while_a_transaction_runs_loses_nothing(tmp_path):
    path = tmp_path / "raw.duckdb"
    raw, writer = _opened_with(
        path, "create table t (i integer)", "begin", "insert into t select range from range(1000)"
    )
    raw.load_beside(lambda: None).result()  # its checkpoint runs, or is left for later: the transaction is untouched
    writer.execute("insert into t values (-1)")
    writer.execute("commit")
    writer.close()
    raw.close()
    assert _rows(path, "t") == 1001


def test_the_sources_of_one_ingest_load_through_one_connection_and_leave_raw_closed(sandbox, tmp_path):
    shared = RawDatabase(raw_path(tmp_path))
    try:
        summaries = run_ingest(tmp_path, ("crm", "erp"), endpoints_of(sandbox), raw=shared)
        assert all(s.ok for s in summaries), [s.error for s in summaries]
        # the caller's connection stays open after the ingest (q2c run closes it after its last ingest step)
        counts = {s.source: shared.table_counts(f"raw_{s.source}") for s in summaries}
    finally:
        shared.close()
    for s in summaries:  # into an empty raw, every row is new
        assert counts[s.source] and counts[s.source] == {t.table: t.new for t in s.tables}, s.source

    # an ingest that opens raw itself closes it, also when a source fails
    summaries = run_ingest(tmp_path / "own", ("crm",), {"crm": replace(endpoints_of(sandbox)["crm"], token="bad")})
    assert not summaries[0].ok and "401" in summaries[0].error
    with duckdb.connect(str(raw_path(tmp_path / "own")), read_only=True) as con:
        assert con.execute("select 1").fetchone() == (1,)


def test_raw_held_by_another_process_fails_each_source_with_the_reason(tmp_path):
    path = raw_path(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(path)).close()
    opened = f"c = duckdb.connect({str(path)!r}, read_only=True)"
    hold = f"import duckdb, time; {opened}; print(1, flush=True); time.sleep(60)"
    # a reader elsewhere (a notebook) holds the file
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "1"
        summaries = run_ingest(tmp_path, ("crm", "erp"))
    finally:
        holder.kill()
        holder.wait()
    assert [s.source for s in summaries] == ["erp", "crm"]  # in INGEST_ORDER
    assert all(not s.ok and f"cannot open {path} for writing" in s.error for s in summaries), summaries
