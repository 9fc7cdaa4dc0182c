"""What the report reads from the analysts' snapshot (``<data>/snapshot/marts.duckdb``), never the live warehouse.

Each reader returns rows or raises ``Unavailable`` with a sentence the report prints in place of its section:
a missing snapshot or a table an older snapshot lacks must not stop the rest of the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from pipelines.run.exception_queue import SEVERITIES
from pipelines.run.snapshot import snapshot_info, snapshot_path

AGE_BUCKETS = ("0-2d", "3-7d", "8-30d", "31d+")  # kpis.age_bucket, youngest first
TOP_EXCEPTIONS = 20
# severity ranked as the exception queue ranks it: critical highest
_RANK = "case severity " + " ".join(f"when '{s}' then {i}" for i, s in enumerate(SEVERITIES)) + " else -1 end"


class Unavailable(Exception):  # noqa: N818 — it is a state the report prints, not a failure
    """The data a section needs is not there; the message says why, for the reader of the report."""


@dataclass(frozen=True)
class TypeSeverityCount:
    exception_type: str
    severity: str
    exceptions: int
    amount_at_risk_reporting: Decimal


@dataclass(frozen=True)
class SubsidiaryRisk:
    subsidiary: str | None
    exceptions: int
    amount_at_risk_reporting: Decimal


@dataclass(frozen=True)
class KpiPoint:
    kpi_date: date
    kpi_name: str
    kpi_value: Decimal | None
    unit: str


class Marts:
    """An open, read-only connection to the snapshot; use as a context manager."""

    def __init__(self, data_dir: Path) -> None:
        self.path = snapshot_path(data_dir)
        self._con: duckdb.DuckDBPyConnection | None = None
        self.info: dict[str, object] | None = None

    def __enter__(self) -> Marts:
        if self.path.exists():
            self.info = snapshot_info(self.path)
            self._con = duckdb.connect(str(self.path), read_only=True)
            self._con.execute("SET TimeZone = 'UTC'")
        return self

    def __exit__(self, *_: object) -> None:
        if self._con is not None:
            self._con.close()

    @contextmanager
    def _query(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self._con is None:
            raise Unavailable("No snapshot yet: `q2c run` publishes one after each successful build.")
        try:
            yield self._con
        except duckdb.CatalogException as exc:
            raise Unavailable(f"The snapshot lacks this table ({str(exc).splitlines()[0]}).") from exc

    def open_by_type_and_severity(self) -> list[TypeSeverityCount]:
        with self._query() as con:
            rows = con.execute(
                "SELECT exception_type, severity, count(*), coalesce(sum(amount_at_risk_reporting), 0) "
                "FROM reconciliation.exceptions WHERE status = 'open' GROUP BY 1, 2 ORDER BY 1, 2"
            ).fetchall()
        return [TypeSeverityCount(*r) for r in rows]

    def resolved_by_type(self) -> list[tuple[str, int, object]]:
        """Resolved exceptions per type: how many, and the latest resolution (UTC)."""
        with self._query() as con:
            return con.execute(
                "SELECT exception_type, count(*), max(resolved_at) "
                "FROM reconciliation.exceptions WHERE status = 'resolved' GROUP BY 1 ORDER BY 2 DESC, 1"
            ).fetchall()

    def open_by_subsidiary(self) -> list[SubsidiaryRisk]:
        with self._query() as con:
            rows = con.execute(
                "SELECT subsidiary, count(*), coalesce(sum(amount_at_risk_reporting), 0) "
                "FROM reconciliation.exceptions WHERE status = 'open' GROUP BY 1 ORDER BY 3 DESC, 1 NULLS LAST"
            ).fetchall()
        return [SubsidiaryRisk(*r) for r in rows]

    def open_by_age(self) -> tuple[date | None, dict[str, Decimal]]:
        """Open exceptions per age bucket on the latest KPI day (the kpis mart's own buckets)."""
        with self._query() as con:
            day = con.execute("SELECT max(kpi_date) FROM reconciliation.kpis").fetchone()[0]
            rows = con.execute(
                "SELECT age_bucket, sum(kpi_value) FROM reconciliation.kpis WHERE kpi_date = ? "
                "AND kpi_name = 'open_exceptions' AND exception_type <> 'all' AND age_bucket <> 'all' GROUP BY 1",
                [day],
            ).fetchall()
        counts = {bucket: Decimal(0) for bucket in AGE_BUCKETS}
        counts.update({bucket: value or Decimal(0) for bucket, value in rows})
        return day, counts

    def kpi_history(self, names: tuple[str, ...]) -> list[KpiPoint]:
        """Overall (not broken down) values of ``names`` for every day measured, oldest first."""
        with self._query() as con:
            rows = con.execute(
                "SELECT kpi_date, kpi_name, kpi_value, unit FROM reconciliation.kpis "
                f"WHERE kpi_name IN ({', '.join('?' for _ in names)}) AND exception_type = 'all' "
                "AND age_bucket = 'all' ORDER BY kpi_date, kpi_name",
                list(names),
            ).fetchall()
        return [KpiPoint(*r) for r in rows]

    def top_open(self, limit: int = TOP_EXCEPTIONS) -> list[dict[str, object]]:
        """The open exceptions with the most money at stake (USD), the more severe first among equals."""
        columns = (
            "exception_id, exception_type, subject_key, subsidiary, currency, amount_at_risk, "
            "amount_at_risk_reporting, severity, owner_domain, first_seen_at, detail, suggested_action"
        )
        with self._query() as con:
            cursor = con.execute(
                f"SELECT {columns} FROM reconciliation.exceptions WHERE status = 'open' "
                f"ORDER BY amount_at_risk_reporting DESC NULLS LAST, {_RANK} DESC, exception_type, subject_key "
                "LIMIT ?",
                [limit],
            )
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def as_of(info: dict[str, object] | None) -> datetime | None:
    """The time the snapshot's figures describe: the run's q2c_now, else when it was published."""
    if not info:
        return None
    value = info.get("q2c_now") or info.get("published_at")
    return value if isinstance(value, datetime) else None
