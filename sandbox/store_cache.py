"""Warm starts: a pristine copy of each system's loaded SQLite store, reused instead of reloading fixtures.

Loading a fixture folder into a store is the slow part of starting a sandbox (an L scenario takes about
20 minutes); copying the loaded file takes seconds. After a cold load a system saves its store here, next to
a JSON stamp; the next start over the same fixtures copies the file into its scratch folder instead::

    <cache dir>/<system>.sqlite   the store as loaded, checkpointed (no WAL), never opened by a server
    <cache dir>/<system>.json     the stamp: fixture fingerprint, code version, size, generation, app state
    <cache dir>/<system>.lock     flock'd for the whole restore-or-load-and-save, so two processes starting
                                  at once load once: the second waits, then copies what the first saved

The cache dir defaults to ``<fixtures>/.store-cache``. An entry is used only when everything matches:

* the fixture fingerprint: the manifest's SHA-256 and the (name, size, mtime) of every file in the system's
  folder, so an edited, regenerated or copied folder loads cold (regenerating gives new mtimes);
* the code version: a hash of the source of every module that shapes the store (schema, loaders, the
  object builders the loaders call) and of SQLite's version, so a code change never serves a stale layout;
* the file itself: its size and SQLite header (page count × page size, and the ``user_version`` generation
  written into the store just before it was saved, which ties the file to its stamp).

Anything else (no entry, a mismatch, an unreadable or partial file, a read-only fixture folder) is a cold
load, after which the entry is refreshed atomically: copy to a temporary name, fsync, rename, then the stamp
the same way. A cache failure is logged and never fails a start.

State an app derives while loading and keeps in memory (``app.loaded``'s counts, the CRM's learned
property definitions, the store's insertion sequence) is saved in the stamp and put back on a warm start;
everything else an app holds in memory (id counters, idempotency keys, request ids, fault counters)
starts empty on both paths.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import secrets
import shutil
import sqlite3
import struct
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sandbox.fixtures import MANIFEST
from sandbox.store import DocumentStore

log = logging.getLogger(__name__)

FORMAT = 1
"""Bump when the stamp's layout or the meaning of its fields changes."""

CACHE_DIRNAME = ".store-cache"
_HEADER = b"SQLite format 3\x00"


def default_dir(fixtures: Path) -> Path:
    return Path(fixtures) / CACHE_DIRNAME


def fingerprint(fixtures: Path, system: str) -> dict[str, Any]:
    """What the system's store is loaded from: the manifest's hash and each file of its folder by stat."""
    root = Path(fixtures)
    manifest = root / MANIFEST
    digest = hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.is_file() else None
    folder = root / system
    files = []
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if path.is_file():
                st = path.stat()
                files.append([path.name, st.st_size, st.st_mtime_ns])
    return {"manifest_sha256": digest, "files": files}


def code_version(modules: Iterable[str]) -> str:
    """A hash of the named modules' source and of SQLite's version."""
    digest = hashlib.sha256(f"format {FORMAT}; sqlite {sqlite3.sqlite_version}".encode())
    for name in sorted(set(modules)):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ValueError(f"module {name!r} not found")
        digest.update(name.encode() + b"\x00" + Path(spec.origin).read_bytes() + b"\x00")
    return digest.hexdigest()


