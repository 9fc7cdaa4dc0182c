"""The analysts' snapshot: a reader holding the old file keeps it while a new one is published."""

from __future__ import annotations

import errno
import json
import os
import threading
from decimal import Decimal

import duckdb
import pytest

from pipelines.run import snapshot
from pipelines.run.snapshot import _pacer, parquet_path, publish_snapshot, snapshot_info, snapshot_path


def write_warehouse(data_dir, amount: str) -> None:
    """A small warehouse.duckdb with the three published schemas and one that must not be published."""
    with duckdb.connect(str(data_dir / "warehouse.duckdb")) as con:
        for schema in ("reconciliation", "publish", "canonical", "staging"):
            con.execute(f"create schema if not exists {schema}")
        con.execute(
            "create or replace table reconciliation.exceptions as select 'e1' as exception_id, "
            f"cast('{amount}' as decimal(38, 2)) as amount_at_risk_reporting, 'open' as status"
        )
        con.execute("create or replace table publish.erp_invoices as select 'bill-in_1' as external_id")
        con.execute("create or replace table canonical.invoices as select 'in_1' as invoice_id")
        con.execute("create or replace view canonical.open_invoices as select * from canonical.invoices")
        con.execute("create or replace table staging.internal as select 1 as x")
        # views reading a schema the snapshot leaves out, and naming the warehouse as dbt's views do
        con.execute("create or replace view publish.internal_copy as select x from staging.internal")
        con.execute('create or replace view canonical.named as select * from "warehouse"."canonical"."invoices"')
        con.execute("create or replace table main.scratch as select 1 as y")


def test_publish_copies_the_marts_and_nothing_else(tmp_path):
    write_warehouse(tmp_path, "12.34")
    result = publish_snapshot(tmp_path, "run-a", q2c_now="2026-10-31T23:00:00Z")
    assert set(result.tables) == {
        "reconciliation.exceptions",
        "publish.erp_invoices",
        "canonical.invoices",
        "canonical.open_invoices",
        "canonical.named",
        "publish.internal_copy",
    }
    with duckdb.connect(str(snapshot_path(tmp_path)), read_only=True) as con:
        assert con.execute("select amount_at_risk_reporting from reconciliation.exceptions").fetchone()[0] == Decimal(
            "12.34"
        )
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas() where not internal").fetchall()}
        # the views are tables now: they read what is gone, or a file the reader does not have
        assert con.execute("select x from publish.internal_copy").fetchall() == [(1,)]
        assert con.execute("select invoice_id from canonical.named").fetchall() == [("in_1",)]
        assert con.execute("select count(*) from duckdb_views() where not internal").fetchone()[0] == 0
        assert con.execute("select count(*) from duckdb_tables() where schema_name = 'main'").fetchone()[0] == 0
    assert "staging" not in schemas
    assert result.rows == 6
    assert snapshot_info(snapshot_path(tmp_path))["run_id"] == "run-a"
    parquet = parquet_path(tmp_path)
    assert parquet.is_symlink()
    assert duckdb.sql(f"select count(*) from '{parquet}/reconciliation/exceptions.parquet'").fetchone()[0] == 1
    assert json.loads((parquet / "snapshot_info.json").read_text())["run_id"] == "run-a"
    assert not os.access(snapshot_path(tmp_path), os.W_OK) or os.geteuid() == 0  # read-only bits (root ignores)
    assert oct(snapshot_path(tmp_path).stat().st_mode & 0o777) == "0o444"


def test_a_reader_holding_the_snapshot_keeps_its_version_while_the_next_is_published(tmp_path):
    write_warehouse(tmp_path, "1.00")
    publish_snapshot(tmp_path, "run-a")
    reader = duckdb.connect(str(snapshot_path(tmp_path)), read_only=True)
    try:
        write_warehouse(tmp_path, "2.00")
        publish_snapshot(tmp_path, "run-b")  # must not wait for, nor break, the reader
        assert reader.execute("select run_id from _q2c.snapshot_info").fetchone()[0] == "run-a"
        assert reader.execute("select amount_at_risk_reporting from reconciliation.exceptions").fetchone()[0] == 1
    finally:
        reader.close()
    with duckdb.connect(str(snapshot_path(tmp_path)), read_only=True) as fresh:
        assert fresh.execute("select amount_at_risk_reporting from reconciliation.exceptions").fetchone()[0] == 2
    # Parquet: the link moved to run-b; run-a's folder is kept for a reader still walking it
    assert os.readlink(parquet_path(tmp_path)) == "parquet-run-b"
    assert (tmp_path / "snapshot" / "parquet-run-a").is_dir()
    publish_snapshot(tmp_path, "run-c")
    assert not (tmp_path / "snapshot" / "parquet-run-a").exists()
    assert sorted(p.name for p in (tmp_path / "snapshot").iterdir()) == [
        "marts.duckdb",
        "parquet",
        "parquet-run-b",
        "parquet-run-c",
    ]


