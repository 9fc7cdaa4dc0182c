"""The CRM's records, merges and associations in SQLite, with the indexes HubSpot's reads need.

One table holds every object type (``object_type``, numeric ``id``, ``archived``, ``created_ms``,
``lastmod_ms``, the full JSON body). Lists walk the ``(object_type, archived, id)`` index with a keyset
cursor; search on the last-modified time walks ``(object_type, archived, lastmod_ms, id)``; so an L scenario
(100k companies) pages without scanning. Merged-away ids live in their own table and resolve to the winner;
associations are stored in both directions so either side reads through an index.

Uses the shared :class:`sandbox.store.DocumentStore` for its per-thread connections and write lock only: the
CRM's queries (arbitrary property filters, merges) need their own schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sandbox.crm.objects import LAST_MODIFIED_PROPERTY, inverse_association_types
from sandbox.fixtures import dumps
from sandbox.store import DocumentStore

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS crm_records (
    object_type TEXT NOT NULL, id INTEGER NOT NULL, archived INTEGER NOT NULL,
    created_ms INTEGER NOT NULL, lastmod_ms INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (object_type, id));
CREATE INDEX IF NOT EXISTS ix_crm_list ON crm_records (object_type, archived, id);
CREATE INDEX IF NOT EXISTS ix_crm_lastmod ON crm_records (object_type, archived, lastmod_ms, id);
CREATE INDEX IF NOT EXISTS ix_crm_created ON crm_records (object_type, archived, created_ms, id);
CREATE TABLE IF NOT EXISTS crm_merged (
    object_type TEXT NOT NULL, loser_id INTEGER NOT NULL, winner_id INTEGER NOT NULL,
    PRIMARY KEY (object_type, loser_id));
CREATE TABLE IF NOT EXISTS crm_associations (
    from_type TEXT NOT NULL, from_id INTEGER NOT NULL, to_type TEXT NOT NULL, to_id INTEGER NOT NULL,
    types TEXT NOT NULL, PRIMARY KEY (from_type, from_id, to_type, to_id));
"""


def iso_to_ms(value: str) -> int:
    """``2026-01-31T12:00:00.000Z`` (or a date) to unix milliseconds, in integers (no float rounding)."""
    text = value.strip()
    if len(text) == 10:  # a bare date means its UTC midnight, as HubSpot's date properties do
        text += "T00:00:00+00:00"
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // timedelta(milliseconds=1)


