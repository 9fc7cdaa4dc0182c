"""Reads the exception queue (``reconciliation.exceptions``) from the analysts' snapshot, never the live
warehouse: a person listing exceptions must not block, or be blocked by, a run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from pipelines.run.snapshot import snapshot_path

SEVERITIES = ("low", "medium", "high", "critical")  # ascending; the dbt model ranks them the same way
STATUSES = ("open", "resolved")
COLUMNS = (
    "exception_id",
    "exception_type",
    "subject_key",
    "subsidiary",
    "currency",
    "amount_at_risk",
    "amount_at_risk_reporting",
    "severity",
    "owner_domain",
    "first_seen_at",
    "last_seen_at",
    "resolved_at",
    "status",
    "detail",
    "suggested_action",
)


class SnapshotMissingError(FileNotFoundError):
    pass


@dataclass(frozen=True)
class ExceptionFilter:
    types: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    min_severity: str | None = None  # this level and above
    subsidiaries: tuple[str, ...] = ()
    status: str | None = None
    min_age_days: int | None = None  # since first_seen_at, measured at ``as_of``
    as_of: datetime | None = None  # default: now (UTC)


def read_exceptions(data_dir: Path, where: ExceptionFilter | None = None) -> list[dict[str, Any]]:
    """Matching rows, worst first (severity, then amount at risk in USD), as dicts of ``COLUMNS``."""
    where = where or ExceptionFilter()
    path = snapshot_path(data_dir)
    if not path.exists():
        raise SnapshotMissingError(f"no snapshot at {path}: run `q2c run` first (it publishes one after each build)")
    clauses, args = _clauses(where)
    rank = "case severity " + " ".join(f"when '{s}' then {i}" for i, s in enumerate(SEVERITIES)) + " else -1 end"
    sql = (
        f"SELECT {', '.join(COLUMNS)} FROM reconciliation.exceptions"
        + (f" WHERE {' AND '.join(clauses)}" if clauses else "")
        + f" ORDER BY {rank} DESC, amount_at_risk_reporting DESC NULLS LAST, exception_type, subject_key"
    )
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        rows = con.execute(sql, args).fetchall()
    return [dict(zip(COLUMNS, r, strict=True)) for r in rows]


def _clauses(where: ExceptionFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []

    def one_of(column: str, values: tuple[str, ...]) -> None:
        clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
        args.extend(values)

    if where.types:
        one_of("exception_type", where.types)
    if where.severities:
        one_of("severity", where.severities)
    if where.min_severity:
        one_of("severity", SEVERITIES[SEVERITIES.index(where.min_severity) :])
    if where.subsidiaries:
        one_of("subsidiary", where.subsidiaries)
    if where.status:
        one_of("status", (where.status,))
    if where.min_age_days is not None:
        as_of = where.as_of or datetime.now(UTC)
        clauses.append("first_seen_at <= ?")
        args.append(as_of - timedelta(days=where.min_age_days))
    return clauses, args


def as_plain(row: dict[str, Any]) -> dict[str, Any]:
    """JSON/CSV-safe values: money as exact decimal strings (never floats), times as UTC ISO-8601."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, Decimal):
            out[key] = format(value, "f")
        elif isinstance(value, datetime):
            out[key] = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            out[key] = value
    return out
