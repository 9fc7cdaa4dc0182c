"""How long a build took, and how much of it was SQL running in DuckDB versus dbt's own work.

SQL time comes from dbt's adapter events: each ``SQLQueryStatus`` carries the query's elapsed time (the
adapter's own clock around ``cursor.execute``) and the moment it finished. With several threads, queries
overlap, so the SQL share of the wall clock is the union of those intervals; the plain sum is kept too.
Everything else on the wall clock — parse, compile, Jinja of materializations, Python — is dbt's overhead.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


def union_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    """Length of the union of ``(start, end)`` intervals."""
    total = 0.0
    current_start = current_end = None
    for start, end in sorted(intervals):
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
    return total


@dataclass
class QueryClock:
    """Collects the SQL intervals of one build from dbt's events (fed by the event callback)."""

    intervals: list[tuple[float, float]] = field(default_factory=list)

    def add(self, finished_at: float, elapsed: float) -> None:
        self.intervals.append((finished_at - elapsed, finished_at))

    @property
    def queries(self) -> int:
        return len(self.intervals)

    @property
    def sum_seconds(self) -> float:
        return sum(end - start for start, end in self.intervals)

    @property
    def wall_seconds(self) -> float:
        return union_seconds(self.intervals)


@dataclass
class BuildTiming:
    total_seconds: float = 0.0  # our clock, the whole run_build
    parse_seconds: float = 0.0  # our clock around `dbt parse`
    build_seconds: float = 0.0  # our clock around `dbt build`
    dbt_elapsed_seconds: float = 0.0  # run_results.json's elapsed_time for the build
    compile_seconds: float = 0.0  # sum of the nodes' compile steps (run results)
    node_execute_seconds: float = 0.0  # sum of the nodes' execute steps (SQL plus materialization Jinja)
    sql_seconds: float = 0.0  # wall time with at least one query running
    sql_sum_seconds: float = 0.0  # sum over queries (exceeds sql_seconds when threads overlap)
    queries: int = 0
    threads: int = 1
    slowest: list[tuple[str, float]] = field(default_factory=list)  # (unique_id, seconds), the top few nodes

    @property
    def overhead_seconds(self) -> float:
        return max(self.total_seconds - self.sql_seconds, 0.0)

    @property
    def sql_share(self) -> float:
        return self.sql_seconds / self.total_seconds if self.total_seconds else 0.0

    def summary(self) -> str:
        total = self.total_seconds or 1.0
        other = max(self.overhead_seconds - self.parse_seconds - self.compile_seconds, 0.0)
        lines = [
            f"time {self.total_seconds:.1f}s: SQL execution {self.sql_seconds:.1f}s ({self.sql_seconds / total:.0%}),"
            f" dbt overhead {self.overhead_seconds:.1f}s ({self.overhead_seconds / total:.0%}:"
            f" parse {self.parse_seconds:.1f}s, compile {self.compile_seconds:.1f}s, other {other:.1f}s)",
            f"  {self.queries:,} queries summing {self.sql_sum_seconds:.1f}s on {self.threads} thread(s);"
            " compile is summed over threads",
        ]
        if self.slowest:
            lines.append("  slowest: " + ", ".join(f"{uid} {sec:.1f}s" for uid, sec in self.slowest))
        return "\n".join(lines)