def test_what_the_build_left_in_the_write_ahead_log_is_in_the_snapshot(tmp_path):
    """The snapshot copies the warehouse's file; changes a writer left in its log, not yet checkpointed into the
    file, are part of the warehouse and must be in the snapshot too."""
    write_warehouse(tmp_path, "1.00")
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), config={"checkpoint_threshold": "1TB"})
    con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute("update reconciliation.exceptions set amount_at_risk_reporting = 3.00")
    con.close()
    assert (tmp_path / "warehouse.duckdb.wal").exists()
    publish_snapshot(tmp_path, "run-a")
    with duckdb.connect(str(snapshot_path(tmp_path)), read_only=True) as con:
        assert con.execute("select amount_at_risk_reporting from reconciliation.exceptions").fetchone()[0] == 3
    assert not list((tmp_path / "snapshot").glob("*.wal")) + list((tmp_path / "snapshot").glob(".*.wal"))
    parquet = parquet_path(tmp_path) / "reconciliation" / "exceptions.parquet"
    assert duckdb.sql(f"select amount_at_risk_reporting from '{parquet}'").fetchone()[0] == 3


def test_no_warehouse_no_snapshot(tmp_path):
    with pytest.raises(FileNotFoundError, match="warehouse"):
        publish_snapshot(tmp_path, "run-a")
    assert snapshot_info(snapshot_path(tmp_path)) is None


def test_beside_another_step_the_snapshot_runs_on_one_thread_until_that_step_ends():
    con = duckdb.connect(config={"threads": 2})

    def threads() -> int:
        return int(con.execute("select current_setting('threads')").fetchone()[0])

    _pacer(con, None)
    assert threads() == 2  # alone: DuckDB's own number, untouched
    push_ended = threading.Event()
    pace = _pacer(con, push_ended)
    assert threads() == 1
    pace()
    assert threads() == 1
    push_ended.set()
    pace()
    assert threads() == 2
    con.close()


def test_a_snapshot_beside_another_step_publishes_the_same_marts(tmp_path):
    write_warehouse(tmp_path, "5.00")
    alone = publish_snapshot(tmp_path, "run-a")
    beside = publish_snapshot(tmp_path, "run-b", beside=threading.Event())  # the other step never ends first
    assert beside.tables == alone.tables and beside.rows == 6
    with duckdb.connect(str(snapshot_path(tmp_path)), read_only=True) as con:
        assert con.execute("select amount_at_risk_reporting from reconciliation.exceptions").fetchone()[0] == 5


@pytest.mark.parametrize("kernel_copy", [True, False], ids=["copy_file_range", "read-write"])
def test_the_warehouse_is_copied_in_chunks_each_on_disk_before_the_next(tmp_path, monkeypatch, kernel_copy):
    """The copy goes to disk chunk by chunk (an fdatasync after each), so it never leaves gigabytes for the kernel
    to write back while the push beside commits its ledger; the bytes are the source's, whatever the chunking."""
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "copy.duckdb"
    source.write_bytes(os.urandom(1000) * 2500 + b"the end")  # 2.5 MB: several chunks, the last one short
    monkeypatch.setattr(snapshot, "COPY_CHUNK_BYTES", 1 << 20)
    if not kernel_copy:
        monkeypatch.delattr(os, "copy_file_range", raising=False)
    synced: list[int] = []
    real_fdatasync = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (synced.append(os.fstat(fd).st_size), real_fdatasync(fd)))
    snapshot._copy_written_behind(source, target)
    assert target.read_bytes() == source.read_bytes()
    assert synced == [1 << 20, 2 << 20, source.stat().st_size]  # each chunk written, then the next