def _sqlite_header(path: Path) -> tuple[int, int, int] | None:
    """(page size, page count, user_version) from a SQLite file's header, or None if it is not one."""
    with path.open("rb") as f:
        head = f.read(100)
    if len(head) < 100 or not head.startswith(_HEADER):
        return None
    page_size = struct.unpack(">H", head[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    page_count = struct.unpack(">I", head[28:32])[0]
    user_version = struct.unpack(">i", head[60:64])[0]
    return page_size, page_count, user_version


def _copy(src: Path, dst: Path) -> None:
    """A byte copy made in the kernel (``shutil.copyfile`` uses sendfile on Linux)."""
    shutil.copyfile(src, dst)


def _since(started: float) -> float:
    return time.perf_counter() - started


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StoreCache:
    """One system's cache entry, held locked while open. ``status`` says what happened:
    ``off`` (disabled or no fixtures), ``warm`` (restored), ``cold`` (loaded; ``saved`` tells whether the
    entry was refreshed), with ``reason`` naming why a start was not warm."""

    def __init__(
        self,
        fixtures: Path | None,
        system: str,
        *,
        modules: Iterable[str],
        enabled: bool = True,
        cache_dir: Path | None = None,
    ) -> None:
        self.system = system
        self.fixtures = Path(fixtures) if fixtures is not None else None
        self.enabled = bool(enabled) and self.fixtures is not None
        self.dir = Path(cache_dir) if cache_dir is not None else (default_dir(fixtures) if fixtures else None)
        self.modules = tuple(modules)
        self.status = "off"
        self.reason = "disabled" if not enabled else ("no fixtures" if fixtures is None else "")
        self.saved = False
        self._lock_fd: int | None = None
        self._fingerprint: dict[str, Any] | None = None
        self._code: str | None = None

    # -- paths ---------------------------------------------------------------------------------------
    @property
    def data_path(self) -> Path:
        assert self.dir is not None
        return self.dir / f"{self.system}.sqlite"

    @property
    def stamp_path(self) -> Path:
        assert self.dir is not None
        return self.dir / f"{self.system}.json"

    # -- locking -------------------------------------------------------------------------------------
    def __enter__(self) -> StoreCache:
        if not self.enabled:
            return self
        try:
            assert self.dir is not None and self.fixtures is not None
            self.dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.dir / f"{self.system}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            self._disable(f"cache folder unusable: {exc}")
            return self
        started = time.monotonic()
        fcntl.flock(fd, fcntl.LOCK_EX)  # released on close, or by the OS if this process dies
        waited = time.monotonic() - started
        if waited > 1:
            log.info("%s store cache: waited %.1fs for another process's load", self.system, waited)
        self._lock_fd = fd
        try:
            # taken under the lock, before loading: a file changed during the load makes the entry stale
            self._fingerprint = fingerprint(self.fixtures, self.system)
            self._code = code_version(self.modules)
        except OSError as exc:
            self._disable(f"fixtures unreadable: {exc}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _disable(self, reason: str) -> None:
        log.warning("%s store cache off: %s", self.system, reason)
        self.enabled = False
        self.reason = reason
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    # -- restore -------------------------------------------------------------------------------------
    def restore(self, dest: Path) -> dict | None:
        """Copy the cached store to ``dest`` (which must not exist yet) and return the saved app state;
        None when there is no usable entry (``reason`` says why), and ``dest`` is then left absent."""
        if not self.enabled:
            return None
        self.status = "cold"
        stamp = self._valid_stamp()
        if stamp is None:
            return None
        dest = Path(dest)
        started = time.perf_counter()
        try:
            _copy(self.data_path, dest)
            if dest.stat().st_size != stamp["size"]:
                raise OSError(f"copied {dest.stat().st_size} bytes, expected {stamp['size']}")
        except OSError as exc:
            self.reason = f"copy failed: {exc}"
            log.warning("%s store cache: %s", self.system, self.reason)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{dest}{suffix}").unlink(missing_ok=True)
            return None
        self.status, self.reason = "warm", ""
        log.info("%s store cache: warm start, %d MB copied in %.1fs", self.system, stamp["size"] >> 20, _since(started))
        return stamp["state"]

    def _valid_stamp(self) -> dict | None:
        try:
            stamp = json.loads(self.stamp_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.reason = "no entry"
            return None
        except (OSError, ValueError) as exc:
            self.reason = f"unreadable stamp: {exc}"
            return None
        expected = {"format": FORMAT, "system": self.system, "code": self._code, "fixtures": self._fingerprint}
        for key, value in expected.items():
            if not isinstance(stamp, dict) or stamp.get(key) != value:
                self.reason = f"{key} changed"
                return None
        try:
            size = self.data_path.stat().st_size
            header = _sqlite_header(self.data_path)
        except OSError as exc:
            self.reason = f"store unreadable: {exc}"
            return None
        if size != stamp.get("size") or header is None:
            self.reason = "store file incomplete"
            return None
        page_size, page_count, generation = header
        if page_size * page_count != size or generation != stamp.get("generation"):
            self.reason = "store file does not match its stamp"
            return None
        if not isinstance(stamp.get("state"), dict):
            self.reason = "stamp has no state"
            return None
        return stamp

    # -- save ----------------------------------------------------------------------------------------
    def save(self, docs: DocumentStore, state: dict[str, Any]) -> bool:
        """Refresh the entry from a just-loaded store (nothing else may be using it) and ``state``, the
        JSON-able in-memory state the app derived while loading. False (and logged) when it could not."""
        if not self.enabled:
            return False
        log.info("%s store cache: cold start (%s)", self.system, self.reason)
        started = time.perf_counter()
        try:
            self.saved = self._save(docs, state)
            if self.saved:
                log.info("%s store cache: saved in %.1fs", self.system, _since(started))
        except (OSError, sqlite3.Error, ValueError, TypeError) as exc:
            log.warning("%s store cache not saved: %s", self.system, exc)
            self.saved = False
        return self.saved

    def _save(self, docs: DocumentStore, state: dict[str, Any]) -> bool:
        assert self.dir is not None
        json.dumps(state)  # fails early on anything not JSON-able
        for stale in self.dir.glob(f"{self.system}.*.tmp-*"):  # left by a process that died mid-save
            stale.unlink(missing_ok=True)
        tag = f"tmp-{os.getpid()}-{time.time_ns()}"
        data_tmp = self.dir / f"{self.system}.sqlite.{tag}"
        stamp_tmp = self.dir / f"{self.system}.json.{tag}"
        generation = secrets.randbelow(2**31 - 1) + 1
        try:
            with docs.write_lock:
                conn = docs.conn()
                conn.execute(f"PRAGMA user_version = {generation}")
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                wal = Path(f"{docs.path}-wal")
                if busy or (wal.exists() and wal.stat().st_size):
                    log.warning("%s store cache not saved: the store could not be checkpointed", self.system)
                    return False
                _copy(docs.path, data_tmp)
            with data_tmp.open("rb+") as f:
                os.fsync(f.fileno())
            size = data_tmp.stat().st_size
            header = _sqlite_header(data_tmp)
            if header is None or header[0] * header[1] != size or header[2] != generation:
                log.warning("%s store cache not saved: the copy is not a complete SQLite file", self.system)
                return False
            stamp = {
                "format": FORMAT,
                "system": self.system,
                "code": self._code,
                "fixtures": self._fingerprint,
                "size": size,
                "generation": generation,
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "state": state,  # key order kept: a warm app's dicts iterate as the cold app's do
            }
            text = json.dumps(stamp, ensure_ascii=False) + "\n"
            # the old stamp goes first: between the two renames there is no entry, never a mismatched one
            self.stamp_path.unlink(missing_ok=True)
            os.replace(data_tmp, self.data_path)
            with stamp_tmp.open("w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(stamp_tmp, self.stamp_path)
            _fsync_dir(self.dir)
            return True
        finally:
            for tmp in (data_tmp, stamp_tmp):
                with contextlib.suppress(OSError):
                    tmp.unlink(missing_ok=True)
