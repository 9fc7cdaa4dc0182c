"""What failed in a build, said so a person can act: the node, its file, dbt's message, and failing rows.

For a failing data test, a few of the rows it found are fetched by running the test's compiled SQL with a
LIMIT against the warehouse (read-only, ``raw`` attached read-only as dbt does), after dbt has closed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipelines.build.paths import BuildPaths

FAILED = ("error", "fail", "runtime error")
SAMPLE_ROWS = 5


@dataclass
class NodeFailure:
    unique_id: str
    resource_type: str
    path: str  # the node's file, relative to the dbt project (models/…, tests/…, or the YAML of a generic test)
    status: str  # error | fail | warn
    message: str
    failing_rows: int | None = None  # rows a data test returned
    sample_columns: list[str] = field(default_factory=list)
    sample_rows: list[tuple[Any, ...]] = field(default_factory=list)
    compiled_sql: str | None = None

    def describe(self) -> str:
        lines = [f"{self.status.upper()} {self.resource_type} {self.unique_id} ({self.path})"]
        lines += [f"    {line}" for line in self.message.strip().splitlines() if line.strip()]
        if self.failing_rows is not None:
            lines.append(f"    {self.failing_rows:,} failing row(s); first {len(self.sample_rows)}:")
        if self.sample_rows:
            lines.append("      " + " | ".join(self.sample_columns))
            lines += ["      " + " | ".join("null" if v is None else str(v) for v in row) for row in self.sample_rows]
        return "\n".join(lines)


def node_failures(results: list[Any], statuses: tuple[str, ...] = FAILED) -> list[NodeFailure]:
    """NodeFailure for every run result whose status is in ``statuses`` (dbt's RunResult objects)."""
    out = []
    for result in results:
        status = str(result.status)
        if status not in statuses:
            continue
        node = result.node
        path = getattr(node, "original_file_path", None) or getattr(node, "path", "")
        out.append(
            NodeFailure(
                unique_id=node.unique_id,
                resource_type=str(node.resource_type),
                path=path,
                status=status,
                message=result.message or "",
                failing_rows=result.failures if str(node.resource_type) == "test" else None,
                compiled_sql=getattr(node, "compiled_code", None),
            )
        )
    return out


def attach_samples(failures: list[NodeFailure], paths: BuildPaths, limit: int = SAMPLE_ROWS) -> None:
    """Fill sample rows of failing data tests; a sample that cannot be fetched says why in the message."""
    tests = [f for f in failures if f.resource_type == "test" and f.status in ("fail", "warn") and f.compiled_sql]
    if not tests or not paths.warehouse.exists():
        return
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        # after connecting: as a connect() option, TimeZone is applied before the built-in icu is loaded
        con.execute("set TimeZone = 'UTC'")
        if paths.raw.exists():
            con.execute(f"attach '{paths.raw}' as raw (read_only)")
        for failure in tests:
            sql = failure.compiled_sql.strip().rstrip(";")
            try:
                cursor = con.execute(f"select * from ({sql}) as failing_rows limit {int(limit)}")
                failure.sample_columns = [d[0] for d in cursor.description]
                failure.sample_rows = cursor.fetchall()
            except duckdb.Error as exc:
                failure.message += f"\n(could not fetch failing rows: {exc})"
    finally:
        con.close()
