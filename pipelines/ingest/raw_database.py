"""``raw.duckdb`` held open for a whole ingest: every source's dlt pipeline loads through one connection; a source's
load, and the checkpoint of what it wrote, run beside the next source's extraction instead of before it.

DuckDB moves what a load put in its write-ahead log into the file at a checkpoint, and a connection that closes
last runs one, on one core. When each source's pipeline opened and closed raw on its own, that checkpoint ended
its load: at M 1.64 s of billing's 3.3 s load (1.48 s of CPU). Held open, the file is checkpointed in a thread
once a source is done, while the next one reads its API, and once more when the ingest closes it: the three sources
at M took 26.4-27.2 s against 28.7-28.9 s.

A checkpoint that cannot run now (DuckDB refuses one while another transaction runs) is left to the next one or to
the close; committed rows are in the write-ahead log either way, which DuckDB replays if the process dies first.

The source's normalize and load run in that thread too, before the checkpoint (:meth:`RawDatabase.load_beside`): an
extraction mostly waits on its API, leaving a core the load beside can use. One load runs at a time (the next waits
for the one before it); the last source's loads in the foreground, as the build reads all of raw. A stop (SIGTERM)
ends the main thread's work, and raw is closed only after the load beside has ended: it is not cut short.

Nothing else may open the file while this is open (one writer per file): the build attaches raw only after the
ingest closed it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import duckdb
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from pipelines.ingest.destination import MEMORY_LIMIT
from pipelines.stop_request import held

logger = logging.getLogger("q2c.ingest")
T = TypeVar("T")


class Beside(Generic[T]):
    """Work running in a thread beside the caller: :meth:`result` waits for its value (or raises its exception);
    ``then`` runs after it in the same thread, unwaited for by :meth:`result`."""

    def __init__(self, work: Callable[[], T] | None, *, then: Callable[[], None] | None = None, name: str) -> None:
        """Call :meth:`start` to start the thread (after keeping this where whoever must wait for it finds it)."""
        self.seconds = 0.0  # the work's own wall time, not the time anyone waited for it
        self._value: T | None = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        # set when the thread is done, ``then`` included. join() waits on this, not on Thread.join: a signal handler
        # that raises while Thread.join waits leaves the thread marked as ended though it runs on (CPython 3.11's
        # _wait_for_tstate_lock releases the running thread's lock), and every later join returns at once
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None
        if work is not None:
            self._thread = threading.Thread(target=self._run, args=(work, then), name=name, daemon=True)

    def start(self) -> None:
        if self._thread is not None:
            with held():  # a stop raised inside Thread.start could leave the thread running with no id to join on
                self._thread.start()

    @classmethod
    def done(cls, value: T) -> Beside[T]:
        """Work already done here: its value, no thread."""
        finished: Beside[T] = cls(None, name="done")
        finished._value = value
        finished._ready.set()
        return finished

    def _run(self, work: Callable[[], T], then: Callable[[], None] | None) -> None:
        started = time.perf_counter()
        try:
            try:
                self._value = work()
            except BaseException as exc:  # the caller of result() gets it, whatever it is
                self._error = exc
            finally:
                self.seconds = time.perf_counter() - started
                self._ready.set()
            if then is not None:
                then()
        finally:
            self._finished.set()

    def result(self) -> T:
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def join(self) -> None:
        """Wait until the thread is done; interrupted (a signal handler raised), it can be called again."""
        if self._thread is not None and self._thread.ident is not None:  # (a signal may come before the start)
            self._finished.wait()


class RawDatabase:
    """One read-write connection to ``raw.duckdb``; :meth:`close` it when the ingest is done."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(
            str(self.path), config={"memory_limit": MEMORY_LIMIT}
        )
        self._con.execute("SET TimeZone = 'UTC'")
        self._beside: Beside | None = None  # a load or a checkpoint running beside the caller

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError(f"{self.path} was closed")
        return self._con

    def credentials(self) -> DuckDbCredentials:
        """dlt's credentials on this connection: dlt borrows cursors of it and never closes it."""
        return DuckDbCredentials(self.connection)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for the calling thread (close it)."""
        return self.connection.cursor()

    def table_counts(self, dataset: str) -> dict[str, int]:
        cursor = self.cursor()
        try:
            return dataset_counts(cursor, dataset)
        finally:
            cursor.close()

    def load_beside(self, load: Callable[[], T]) -> Beside[T]:
        """Run ``load`` (a source's normalize and load) in a thread, then checkpoint there what it wrote, while the
        caller goes on; what ran beside before is waited for first. The returned :class:`Beside` gives the load's
        value once the load is done (the checkpoint may still run)."""
        self.wait_beside()
        beside = Beside(load, then=self._checkpoint, name="q2c-raw-load")
        self._beside = beside  # before it starts: close() waits for it, whatever interrupts the caller
        beside.start()
        return beside

    def wait_beside(self) -> None:
        """Wait for the load or checkpoint running beside, if any (its value stays with its :class:`Beside`)."""
        if self._beside is not None:
            self._beside.join()
            self._beside = None

    def close(self) -> None:
        """Wait for what runs beside, then close (DuckDB checkpoints what is left)."""
        self.wait_beside()
        if self._con is not None:
            self._con.close()
            self._con = None

    def _checkpoint(self) -> None:
        cursor = self.cursor()
        try:
            cursor.execute("CHECKPOINT")
        except duckdb.Error as exc:  # another transaction ran: the next checkpoint (or the close) does it
            logger.debug(f"{self.path}: checkpoint left for later ({exc})")
        finally:
            cursor.close()


def dataset_counts(con: duckdb.DuckDBPyConnection, dataset: str) -> dict[str, int]:
    """Row counts of a dataset's tables (dlt's own tables left out)."""
    names = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? and table_name not like '_dlt%'",
            [dataset],
        ).fetchall()
    ]
    return {n: con.execute(f'select count(*) from "{dataset}"."{n}"').fetchone()[0] for n in names}
