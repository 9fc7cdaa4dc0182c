"""The analysts' snapshot: the marts copied out of the live warehouse into files nobody writes again.

After each successful build, the schemas ``reconciliation``, ``publish`` and ``canonical`` of
``warehouse.duckdb`` are copied into a new DuckDB file and into Parquet, which then replace the previous
snapshot by an atomic rename. The Parquet is written from the warehouse itself, opened read-only, while its file
copies: the copy is the disk's work, the Parquet mostly the CPU's (the L warehouse after an incremental run: 5.1 GB,
its Parquet 13.3M rows). The DuckDB file is a byte copy of the warehouse's file (nobody writes the warehouse
while the run lock is held and the build is done) from which every other schema is dropped: copying the file
costs what the disk costs, where re-inserting the marts table by table recompressed every column (at M: 0.25 s
against 2.9 s). Dropped schemas leave their blocks as free space inside the file, so it is about the size of
the warehouse's. The copy is written around the page cache (``O_DIRECT``, where the file system takes it) and read
through it, where the Parquet, written at the same time, reads the same pages. Through the cache, the copy's
6.7 GB (the L warehouse) would also fill it, evicting what the push beside reads (in the sandbox, the ERP's store).
The snapshot alone of that warehouse, from a cold cache: 31.9-33.8 s against 30.8-55.7 s (median 48.1) copied through
the cache; warm: 25.4-28.5 s against 27.1-35.5 s (three or four runs each, alternating). Reading around the cache as
well left the Parquet to read the warehouse from disk: 50.6 s. Where the file system has no ``O_DIRECT``, the copy
goes to disk chunk by chunk. Every Parquet file is on disk before its folder is swapped
in: a crash never leaves the link pointing at files the kernel had not written yet, and the push beside the
snapshot does not find its ledger's commits queued behind gigabytes of writeback (8,000 postings pushed beside
the snapshot of the 5 GB L warehouse, page cache warm: median 11.6 s against 14.0 s; 8.8 s alone).
A BI tool or notebook holding the old file keeps reading the old file
(POSIX keeps an open file alive after it is replaced), and never blocks the next run's writer, because the
live warehouse is never theirs to open.

Layout under ``<data>/snapshot/``: ``marts.duckdb`` (read-only; also holds ``_q2c.snapshot_info``) and
``parquet`` — a symlink to ``parquet-<run id>/<schema>/<table>.parquet``, swapped atomically; the
previous Parquet folder is kept for readers still on it, older ones are removed.
"""

from __future__ import annotations

import errno
import json
import mmap
import os
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.build.paths import BuildPaths

SCHEMAS = ("reconciliation", "publish", "canonical")
SNAPSHOT_DIR = "snapshot"
SNAPSHOT_DB = "marts.duckdb"
PARQUET_LINK = "parquet"
INFO_TABLE = "_q2c.snapshot_info"
WAREHOUSE_DB = "warehouse.duckdb"
SPILL_DIR = ".spill"  # what the copy's queries spill past the memory cap (DuckDB empties it when it closes)
# the snapshot's copy of the warehouse goes to disk in chunks of this size (see _copy_direct, _copy_written_behind)
COPY_CHUNK_BYTES = 64 * 1024 * 1024
DIRECT_ALIGN = 4096  # what O_DIRECT asks of a write's length (the largest logical block size of common disks)
PARQUET_VERSIONS_KEPT = 2  # the current one and the one a slow reader may still be walking
# zstd at level 1: at M 1.0 s against 1.3-1.4 s at the default level 3, for the same 44-45 MB of Parquet
PARQUET_OPTIONS = "FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1"


@dataclass
class SnapshotResult:
    path: Path
    parquet: Path
    tables: dict[str, int] = field(default_factory=dict)  # "schema.table" → rows
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def snapshot_path(data_dir: Path) -> Path:
    return Path(data_dir) / SNAPSHOT_DIR / SNAPSHOT_DB


def parquet_path(data_dir: Path) -> Path:
    return Path(data_dir) / SNAPSHOT_DIR / PARQUET_LINK


