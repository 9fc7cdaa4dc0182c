"""``raw.duckdb`` held open for a whole ingest: every source's dlt pipeline loads through one connection, and what a
source's load wrote is checkpointed beside the next source's run instead of at its end.

DuckDB moves what a load put in its write-ahead log into the file at a checkpoint, and a connection that closes
last runs one, on one core. When each source's pipeline opened and closed raw on its own, that checkpoint ended
its load: at M 1.64 s of billing's 3.3 s load (1.48 s of CPU). Held open, the file is checkpointed in a thread
once a source is done, while the next one reads its API (:meth:`RawDatabase.checkpoint_beside`), and once more when
the ingest closes it: the three sources at M took 26.4-27.2 s against 28.7-28.9 s.

A checkpoint that cannot run now (DuckDB refuses one while another transaction runs) is left to the next one or to
the close; committed rows are in the write-ahead log either way, which DuckDB replays if the process dies first.
Nothing else may open the file while this is open (one writer per file): the build attaches raw only after the
ingest closed it.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import duckdb
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from pipelines.ingest.destination import MEMORY_LIMIT

logger = logging.getLogger("q2c.ingest")


class RawDatabase:
    """One read-write connection to ``raw.duckdb``; :meth:`close` it when the ingest is done."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(
            str(self.path), config={"memory_limit": MEMORY_LIMIT}
        )
        self._con.execute("SET TimeZone = 'UTC'")
        self._checkpoint: threading.Thread | None = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise RuntimeError(f"{self.path} was closed")
        return self._con

    def credentials(self) -> DuckDbCredentials:
        """dlt's credentials on this connection: dlt borrows cursors of it and never closes it."""
        return DuckDbCredentials(self.connection)

    def table_counts(self, dataset: str) -> dict[str, int]:
        cursor = self.connection.cursor()
        try:
            return dataset_counts(cursor, dataset)
        finally:
            cursor.close()

    def checkpoint_beside(self) -> None:
        """Checkpoint in a thread, while the caller goes on (after the one started before has ended)."""
        self._join()
        cursor = self.connection.cursor()
        self._checkpoint = threading.Thread(target=_checkpoint, args=(cursor, self.path), name="q2c-raw-checkpoint")
        self._checkpoint.start()

    def close(self) -> None:
        """Wait for a checkpoint running beside, then close (DuckDB checkpoints what is left)."""
        self._join()
        if self._con is not None:
            self._con.close()
            self._con = None

    def _join(self) -> None:
        if self._checkpoint is not None:
            self._checkpoint.join()
            self._checkpoint = None


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


def _checkpoint(cursor: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        cursor.execute("CHECKPOINT")
    except duckdb.Error as exc:  # another transaction ran: the next checkpoint (or the close) does it
        logger.debug(f"{path}: checkpoint left for later ({exc})")
    finally:
        cursor.close()
