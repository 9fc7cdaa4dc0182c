"""An indexed document store on SQLite, shared by the three sandbox servers.

Each collection is one table: the object's JSON text plus the columns pages are found by (a sort key and
any filter fields the API offers), each indexed. Pages come from index range scans with a keyset cursor,
never from scanning Python lists, so an L scenario (1M invoices) serves within a few GB of memory.

Concurrency: one SQLite file in WAL mode, a connection per thread for reads, one lock serialising writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.fixtures import dumps


@dataclass(frozen=True)
class CollectionSpec:
    """How one collection is stored and found.

    ``sort``: the field giving list order (e.g. ``created`` for Stripe, newest first), ``seq`` breaks
    ties in insertion order. ``indexed``: extra top-level fields pulled out into indexed columns for
    filters (``customer``, ``status`` …); a dotted path reads nested values (``properties.hs_lastmodifieddate``).
    """

    name: str
    sort: str = "created"
    indexed: Sequence[str] = field(default_factory=tuple)


def _column(path: str) -> str:
    return "f_" + path.replace(".", "__")


def _extract(obj: dict, path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if isinstance(value, dict):
        # an expanded reference ({"id": ...}) is indexed by its id
        value = value.get("id")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | tuple):
        return None
    return value


class DocumentStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._specs: dict[str, CollectionSpec] = {}
        self._seq = 0
        conn = self.conn()
        conn.execute("PRAGMA journal_mode=WAL")

    # -- connections -------------------------------------------------------------------------------
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA cache_size=-65536")
            self._local.conn = conn
        return conn

    @property
    def write_lock(self) -> threading.RLock:
        """Hold this around a read-modify-write that must not interleave with another writer."""
        return self._write_lock

    # -- schema ------------------------------------------------------------------------------------
    def register(self, spec: CollectionSpec) -> None:
        self._specs[spec.name] = spec
        cols = ", ".join(f"{_column(f)}" for f in spec.indexed)
        extra = f", {cols}" if cols else ""
        with self._write_lock:
            c = self.conn()
            c.execute(
                f'CREATE TABLE IF NOT EXISTS "{spec.name}" (id TEXT PRIMARY KEY, sort_key, seq INTEGER NOT NULL,'
                f" body TEXT NOT NULL{extra})"
            )
            c.execute(f'CREATE INDEX IF NOT EXISTS "ix_{spec.name}_order" ON "{spec.name}" (sort_key, seq)')
            for f in spec.indexed:
                col = _column(f)
                c.execute(f'CREATE INDEX IF NOT EXISTS "ix_{spec.name}_{col}" ON "{spec.name}" ({col}, sort_key, seq)')
            row = c.execute(f'SELECT max(seq) FROM "{spec.name}"').fetchone()
            self._seq = max(self._seq, row[0] or 0)

    @property
    def sequence(self) -> int:
        """The last insertion sequence number handed out (a warm start puts it back, see store_cache)."""
        return self._seq

    def resume_sequence(self, seq: int) -> None:
        """Continue numbering after ``seq``: a loaded store's counter also counted rows a later duplicate
        replaced, which ``max(seq)`` on reopening does not see."""
        with self._write_lock:
            self._seq = max(self._seq, int(seq))

    def spec(self, name: str) -> CollectionSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise KeyError(f"collection {name!r} is not registered") from None

    # -- writes ------------------------------------------------------------------------------------
    def _row(self, spec: CollectionSpec, obj: dict, seq: int) -> tuple:
        return (
            str(obj["id"]),
            _extract(obj, spec.sort),
            seq,
            dumps(obj),
            *(_extract(obj, f) for f in spec.indexed),
        )

    def _upsert_sql(self, spec: CollectionSpec) -> str:
        cols = ["id", "sort_key", "seq", "body", *(_column(f) for f in spec.indexed)]
        marks = ", ".join("?" for _ in cols)
        updates = ", ".join(f"{c}=excluded.{c}" for c in cols if c not in ("id", "seq"))
        return f'INSERT INTO "{spec.name}" ({", ".join(cols)}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates}'

    def put(self, name: str, obj: dict) -> dict:
        """Insert or replace one object (keeps its original position among equal sort keys)."""
        spec = self.spec(name)
        with self._write_lock:
            self._seq += 1
            self.conn().execute(self._upsert_sql(spec), self._row(spec, obj, self._seq))
        return obj

    def put_many(self, name: str, objects: Iterable[dict], *, batch: int = 5000) -> int:
        spec = self.spec(name)
        sql = self._upsert_sql(spec)
        count = 0
        with self._write_lock:
            c = self.conn()
            c.execute("BEGIN")
            rows = []
            for obj in objects:
                self._seq += 1
                rows.append(self._row(spec, obj, self._seq))
                if len(rows) >= batch:
                    c.executemany(sql, rows)
                    count += len(rows)
                    rows = []
                    # one transaction per batch: a single huge one grows the WAL to the size of the load
                    c.execute("COMMIT")
                    c.execute("BEGIN")
            if rows:
                c.executemany(sql, rows)
                count += len(rows)
            c.execute("COMMIT")
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count

    def delete(self, name: str, obj_id: str) -> bool:
        with self._write_lock:
            cur = self.conn().execute(f'DELETE FROM "{name}" WHERE id = ?', (str(obj_id),))
        return cur.rowcount > 0

    # -- reads -------------------------------------------------------------------------------------
    def get(self, name: str, obj_id: str) -> dict | None:
        row = self.conn().execute(f'SELECT body FROM "{name}" WHERE id = ?', (str(obj_id),)).fetchone()
        return json.loads(row[0]) if row else None

    def get_raw(self, name: str, obj_id: str) -> str | None:
        """The stored JSON text, for serving without a parse/serialise round trip."""
        row = self.conn().execute(f'SELECT body FROM "{name}" WHERE id = ?', (str(obj_id),)).fetchone()
        return row[0] if row else None

    def position(self, name: str, obj_id: str) -> tuple[Any, int] | None:
        """(sort_key, seq) of an object: the keyset cursor for pages around it."""
        row = self.conn().execute(f'SELECT sort_key, seq FROM "{name}" WHERE id = ?', (str(obj_id),)).fetchone()
        return (row[0], row[1]) if row else None

    def count(self, name: str, where: dict[str, Any] | None = None) -> int:
        clause, params = self._where(self.spec(name), where or {}, [])
        return self.conn().execute(f'SELECT count(*) FROM "{name}"{clause}', params).fetchone()[0]

    def page(
        self,
        name: str,
        *,
        where: dict[str, Any] | None = None,
        ranges: Sequence[tuple[str, str, Any]] = (),
        descending: bool = True,
        after: tuple[Any, int] | None = None,
        before: tuple[Any, int] | None = None,
        limit: int = 10,
    ) -> tuple[list[str], bool]:
        """One page of raw JSON bodies in list order, and whether more follow.

        ``where``: equality on indexed fields (``None`` matches NULL). ``ranges``: (field, op, value)
        with op in ``< <= > >=`` on ``sort`` (the sort field) or an indexed field. ``after``/``before``:
        keyset positions from :meth:`position`; "after" means later in list order.
        """
        spec = self.spec(name)
        clause, params = self._where(spec, where or {}, ranges)
        conds = [clause[len(" WHERE ") :]] if clause else []
        reverse = False
        if after is not None:
            op = "<" if descending else ">"
            conds.append(f"(sort_key, seq) {op} (?, ?)")
            params += [after[0], after[1]]
        if before is not None:
            op = ">" if descending else "<"
            conds.append(f"(sort_key, seq) {op} (?, ?)")
            params += [before[0], before[1]]
            reverse = True  # read towards the start of the list, then flip
        order_desc = descending != reverse
        direction = "DESC" if order_desc else "ASC"
        sql = f'SELECT body FROM "{name}"'
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        sql += f" ORDER BY sort_key {direction}, seq {direction} LIMIT ?"
        params.append(int(limit) + 1)
        rows = [r[0] for r in self.conn().execute(sql, params)]
        has_more = len(rows) > limit
        rows = rows[:limit]
        if reverse:
            rows.reverse()
        return rows, has_more

    def iter_all(self, name: str, *, descending: bool = False) -> Iterator[dict]:
        direction = "DESC" if descending else "ASC"
        for (body,) in self.conn().execute(f'SELECT body FROM "{name}" ORDER BY sort_key {direction}, seq {direction}'):
            yield json.loads(body)

    def _where(
        self, spec: CollectionSpec, where: dict[str, Any], ranges: Sequence[tuple[str, str, Any]]
    ) -> tuple[str, list]:
        conds: list[str] = []
        params: list = []
        for key, value in where.items():
            col = self._col(spec, key)
            if value is None:
                conds.append(f"{col} IS NULL")
            else:
                conds.append(f"{col} = ?")
                params.append(int(value) if isinstance(value, bool) else value)
        for key, op, value in ranges:
            if op not in ("<", "<=", ">", ">="):
                raise ValueError(f"bad range operator {op!r}")
            conds.append(f"{self._col(spec, key)} {op} ?")
            params.append(value)
        return (" WHERE " + " AND ".join(conds) if conds else ""), params

    @staticmethod
    def _col(spec: CollectionSpec, key: str) -> str:
        if key == spec.sort:
            return "sort_key"
        if key == "id":
            return "id"
        if key not in spec.indexed:
            raise KeyError(f"{spec.name}: {key!r} is not an indexed field")
        return _column(key)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