def publish_snapshot(
    data_dir: Path, run_id: str, *, q2c_now: str | None = None, beside: threading.Event | None = None
) -> SnapshotResult:
    """Copy the marts into a fresh snapshot and swap it in. Call only while holding the run lock.

    ``beside``: the snapshot runs beside another step (the push) until this event is set; till then its queries
    run on one DuckDB thread, leaving the other core to that step (see ``pipelines/run/orchestrate.py``)."""
    started = time.perf_counter()
    data_dir = Path(data_dir)
    warehouse = data_dir / WAREHOUSE_DB
    if not warehouse.exists():
        raise FileNotFoundError(f"no {warehouse}: the build has not produced a warehouse yet")
    folder = data_dir / SNAPSHOT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    _remove_unfinished(folder)
    result = SnapshotResult(folder / SNAPSHOT_DB, folder / PARQUET_LINK)
    try:
        _publish(data_dir, run_id, q2c_now, beside, result)
    except BaseException:
        # a snapshot that failed (the disk full, say) gives its space back now, not when a later one starts
        _remove_unfinished(folder)
        raise
    _prune_parquet(folder, keep=f"parquet-{run_id}")
    result.seconds = time.perf_counter() - started
    return result


def _publish(
    data_dir: Path, run_id: str, q2c_now: str | None, beside: threading.Event | None, result: SnapshotResult
) -> None:
    """The snapshot written under this run's temporary names (see :func:`_remove_unfinished`), then swapped in."""
    warehouse, folder = data_dir / WAREHOUSE_DB, data_dir / SNAPSHOT_DIR
    tmp, parquet_tmp = folder / f".{SNAPSHOT_DB}.{run_id}.tmp", folder / f".parquet-{run_id}.tmp"
    parquet_dir = folder / f"parquet-{run_id}"
    # the file copy is the disk's work and the Parquet the CPU's: the Parquet is written from the warehouse itself
    # (read-only: nobody writes it now) while the file copies, then the copy is made the snapshot. Leaving the pool
    # waits for the copy, also when the Parquet failed: nothing writes the copy afterwards.
    with ThreadPoolExecutor(1, thread_name_prefix="q2c-snapshot-copy") as pool:
        copying = pool.submit(_copy_database, warehouse, tmp)
        with _marts_connection(data_dir) as con:
            pace = _pacer(con, beside)
            con.execute(f"ATTACH '{_sql_path(warehouse)}' AS \"{warehouse.stem}\" (READ_ONLY)")
            con.execute(f'USE "{warehouse.stem}"')
            for schema, table in sorted(_listed(con, "table", published=True) + _listed(con, "view", published=True)):
                pace()
                result.tables[f"{schema}.{table}"] = _write_parquet(con, schema, table, parquet_tmp)
            con.execute("USE memory")
            con.execute(f'DETACH "{warehouse.stem}"')
        copying.result()  # what the copy raised, raised here
    info = {
        "run_id": run_id,
        "published_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "q2c_now": q2c_now,
        "tables": result.tables,
    }
    with _marts_connection(data_dir) as con:
        pace = _pacer(con, beside)
        # under the warehouse's own name, so that a view naming it (as dbt's do) still resolves
        con.execute(f"ATTACH '{_sql_path(tmp)}' AS \"{warehouse.stem}\"")
        con.execute(f'USE "{warehouse.stem}"')
        _keep_only_marts(con, pace)
        con.execute("CREATE SCHEMA _q2c")
        con.execute(
            f"CREATE TABLE {INFO_TABLE} AS SELECT ? AS run_id, cast(? AS timestamptz) AS published_at, "
            "cast(? AS timestamptz) AS q2c_now, ? AS tables",
            [run_id, info["published_at"], q2c_now, json.dumps(result.tables, sort_keys=True)],
        )
        con.execute("CHECKPOINT")
        con.execute("USE memory")
        con.execute(f'DETACH "{warehouse.stem}"')
    (parquet_tmp / "snapshot_info.json").write_text(json.dumps(info, indent=2, sort_keys=True))
    for written in (parquet_tmp / "snapshot_info.json", *(parquet_tmp / s for s in SCHEMAS), parquet_tmp, tmp):
        if written.exists():
            _fsync(written)
    os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # a reminder to open it read-only
    _remove(parquet_dir)
    os.rename(parquet_tmp, parquet_dir)
    os.replace(tmp, result.path)  # the swap: readers of the old file keep it, new readers get this one
    _swap_link(result.parquet, parquet_dir.name)
    _fsync(folder)


