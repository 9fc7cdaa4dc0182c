"""A small real data folder for the report: a DuckDB snapshot with the reconciliation marts' columns and types,
and an ops store written by the run history and the ledger themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from pipelines.run.history import RunHistory
from pipelines.run.snapshot import snapshot_path
from reverse_etl.ledger import IN_FLIGHT, POSTED, Ledger

NOW = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)

EXCEPTIONS_DDL = """
CREATE TABLE reconciliation.exceptions (
    exception_id varchar, exception_type varchar, subject_key varchar, subsidiary varchar, currency varchar,
    amount_at_risk decimal(38,4), amount_at_risk_reporting decimal(38,2), severity varchar, owner_domain varchar,
    first_seen_at timestamptz, last_seen_at timestamptz, resolved_at timestamptz, status varchar, detail varchar,
    suggested_action varchar)
"""
KPIS_DDL = """
CREATE TABLE reconciliation.kpis (
    kpi_date date, kpi_name varchar, exception_type varchar, age_bucket varchar, kpi_value decimal(38,4),
    unit varchar, measured_at timestamptz)
"""


@dataclass
class Exc:
    exception_type: str
    subject_key: str
    amount_usd: str
    severity: str = "medium"
    subsidiary: str | None = "US"
    currency: str = "USD"
    amount: str | None = None  # in ``currency``; the USD amount when not given
    status: str = "open"
    first_seen_at: datetime = NOW
    detail: str = "detail"
    suggested_action: str = "act"
    owner_domain: str = "accounting"


@dataclass
class Snapshot:
    exceptions: list[Exc] = field(default_factory=list)
    # (day, kpi_name, exception_type, age_bucket, value, unit)
    kpis: list[tuple[date, str, str, str, str | None, str]] | None = field(default_factory=list)


def write_snapshot(data_dir: Path, snap: Snapshot, run_id: str = "run-test") -> Path:
    path = snapshot_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("CREATE SCHEMA reconciliation")
        con.execute(EXCEPTIONS_DDL)
        for i, e in enumerate(snap.exceptions):
            con.execute(
                "INSERT INTO reconciliation.exceptions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    f"x{i}",
                    e.exception_type,
                    e.subject_key,
                    e.subsidiary,
                    e.currency,
                    Decimal(e.amount or e.amount_usd),
                    Decimal(e.amount_usd),
                    e.severity,
                    e.owner_domain,
                    e.first_seen_at,
                    NOW,
                    None if e.status == "open" else NOW,
                    e.status,
                    e.detail,
                    e.suggested_action,
                ],
            )
        if snap.kpis is not None:
            con.execute(KPIS_DDL)
            for day, name, exception_type, bucket, value, unit in snap.kpis:
                con.execute(
                    "INSERT INTO reconciliation.kpis VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [day, name, exception_type, bucket, None if value is None else Decimal(value), unit, NOW],
                )
        con.execute("CREATE SCHEMA _q2c")
        con.execute(
            "CREATE TABLE _q2c.snapshot_info AS SELECT ? AS run_id, cast(? AS timestamptz) AS published_at, "
            "cast(? AS timestamptz) AS q2c_now, '{}' AS tables",
            [run_id, NOW, NOW],
        )
    return path


def write_run(data_dir: Path, run_id: str, steps: dict[str, float], outcome: str = "ok") -> None:
    """One run through the run history's own writer."""
    history = RunHistory(data_dir)
    try:
        history.start_run(run_id, {})
        for step, seconds in steps.items():
            history.start_step(run_id, step)
            history.finish_step(run_id, step, outcome="ok", seconds=seconds)
        history.finish_run(run_id, outcome=outcome, exit_code=0 if outcome == "ok" else 1)
    finally:
        history.close()


def write_ledger(data_dir: Path, posted: int, in_flight: int) -> None:
    """Postings through the ledger's own transitions."""
    ledger = Ledger.in_data_dir(data_dir)
    try:
        rows = [("invoice", f"bill-in_{i}", f"in_{i}", f"h{i}") for i in range(posted + in_flight)]
        ledger.add_pending(rows)
        ledger.start_run("push-1", "push")
        for i, (record_type, external_id, _, _) in enumerate(rows):
            ledger.transition(record_type, external_id, IN_FLIGHT)
            if i < posted:
                ledger.transition(record_type, external_id, POSTED, erp_internal_id=str(1000 + i))
        ledger.finish_run("push-1", "ok", {"posted": posted})
    finally:
        ledger.close()


@pytest.fixture
def data_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder
