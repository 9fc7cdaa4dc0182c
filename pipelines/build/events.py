"""Listens to dbt's event stream: one progress line per finished node, and the SQL clock for the timing split."""

from __future__ import annotations

import threading
from collections.abc import Callable

from dbt_common.events.base_types import EventMsg

from pipelines.build.timing import QueryClock

_SHORT_STATUS = {"success": "ok", "pass": "ok"}


class BuildListener:
    """A dbtRunner callback; dbt calls it from its worker threads, hence the lock."""

    def __init__(self, progress: Callable[[str], None] | None = None) -> None:
        self.progress = progress
        self.clock = QueryClock()
        self.finished = 0
        self._lock = threading.Lock()

    def __call__(self, msg: EventMsg) -> None:
        name = msg.info.name
        if name == "SQLQueryStatus":
            finished_at = msg.info.ts.seconds + msg.info.ts.nanos / 1e9
            with self._lock:
                self.clock.add(finished_at, msg.data.elapsed)
        elif name == "NodeFinished" and self.progress is not None:
            node = msg.data.node_info
            status = msg.data.run_result.status or node.node_status
            with self._lock:
                self.finished += 1
                count = self.finished
            seconds = msg.data.run_result.execution_time
            status = _SHORT_STATUS.get(status, status)
            self.progress(f"  {count:>4}  {status:<6} {node.resource_type:<10} {node.node_name}  {seconds:.2f}s")