def snapshot_info(path: Path) -> dict[str, object] | None:
    """The run that published the snapshot at ``path`` (None when there is none)."""
    if not Path(path).exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(f"SELECT run_id, published_at, q2c_now FROM {INFO_TABLE}").fetchone()
    return {"run_id": row[0], "published_at": row[1], "q2c_now": row[2]} if row else None


@contextmanager
def _marts_connection(data_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB capped like the build (DuckDB's default is 80% of the machine's memory), spilling to a
    folder of its own, in UTC."""
    con = duckdb.connect(
        config={
            "memory_limit": BuildPaths(data_dir).duckdb_settings()["memory_limit"],
            "temp_directory": str(data_dir / SNAPSHOT_DIR / SPILL_DIR),
        },
    )
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def _write_parquet(con: duckdb.DuckDBPyConnection, schema: str, table: str, folder: Path) -> int:
    """``schema.table`` (a table or a view) written to ``folder/schema/table.parquet`` and on disk; the rows written."""
    (folder / schema).mkdir(parents=True, exist_ok=True)
    target = folder / schema / f"{table}.parquet"
    copy = f'COPY (SELECT * FROM "{schema}"."{table}") TO \'{_sql_path(target)}\' ({PARQUET_OPTIONS})'
    rows = con.execute(copy).fetchone()[0]  # COPY answers with the number of rows it wrote
    _fsync(target)  # on disk before the folder is swapped in
    return rows


def _copy_database(source: Path, target: Path) -> None:
    """A byte copy of a DuckDB file nobody writes, with its write-ahead log if a writer left one (opening the copy
    replays it)."""
    if not _copy_direct(source, target):
        _copy_written_behind(source, target)
    wal, target_wal = source.with_name(source.name + ".wal"), target.with_name(target.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target_wal)
    elif target_wal.exists():
        target_wal.unlink()


def _copy_direct(source: Path, target: Path) -> bool:
    """``source`` copied to ``target`` in chunks of ``COPY_CHUNK_BYTES``, read through the page cache and written
    around it (``O_DIRECT``), and on disk; False, with nothing copied, where the platform or the file system does not
    take ``O_DIRECT`` (macOS, tmpfs)."""
    direct = getattr(os, "O_DIRECT", 0)
    if not direct:
        return False
    src = os.open(source, os.O_RDONLY)
    try:
        try:
            dst = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | direct, 0o644)
        except OSError as exc:
            if exc.errno == errno.EINVAL:  # the file system has no O_DIRECT
                return False
            raise
        try:
            return _copy_chunks_direct(src, dst, source)
        finally:
            os.close(dst)
    finally:
        os.close(src)


def _copy_chunks_direct(src: int, dst: int, source: Path) -> bool:
    """The chunks of :func:`_copy_direct`; False if the first write is refused (a file system that opens files for
    ``O_DIRECT`` but does not write them so)."""
    size, done = os.fstat(src).st_size, 0
    with mmap.mmap(-1, COPY_CHUNK_BYTES) as buffer:  # page-aligned, as O_DIRECT wants its memory
        while done < size:
            read = os.preadv(src, [buffer], done)
            if read == 0:
                raise OSError(f"copying {source}: it ended at {done:,} of {size:,} bytes")
            # O_DIRECT writes whole blocks: a short last chunk is written padded, and the file cut to size after
            try:
                os.pwritev(dst, [memoryview(buffer)[: -(-read // DIRECT_ALIGN) * DIRECT_ALIGN]], done)
            except OSError as exc:
                if exc.errno == errno.EINVAL and done == 0:
                    return False
                raise
            done += read
    os.ftruncate(dst, size)
    os.fsync(dst)
    return True


def _copy_written_behind(source: Path, target: Path) -> None:
    """``source`` copied to ``target`` in chunks of ``COPY_CHUNK_BYTES``, each on disk before the next is copied.

    A plain copy leaves the whole file (5 GB at L) to the kernel's writeback, and while that drains, every fsync on
    the disk waits behind it: the push's ledger, beside the snapshot, syncs before each chunk of postings it sends."""
    with source.open("rb") as src, target.open("wb") as dst:
        size, done = os.fstat(src.fileno()).st_size, 0
        while done < size:
            copied = _copy_range(src.fileno(), dst.fileno(), min(COPY_CHUNK_BYTES, size - done), done)
            if copied == 0:
                raise OSError(f"copying {source}: it ended at {done:,} of {size:,} bytes")
            done += copied
            getattr(os, "fdatasync", os.fsync)(dst.fileno())  # macOS has no fdatasync


def _copy_range(src: int, dst: int, count: int, offset: int) -> int:
    if hasattr(os, "copy_file_range"):  # Linux: the kernel copies, no bytes pass through Python
        try:
            return os.copy_file_range(src, dst, count, offset, offset)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                raise
    data = os.pread(src, count, offset)
    return os.pwrite(dst, data, offset)


def _pacer(con: duckdb.DuckDBPyConnection, beside: threading.Event | None) -> Callable[[], None]:
    """Called before each heavy statement: one thread while ``beside`` is not set, DuckDB's own number after."""
    if beside is None:
        return lambda: None
    default = con.execute("SELECT current_setting('threads')").fetchone()[0]
    current = [default]

    def pace() -> None:
        wanted = default if beside.is_set() else 1
        if wanted != current[0]:
            con.execute(f"SET threads = {int(wanted)}")
            current[0] = wanted

    pace()
    return pace


def _keep_only_marts(con: duckdb.DuckDBPyConnection, pace: Callable[[], None]) -> None:
    """Turns the copied warehouse into the snapshot: views of the published schemas become tables (they may read
    the schemas about to go), then everything outside those schemas is dropped."""
    for schema, view in _listed(con, "view", published=True):
        pace()
        staged = f"_q2c_view_{view}"
        con.execute(f'CREATE TABLE "{schema}"."{staged}" AS SELECT * FROM "{schema}"."{view}"')
        con.execute(f'DROP VIEW "{schema}"."{view}"')
        con.execute(f'ALTER TABLE "{schema}"."{staged}" RENAME TO "{view}"')
    for schema, _ in _listed(con, "schema", published=False):
        con.execute(f'DROP SCHEMA "{schema}" CASCADE')
    for kind in ("view", "table"):  # the schema ``main`` cannot be dropped, only emptied
        for schema, name in _listed(con, kind, published=False):
            con.execute(f'DROP {kind.upper()} "{schema}"."{name}"')


def _listed(con: duckdb.DuckDBPyConnection, kind: str, *, published: bool) -> list[tuple[str, str]]:
    """(schema, name) of the current database's schemas, tables or views (``kind``), in the published schemas or
    outside them; DuckDB's own left out."""
    marks = ", ".join("?" for _ in SCHEMAS)
    rows = con.execute(
        f"SELECT schema_name, {kind}_name FROM duckdb_{kind}s() WHERE database_name = current_database() "
        f"AND NOT internal AND schema_name {'' if published else 'NOT '}IN ({marks}) ORDER BY 1, 2",
        list(SCHEMAS),
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _swap_link(link: Path, target_name: str) -> None:
    staging = link.with_name(f".{link.name}.link.tmp")
    _remove(staging)
    os.symlink(target_name, staging)  # relative: the data folder can be moved
    if link.is_dir() and not link.is_symlink():
        shutil.rmtree(link)
    os.replace(staging, link)


def _prune_parquet(folder: Path, keep: str) -> None:
    versions = sorted(
        (p for p in folder.glob("parquet-*") if p.is_dir() and p.name != keep), key=lambda p: p.stat().st_mtime
    )
    for old in versions[: max(len(versions) - (PARQUET_VERSIONS_KEPT - 1), 0)]:
        shutil.rmtree(old, ignore_errors=True)


def _remove_unfinished(folder: Path) -> None:
    """What snapshots that did not finish left in ``folder``: copies (with their WAL) and Parquet folders under their
    temporary names. Only one snapshot runs at a time (the run lock), so none of them is being written."""
    for leftover in (*folder.glob(f".{SNAPSHOT_DB}.*.tmp*"), *folder.glob(".parquet-*.tmp")):
        _remove(leftover)


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