def test_the_parquet_is_written_while_the_warehouse_file_copies(tmp_path, monkeypatch):
    """The copy waits until a Parquet file exists: were the two one after the other, the copy would time out."""
    write_warehouse(tmp_path, "7.00")
    real_copy = snapshot._copy_database

    def copy_once_parquet_is_written(source, target):
        written = tmp_path / "snapshot" / ".parquet-run-a.tmp"
        for _ in range(500):
            if list(written.glob("*/*.parquet")):
                return real_copy(source, target)
            threading.Event().wait(0.02)
        raise TimeoutError("no Parquet was written while the file copied")

    monkeypatch.setattr(snapshot, "_copy_database", copy_once_parquet_is_written)
    result = publish_snapshot(tmp_path, "run-a")
    assert result.rows == 6
    with duckdb.connect(str(snapshot_path(tmp_path)), read_only=True) as con:
        assert con.execute("select amount_at_risk_reporting from reconciliation.exceptions").fetchone()[0] == 7


def test_a_failed_copy_fails_the_snapshot_publishes_nothing_and_leaves_nothing(tmp_path, monkeypatch):
    write_warehouse(tmp_path, "1.00")
    publish_snapshot(tmp_path, "run-a")

    def copy_until_the_disk_is_full(source, target):
        target.write_bytes(b"half a copy")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot, "_copy_database", copy_until_the_disk_is_full)
    with pytest.raises(OSError, match="No space left"):
        publish_snapshot(tmp_path, "run-b")
    assert snapshot_info(snapshot_path(tmp_path))["run_id"] == "run-a"
    assert os.readlink(parquet_path(tmp_path)) == "parquet-run-a"
    # the failed snapshot's copy and Parquet are gone: a disk that filled up gets its space back
    assert sorted(p.name for p in (tmp_path / "snapshot").iterdir()) == ["marts.duckdb", "parquet", "parquet-run-a"]


def test_what_an_unfinished_snapshot_left_is_removed_by_the_next(tmp_path):
    """A snapshot killed midway (no chance to clean up) leaves files under its own run's temporary names."""
    write_warehouse(tmp_path, "1.00")
    folder = tmp_path / "snapshot"
    (folder / ".parquet-run-killed.tmp" / "canonical").mkdir(parents=True)
    (folder / ".parquet-run-killed.tmp" / "canonical" / "invoices.parquet").write_bytes(b"partial")
    (folder / ".marts.duckdb.run-killed.tmp").write_bytes(b"partial")
    (folder / ".marts.duckdb.run-killed.tmp.wal").write_bytes(b"partial")
    publish_snapshot(tmp_path, "run-a")
    assert sorted(p.name for p in folder.iterdir()) == ["marts.duckdb", "parquet", "parquet-run-a"]


def test_the_warehouse_is_copied_around_the_page_cache_where_the_file_system_allows(tmp_path, monkeypatch):
    """O_DIRECT: whole blocks only, so a last chunk that is short is written padded and the copy cut to size."""
    source, target = tmp_path / "warehouse.duckdb", tmp_path / "copy.duckdb"
    source.write_bytes(os.urandom(1000) * 2500 + b"the end")  # 2.5 MB and 7 bytes: several chunks, the last short
    monkeypatch.setattr(snapshot, "COPY_CHUNK_BYTES", 1 << 20)
    if not snapshot._copy_direct(source, target):
        pytest.skip("this file system does not take O_DIRECT (tmpfs)")
    assert target.read_bytes() == source.read_bytes()

    # a file system that opens for O_DIRECT but refuses to write so: the chunks written behind instead
    def refused(*_args):
        raise OSError(errno.EINVAL, "Invalid argument")

    with monkeypatch.context() as patched:
        patched.setattr(os, "pwritev", refused)
        assert not snapshot._copy_direct(source, target)
    snapshot._copy_database(source, target)
    assert target.read_bytes() == source.read_bytes()

    target.unlink()
    monkeypatch.delattr(os, "O_DIRECT", raising=False)  # macOS: the chunks written behind instead
    assert not snapshot._copy_direct(source, target)
    snapshot._copy_database(source, target)
    assert target.read_bytes() == source.read_bytes()
