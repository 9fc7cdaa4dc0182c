"""``q2c exceptions``: the exception queue from the analysts' snapshot."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import click

from pipelines.run.exception_queue import (
    COLUMNS,
    SEVERITIES,
    STATUSES,
    ExceptionFilter,
    SnapshotMissingError,
    as_plain,
    read_exceptions,
)

TABLE_COLUMNS = ("severity", "exception_type", "subject_key", "subsidiary", "amount_at_risk_reporting", "status")
TABLE_HEADERS = {"amount_at_risk_reporting": "at risk (USD)"}


@click.command(
    epilog="\b\nExamples:\n  q2c exceptions --severity critical --severity high\n"
    "  q2c exceptions --type INVOICE_MISSING_IN_ERP --subsidiary UK --min-age-days 3 --format csv > missing.csv"
)
@click.option("--type", "types", multiple=True, help="Exception type code, e.g. INVOICE_MISSING_IN_ERP (repeatable).")
@click.option("--severity", "severities", type=click.Choice(SEVERITIES), multiple=True, help="Repeatable.")
@click.option("--subsidiary", "subsidiaries", multiple=True, help="Subsidiary as in the marts (repeatable).")
@click.option("--status", type=click.Choice((*STATUSES, "all")), default="open", show_default=True)
@click.option("--min-age-days", type=click.IntRange(0), default=None, help="Open at least this long (first seen).")
@click.option("--format", "fmt", type=click.Choice(("table", "json", "csv")), default="table", show_default=True)
@click.pass_context
def exceptions(
    ctx: click.Context,
    types: tuple[str, ...],
    severities: tuple[str, ...],
    subsidiaries: tuple[str, ...],
    status: str,
    min_age_days: int | None,
    fmt: str,
) -> None:
    """List reconciliation exceptions, worst first, from the snapshot the last run published.

    Reads `<data>/snapshot/marts.duckdb`, never the live warehouse, so it never waits for a run.
    Exits 1 when there is no snapshot yet. Columns: see `reconciliation.exceptions` in the README.
    """
    from pipelines import data_dir

    where = ExceptionFilter(
        types=types,
        severities=severities,
        subsidiaries=subsidiaries,
        status=None if status == "all" else status,
        min_age_days=min_age_days,
    )
    try:
        rows = [as_plain(r) for r in read_exceptions(data_dir.resolve(ctx.obj["data_dir"]), where)]
    except SnapshotMissingError as exc:
        click.echo(f"q2c exceptions: {exc}", err=True)
        ctx.exit(1)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
    elif fmt == "csv":
        click.echo(to_csv(rows), nl=False)
    else:
        click.echo(to_table(rows))


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def to_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no exceptions match"
    headers = [TABLE_HEADERS.get(c, c) for c in TABLE_COLUMNS]
    cells = [["" if r[c] is None else str(r[c]) for c in TABLE_COLUMNS] for r in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]

    def line(values: list[str]) -> str:
        padded = [
            v.rjust(w) if c == "amount_at_risk_reporting" else v.ljust(w)
            for c, v, w in zip(TABLE_COLUMNS, values, widths, strict=True)
        ]
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), *(line(r) for r in cells), f"{len(rows)} exception(s)"])
