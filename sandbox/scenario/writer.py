"""Streaming JSON Lines writers for a fixture folder: one open file per collection, appended object by object,
so an L scenario (1M invoices) never holds more than one customer in memory."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from sandbox.fixtures import COLLECTIONS, collection_path, dumps


class FixtureWriter:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.counts: dict[str, int] = {}
        self._files = {}
        for system, collections in COLLECTIONS.items():
            for collection in collections:
                path = collection_path(self.root, system, collection)
                path.parent.mkdir(parents=True, exist_ok=True)
                self._files[(system, collection)] = path.open("w", encoding="utf-8", newline="\n")
                self.counts[f"{system}/{collection}"] = 0

    def write(self, system: str, objects: Iterable[tuple[str, dict]]) -> None:
        for collection, obj in objects:
            self._files[(system, collection)].write(dumps(obj) + "\n")
            self.counts[f"{system}/{collection}"] += 1

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()

    def __enter__(self) -> FixtureWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
