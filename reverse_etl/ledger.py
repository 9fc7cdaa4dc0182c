"""The ops store: what q2c has sent to the ERP, one SQLite transaction per state transition.

SQLite (WAL) because this is OLTP — small transactions that must survive a crash — and because DuckDB reads
SQLite files, so dbt marts can show posting status.

What must be on disk before the push goes on is the promise made before a request: the move to ``in_flight`` (and
the end of a run) commits with ``synchronous=FULL``, which syncs the write-ahead log. Every other write (pending,
an outcome, a dead letter) commits with ``synchronous=NORMAL``: once committed it survives the process dying, and
it is on disk with the next synced commit, since syncing the log syncs every frame before it. An outcome's caller
does not wait when another commit is running (reads wait for it). So a crash can lose only outcomes, whose
postings are then ``in_flight`` again, and the next push looks each one up in the ERP before sending anything (the
lookup that settles every interrupted request). At L, beside the snapshot's synced copy, the disk's syncs were the
larger part of the push's time while the outcomes synced too.
Tables: ``postings`` (current state per posting), ``posting_events`` (append-only audit of every transition,
enforced by triggers), ``dead_letters`` (full payload + the ERP's error), ``push_runs`` (one row per run).
No secret is ever written here: payloads and ERP answers only.
"""

from __future__ import annotations

import getpass
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LEDGER_FILE = "ops.sqlite"