def _sql_iso_to_ms(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return iso_to_ms(str(value))
    except ValueError:
        return None


def numeric_id(value: Any) -> int | None:
    """HubSpot record ids are positive integers; anything else matches nothing."""
    text = str(value).strip()
    return int(text) if text.isdigit() else None


class CrmRecords:
    def __init__(self, path: Path) -> None:
        self._store = DocumentStore(path)
        self._with_functions: set[int] = set()  # connections (one per thread) with hs_ms registered
        with self._store.write_lock:
            self.conn().executescript(_SCHEMA)

    def conn(self):
        conn = self._store.conn()
        if id(conn) not in self._with_functions:
            conn.create_function("hs_ms", 1, _sql_iso_to_ms, deterministic=True)
            self._with_functions.add(id(conn))
        return conn

    @property
    def write_lock(self):
        return self._store.write_lock

    @property
    def documents(self) -> DocumentStore:
        """The underlying store (its file, connections and write lock), for saving a loaded copy."""
        return self._store

    # -- loading and writing -----------------------------------------------------------------------
    @staticmethod
    def _row(object_type: str, obj: dict) -> tuple:
        oid = numeric_id(obj["id"])
        if oid is None:
            raise ValueError(f"{object_type} id {obj['id']!r} is not numeric (HubSpot ids are integers)")
        props = obj.get("properties") or {}
        lastmod = props.get(LAST_MODIFIED_PROPERTY[object_type]) or obj["updatedAt"]
        return (
            object_type,
            oid,
            int(bool(obj.get("archived"))),
            iso_to_ms(obj["createdAt"]),
            iso_to_ms(lastmod),
            dumps(obj),
        )

    def put_many(self, object_type: str, objects: Iterable[dict], *, batch: int = 5000) -> int:
        sql = "INSERT OR REPLACE INTO crm_records VALUES (?, ?, ?, ?, ?, ?)"
        count = 0
        with self.write_lock:
            c = self.conn()
            c.execute("BEGIN")
            try:
                rows: list[tuple] = []
                for obj in objects:
                    rows.append(self._row(object_type, obj))
                    if len(rows) >= batch:
                        c.executemany(sql, rows)
                        count += len(rows)
                        rows = []
                if rows:
                    c.executemany(sql, rows)
                    count += len(rows)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        return count

    def put(self, object_type: str, obj: dict) -> dict:
        with self.write_lock:
            self.conn().execute(
                "INSERT OR REPLACE INTO crm_records VALUES (?, ?, ?, ?, ?, ?)", self._row(object_type, obj)
            )
        return obj

    def next_id(self, object_type: str) -> int:
        """A fresh id above every record and merged-away id of the type (HubSpot never reuses ids)."""
        c = self.conn()
        top = c.execute("SELECT max(id) FROM crm_records WHERE object_type = ?", (object_type,)).fetchone()[0]
        merged = c.execute("SELECT max(loser_id) FROM crm_merged WHERE object_type = ?", (object_type,)).fetchone()[0]
        return max(top or 0, merged or 0) + 1

    def add_merged(self, object_type: str, pairs: Iterable[tuple[int, int]]) -> None:
        """(loser, winner) pairs; a loser already pointing at a new loser is re-pointed at the winner."""
        with self.write_lock:
            c = self.conn()
            for loser, winner in pairs:
                c.execute(
                    "UPDATE crm_merged SET winner_id = ? WHERE object_type = ? AND winner_id = ?",
                    (winner, object_type, loser),
                )
                c.execute("INSERT OR REPLACE INTO crm_merged VALUES (?, ?, ?)", (object_type, loser, winner))

    def associate(self, rows: Iterable[tuple[str, int, str, int, list[dict]]]) -> int:
        """Store associations in both directions; types of a pair already known are merged, not duplicated."""
        count = 0
        with self.write_lock:
            c = self.conn()
            c.execute("BEGIN")
            try:
                for from_type, from_id, to_type, to_id, types in rows:
                    self._associate_one(c, from_type, from_id, to_type, to_id, types)
                    self._associate_one(c, to_type, to_id, from_type, from_id, inverse_association_types(types))
                    count += 1
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise
        return count

    @staticmethod
    def _associate_one(c: Any, from_type: str, from_id: int, to_type: str, to_id: int, types: list[dict]) -> None:
        row = c.execute(
            "SELECT types FROM crm_associations WHERE from_type=? AND from_id=? AND to_type=? AND to_id=?",
            (from_type, from_id, to_type, to_id),
        ).fetchone()
        merged: list[dict] = json.loads(row[0]) if row else []
        seen = {(t["category"], int(t["typeId"])) for t in merged}
        for t in types:
            if (t["category"], int(t["typeId"])) not in seen:
                merged.append({"category": t["category"], "typeId": int(t["typeId"]), "label": t.get("label")})
                seen.add((t["category"], int(t["typeId"])))
        merged.sort(key=lambda t: (t["label"] is not None, t["typeId"]))
        c.execute(
            "INSERT OR REPLACE INTO crm_associations VALUES (?, ?, ?, ?, ?)",
            (from_type, from_id, to_type, to_id, json.dumps(merged, separators=(",", ":"))),
        )

    def move_associations(self, object_type: str, loser: int, winner: int) -> None:
        """A merge hands the loser's associations to the winner (both directions)."""
        with self.write_lock:
            c = self.conn()
            rows = c.execute(
                "SELECT to_type, to_id, types FROM crm_associations WHERE from_type = ? AND from_id = ?",
                (object_type, loser),
            ).fetchall()
            c.execute("DELETE FROM crm_associations WHERE from_type = ? AND from_id = ?", (object_type, loser))
            c.execute("DELETE FROM crm_associations WHERE to_type = ? AND to_id = ?", (object_type, loser))
        self.associate((object_type, winner, to_type, to_id, json.loads(types)) for to_type, to_id, types in rows)

    def delete(self, object_type: str, oid: int) -> None:
        with self.write_lock:
            self.conn().execute("DELETE FROM crm_records WHERE object_type = ? AND id = ?", (object_type, oid))

    # -- reads -------------------------------------------------------------------------------------
    def get(self, object_type: str, oid: int) -> dict | None:
        row = (
            self.conn()
            .execute("SELECT body FROM crm_records WHERE object_type = ? AND id = ?", (object_type, oid))
            .fetchone()
        )
        return json.loads(row[0]) if row else None

    def resolve(self, object_type: str, oid: int) -> int:
        """The id a GET for ``oid`` answers with: the merge winner for a merged-away id, else ``oid``."""
        row = (
            self.conn()
            .execute("SELECT winner_id FROM crm_merged WHERE object_type = ? AND loser_id = ?", (object_type, oid))
            .fetchone()
        )
        return row[0] if row else oid

    def find_by_property(self, object_type: str, name: str, value: str) -> dict | None:
        """GET by ``idProperty``: a unique property's value (a scan; such lookups are one at a time)."""
        row = (
            self.conn()
            .execute(
                "SELECT body FROM crm_records WHERE object_type = ? AND archived = 0 "
                "AND json_extract(body, '$.properties.' || json_quote(?)) = ? ORDER BY id LIMIT 1",
                (object_type, name, value),
            )
            .fetchone()
        )
        return json.loads(row[0]) if row else None

    def list_page(
        self, object_type: str, *, archived: bool, after: int | None, limit: int
    ) -> tuple[list[dict], int | None]:
        """One page in id order and the id the next page starts at (HubSpot's ``after``), or None at the end."""
        rows = (
            self.conn()
            .execute(
                "SELECT id, body FROM crm_records WHERE object_type = ? AND archived = ? AND id >= ? "
                "ORDER BY id LIMIT ?",
                (object_type, int(archived), after or 0, limit + 1),
            )
            .fetchall()
        )
        next_after = rows[limit][0] if len(rows) > limit else None
        return [json.loads(body) for _, body in rows[:limit]], next_after

    def count(self, object_type: str, *, archived: bool = False) -> int:
        return (
            self.conn()
            .execute(
                "SELECT count(*) FROM crm_records WHERE object_type = ? AND archived = ?", (object_type, int(archived))
            )
            .fetchone()[0]
        )

    def search(
        self, object_type: str, where: str, params: Sequence[Any], order: str, *, offset: int, limit: int
    ) -> tuple[int, list[dict]]:
        """(total matches, one page) for a compiled search; ``where``/``order`` come from :mod:`sandbox.crm.search`."""
        base = f"FROM crm_records WHERE object_type = ? AND archived = 0 AND ({where})"
        args = [object_type, *params]
        c = self.conn()
        total = c.execute(f"SELECT count(*) {base}", args).fetchone()[0]
        rows = c.execute(f"SELECT body {base} ORDER BY {order} LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return total, [json.loads(body) for (body,) in rows]

    def associations(
        self, from_type: str, from_id: int, to_type: str, *, after: int | None = None, limit: int | None = None
    ) -> tuple[list[tuple[int, list[dict]]], int | None]:
        """(to_id, types) in to_id order from one record, paged by to_id, skipping archived targets."""
        sql = (
            "SELECT a.to_id, a.types FROM crm_associations a JOIN crm_records r "
            "ON r.object_type = a.to_type AND r.id = a.to_id AND r.archived = 0 "
            "WHERE a.from_type = ? AND a.from_id = ? AND a.to_type = ? AND a.to_id >= ? ORDER BY a.to_id"
        )
        args: list[Any] = [from_type, from_id, to_type, after or 0]
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit + 1)
        rows = self.conn().execute(sql, args).fetchall()
        next_after = None
        if limit is not None and len(rows) > limit:
            next_after = rows[limit][0]
            rows = rows[:limit]
        return [(to_id, json.loads(types)) for to_id, types in rows], next_after

    def iter_all(self, object_type: str) -> Iterator[dict]:
        for (body,) in self.conn().execute(
            "SELECT body FROM crm_records WHERE object_type = ? ORDER BY id", (object_type,)
        ):
            yield json.loads(body)

    def close(self) -> None:
        self._store.close()