PENDING, IN_FLIGHT, POSTED = "pending", "in_flight", "posted"
REJECTED, UNKNOWN, FOREIGN = "rejected", "unknown", "foreign"  # foreign: in the ERP, not created by q2c
STATES = (PENDING, IN_FLIGHT, POSTED, REJECTED, UNKNOWN, FOREIGN)
# every move the push makes; anything else is a bug and is refused before it reaches the file
ALLOWED: dict[str | None, tuple[str, ...]] = {
    None: (PENDING,),
    PENDING: (IN_FLIGHT,),
    # PENDING again: the request was never run (401, or the run stopped before sending)
    IN_FLIGHT: (POSTED, REJECTED, UNKNOWN, FOREIGN, PENDING),
    UNKNOWN: (IN_FLIGHT, POSTED, FOREIGN),  # after looking the record up by external id
    # an update; or POSTED again: the same content, its references now by internal id (reverse_etl/references.py),
    # only the hash restated
    POSTED: (IN_FLIGHT, POSTED),
    REJECTED: (IN_FLIGHT,),  # a changed payload or a replay
    FOREIGN: (IN_FLIGHT,),  # a repair a person asked for
}

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS postings (
    record_type         TEXT NOT NULL,
    external_id         TEXT NOT NULL,
    subject_key         TEXT,
    payload_hash        TEXT,           -- of the payload last sent or being sent
    state               TEXT NOT NULL CHECK (state IN ({", ".join(f"'{s}'" for s in STATES)})),
    operation           TEXT,           -- create | update | repair: what the last request was
    erp_internal_id     TEXT,
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_error_code     TEXT,
    last_error_message  TEXT,
    last_error_path     TEXT,
    correlation_id      TEXT,
    requested_by        TEXT,           -- who asked for a repair (ownership taken over)
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    posted_at           TEXT,
    PRIMARY KEY (record_type, external_id)
);
CREATE INDEX IF NOT EXISTS postings_state ON postings (state);
CREATE INDEX IF NOT EXISTS postings_subject ON postings (subject_key);
CREATE TABLE IF NOT EXISTS posting_events (
    event_id        INTEGER PRIMARY KEY AUTOINCREMENT,
    record_type     TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    from_state      TEXT,
    to_state        TEXT NOT NULL,
    payload_hash    TEXT,
    correlation_id  TEXT,
    detail          TEXT,
    at              TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS posting_events_posting ON posting_events (record_type, external_id);
CREATE TRIGGER IF NOT EXISTS posting_events_no_update BEFORE UPDATE ON posting_events
BEGIN SELECT RAISE(ABORT, 'posting_events is append-only'); END;
CREATE TRIGGER IF NOT EXISTS posting_events_no_delete BEFORE DELETE ON posting_events
BEGIN SELECT RAISE(ABORT, 'posting_events is append-only'); END;
CREATE TABLE IF NOT EXISTS dead_letters (
    dead_letter_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    record_type     TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    subject_key     TEXT,
    payload         TEXT NOT NULL,
    payload_hash    TEXT NOT NULL,
    http_status     INTEGER,
    error_code      TEXT,
    error_path      TEXT,
    error_message   TEXT,
    erp_response    TEXT,
    correlation_id  TEXT,
    created_at      TEXT NOT NULL,
    resolved_at     TEXT,
    resolution      TEXT
);
CREATE INDEX IF NOT EXISTS dead_letters_open ON dead_letters (external_id) WHERE resolved_at IS NULL;
CREATE TABLE IF NOT EXISTS push_runs (
    run_id       TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    outcome      TEXT,
    summary      TEXT
);
"""

_COLUMNS = (
    "subject_key",
    "payload_hash",
    "operation",
    "erp_internal_id",
    "last_error_code",
    "last_error_message",
    "last_error_path",
    "correlation_id",
    "requested_by",
)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class Posting:
    record_type: str
    external_id: str
    subject_key: str | None
    payload_hash: str | None
    state: str
    operation: str | None
    erp_internal_id: str | None
    attempts: int
    last_error_code: str | None
    last_error_message: str | None
    last_error_path: str | None
    correlation_id: str | None
    requested_by: str | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.record_type, self.external_id)


@dataclass(frozen=True)
class DeadLetter:
    dead_letter_id: int
    record_type: str
    external_id: str
    payload: str
    error_code: str | None
    error_message: str | None
    created_at: str


class IllegalTransitionError(RuntimeError):
    pass


class Ledger:
    """One connection shared by the push's workers; every method is one transaction, committed on return."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only:
            self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")  # set per commit in _commit; FULL till then
            self._conn.execute("PRAGMA busy_timeout=10000")
            self._conn.executescript(SCHEMA)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()  # the connection: one statement sequence at a time
        self._queue_lock = threading.Lock()
        self._queue: list[_Write] = []
        self._leading = False
        self._synced = True  # the connection's synchronous setting is FULL
        self.commits = {"synced": 0, "unsynced": 0}  # commits (each of one or more writes), by how they ended
        self._unfinished = 0  # writes handed over and not committed yet (see flush)
        self._idle = threading.Condition()
        self._left_errors: list[BaseException] = []  # of writes nobody waited for, till flush raises them

    @classmethod
    def in_data_dir(cls, data_dir: Path, *, read_only: bool = False) -> Ledger | None:
        """The data folder's ledger; for a read-only look at a folder that has none yet, None."""
        path = Path(data_dir) / LEDGER_FILE
        if read_only and not path.exists():
            return None
        return cls(path, read_only=read_only)

    def close(self) -> None:
        with self._idle:  # a write left to another caller's commit is committed first
            self._idle.wait_for(lambda: self._unfinished == 0)
        self._conn.close()

    # -- reads -----------------------------------------------------------------------------------------
    def postings(self) -> dict[tuple[str, str], Posting]:
        self.flush()
        with self._lock:
            rows = self._conn.execute(f"SELECT {', '.join(Posting.__dataclass_fields__)} FROM postings").fetchall()
        return {(r["record_type"], r["external_id"]): Posting(**dict(r)) for r in rows}

    def get(self, record_type: str, external_id: str) -> Posting | None:
        self.flush()
        with self._lock:
            row = self._conn.execute(
                f"SELECT {', '.join(Posting.__dataclass_fields__)} FROM postings "
                "WHERE record_type = ? AND external_id = ?",
                (record_type, external_id),
            ).fetchone()
        return Posting(**dict(row)) if row else None

    def open_dead_letters(self, external_ids: Sequence[str] | None = None) -> list[DeadLetter]:
        sql = (
            "SELECT dead_letter_id, record_type, external_id, payload, error_code, error_message, created_at "
            "FROM dead_letters WHERE resolved_at IS NULL"
        )
        args: list[Any] = []
        if external_ids is not None:
            sql += f" AND external_id IN ({', '.join('?' for _ in external_ids)})"
            args = list(external_ids)
        self.flush()
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY dead_letter_id", args).fetchall()
        return [DeadLetter(**dict(r)) for r in rows]

    def events(self, record_type: str, external_id: str) -> list[tuple[str | None, str]]:
        self.flush()
        with self._lock:
            rows = self._conn.execute(
                "SELECT from_state, to_state FROM posting_events WHERE record_type = ? AND external_id = ? "
                "ORDER BY event_id",
                (record_type, external_id),
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    # -- writes ----------------------------------------------------------------------------------------
    def add_pending(self, postings: Iterable[tuple[str, str, str | None, str]]) -> None:
        """New postings (record_type, external_id, subject_key, payload_hash), in one transaction."""
        now = utc_now()
        rows = list(postings)
        if not rows:
            return

        def write() -> None:
            self._conn.executemany(
                "INSERT INTO postings (record_type, external_id, subject_key, payload_hash, state, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                [(*r, now, now) for r in rows],
            )
            self._conn.executemany(
                "INSERT INTO posting_events (record_type, external_id, from_state, to_state, payload_hash, at) "
                "VALUES (?, ?, NULL, 'pending', ?, ?)",
                [(r[0], r[1], r[3], now) for r in rows],
            )

        self._write(write)

    def transition(
        self,
        record_type: str,
        external_id: str,
        to_state: str,
        *,
        detail: str | None = None,
        count_attempt: bool = False,
        **fields: Any,
    ) -> None:
        """Move one posting to ``to_state``, updating ``fields``, with its audit event. A move to ``in_flight`` is on
        disk when this returns. Any other is an outcome nobody waits for: it may still be queued behind a running
        commit when this returns, and is on disk with the next synced commit."""

        def write() -> None:
            self._apply(record_type, external_id, to_state, detail, count_attempt, fields)

        self._write(write, synced=to_state == IN_FLIGHT, wait=to_state == IN_FLIGHT)

    def mark_in_flight(self, moves: Sequence[tuple[str, str, str, dict[str, Any]]]) -> None:
        """Move each ``(record_type, external_id, detail, fields)`` to ``in_flight``, counting an attempt, in one
        transaction on disk when this returns: the promise, made before any of their requests, that each may have
        been sent."""

        def write() -> None:
            for record_type, external_id, detail, fields in moves:
                self._apply(record_type, external_id, IN_FLIGHT, detail, True, fields)

        if moves:
            self._write(write, synced=True)

    def _apply(
        self,
        record_type: str,
        external_id: str,
        to_state: str,
        detail: str | None,
        count_attempt: bool,
        fields: dict[str, Any],
    ) -> None:
        unknown = set(fields) - set(_COLUMNS)
        if unknown:
            raise ValueError(f"not ledger columns: {sorted(unknown)}")
        now = utc_now()
        row = self._conn.execute(
            "SELECT state, payload_hash, correlation_id FROM postings WHERE record_type = ? AND external_id = ?",
            (record_type, external_id),
        ).fetchone()
        from_state = row["state"] if row else None
        if to_state not in ALLOWED.get(from_state, ()):
            raise IllegalTransitionError(f"{record_type} {external_id}: {from_state} → {to_state}")
        sets = ["state = ?", "updated_at = ?"]
        args: list[Any] = [to_state, now]
        for name, value in fields.items():
            sets.append(f"{name} = ?")
            args.append(value)
        if count_attempt:
            sets.append("attempts = attempts + 1")
        if to_state == POSTED and from_state != POSTED:
            sets.append("posted_at = ?")
            args.append(now)
            # the ERP holds the record now: its dead letters are done with, in the same transaction
            self._conn.execute(
                "UPDATE dead_letters SET resolved_at = ?, resolution = 'posted' "
                "WHERE record_type = ? AND external_id = ? AND resolved_at IS NULL",
                (now, record_type, external_id),
            )
        self._conn.execute(
            f"UPDATE postings SET {', '.join(sets)} WHERE record_type = ? AND external_id = ?",
            [*args, record_type, external_id],
        )
        self._conn.execute(
            "INSERT INTO posting_events (record_type, external_id, from_state, to_state, payload_hash, "
            "correlation_id, detail, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record_type,
                external_id,
                from_state,
                to_state,
                fields.get("payload_hash", row["payload_hash"]),
                fields.get("correlation_id", row["correlation_id"]),
                detail,
                now,
            ),
        )

    def reject(
        self,
        record_type: str,
        external_id: str,
        *,
        subject_key: str | None,
        payload: str,
        payload_hash: str,
        correlation_id: str,
        http_status: int,
        code: str,
        path: str | None,
        message: str,
        erp_response: str,
    ) -> None:
        """in_flight → rejected and the dead letter, in one transaction (never one without the other)."""
        now = utc_now()

        def write() -> None:
            self._conn.execute(
                "UPDATE dead_letters SET resolved_at = ?, resolution = 'superseded' "
                "WHERE record_type = ? AND external_id = ? AND resolved_at IS NULL",
                (now, record_type, external_id),
            )
            self._conn.execute(
                "INSERT INTO dead_letters (record_type, external_id, subject_key, payload, payload_hash, "
                "http_status, error_code, error_path, error_message, erp_response, correlation_id, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record_type,
                    external_id,
                    subject_key,
                    payload,
                    payload_hash,
                    http_status,
                    code,
                    path,
                    message,
                    erp_response,
                    correlation_id,
                    now,
                ),
            )
            self._apply(
                record_type,
                external_id,
                REJECTED,
                f"{code}: {message}"[:500],
                False,
                {"last_error_code": code, "last_error_message": message, "last_error_path": path},
            )

        self._write(write, wait=False)  # an outcome, as in transition

    def resolve_dead_letters(self, record_type: str, external_id: str, resolution: str) -> None:
        def write() -> None:
            self._conn.execute(
                "UPDATE dead_letters SET resolved_at = ?, resolution = ? "
                "WHERE record_type = ? AND external_id = ? AND resolved_at IS NULL",
                (utc_now(), resolution, record_type, external_id),
            )

        self._write(write)

    def start_run(self, run_id: str, kind: str) -> None:
        def write() -> None:
            self._conn.execute(
                "INSERT INTO push_runs (run_id, kind, started_at) VALUES (?, ?, ?)", (run_id, kind, utc_now())
            )

        self._write(write)

    def finish_run(self, run_id: str, outcome: str, summary: dict[str, Any]) -> None:
        def write() -> None:
            self._conn.execute(
                "UPDATE push_runs SET finished_at = ?, outcome = ?, summary = ? WHERE run_id = ?",
                (utc_now(), outcome, json.dumps(summary, sort_keys=True), run_id),
            )

        self._write(write, synced=True)  # and with it every outcome of the run

    def _write(self, fn: Callable[[], None], *, synced: bool = False, wait: bool = True) -> None:
        """Run ``fn`` in a transaction that is committed when this returns, and on disk too when ``synced``.

        Writes that arrive while another commit runs share the next commit (group commit): each keeps its own
        savepoint, so it is applied whole or not at all, and the commit syncs when any of them asks to. With
        ``wait=False``, a write that finds a commit running is left to the caller running it, and this returns at
        once: it is committed before any later read (every read flushes first), and its error, if any, is raised
        by that flush."""
        item = _Write(fn, synced)
        with self._queue_lock:
            leader = not self._leading
            self._leading = True
            item.left = not (wait or leader)
            self._queue.append(item)
            self._unfinished += 1
        if item.left:
            return
        if leader:
            while True:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                    if not batch:
                        self._leading = False
                        break
                self._commit(batch)
        item.done.wait()
        if item.error is not None:
            raise item.error

    def flush(self) -> None:
        """Wait until every write handed over so far is committed; raise the first error of one nobody waited for."""
        with self._idle:
            self._idle.wait_for(lambda: self._unfinished == 0)
            if self._left_errors:
                raise self._left_errors.pop(0)

    def _commit(self, batch: list[_Write]) -> None:
        synced = any(item.synced for item in batch)
        with self._lock:
            try:
                if synced != self._synced:  # outside a transaction, where SQLite takes the setting
                    self._conn.execute(f"PRAGMA synchronous={'FULL' if synced else 'NORMAL'}")
                    self._synced = synced
                self._conn.execute("BEGIN IMMEDIATE")
                for item in batch:
                    self._conn.execute("SAVEPOINT one_write")
                    try:
                        item.fn()
                        self._conn.execute("RELEASE one_write")
                    except Exception as exc:
                        self._conn.execute("ROLLBACK TO one_write")
                        self._conn.execute("RELEASE one_write")
                        item.error = exc
                self._conn.execute("COMMIT")
                self.commits["synced" if synced else "unsynced"] += 1
            except BaseException as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                for item in batch:
                    item.error = item.error or exc
            finally:
                with self._idle:
                    self._left_errors += [item.error for item in batch if item.left and item.error is not None]
                    self._unfinished -= len(batch)
                    self._idle.notify_all()
                for item in batch:
                    item.done.set()


class _Write:
    __slots__ = ("done", "error", "fn", "left", "synced")

    def __init__(self, fn: Callable[[], None], synced: bool) -> None:
        self.fn = fn
        self.synced = synced
        self.left = False  # handed to another caller's commit, nobody waiting for it
        self.done = threading.Event()
        self.error: BaseException | None = None
