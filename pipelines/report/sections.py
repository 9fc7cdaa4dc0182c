"""One function per report section: data in, an HTML fragment out. Every value from the data is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from models.exception_catalog import BY_CODE
from pipelines.report import charts
from pipelines.report.formatting import count, hours, money, money_with_currency, seconds, share, text, utc
from pipelines.report.marts import AGE_BUCKETS, KpiPoint, SubsidiaryRisk, TypeSeverityCount
from pipelines.report.ops import Ledger
from pipelines.run.exception_queue import SEVERITIES
from pipelines.run.history import RunRecord

WORST_FIRST = tuple(reversed(SEVERITIES))
TREND_KPIS = ("posting_completeness", "payment_sync_lag_median", "payment_sync_lag_p95")


def missing(message: str) -> str:
    return f'<p class="missing">{text(message)}</p>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int = 1) -> str:
    """``rows`` hold HTML already escaped; columns from ``numeric_from`` on are right-aligned."""
    head = "".join(f"<th{' class=num' if i >= numeric_from else ''}>{text(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=num' if i >= numeric_from else ''}>{c}</td>" for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _severity_badge(severity: str) -> str:
    return f'<span class="badge sev-{text(severity)}">{text(severity)}</span>'


def exceptions_by_type(rows: Sequence[TypeSeverityCount]) -> str:
    if not rows:
        return missing("No open exceptions.")
    by_type: dict[str, dict[str, TypeSeverityCount]] = {}
    for r in rows:
        by_type.setdefault(r.exception_type, {})[r.severity] = r
    # most exceptions first, then by code, so the chart reads top-down from the biggest problem
    order = sorted(by_type, key=lambda t: (-sum(c.exceptions for c in by_type[t].values()), t))
    table_rows, bars = [], []
    for code in order:
        cells = by_type[code]
        total = sum(c.exceptions for c in cells.values())
        amount = sum((c.amount_at_risk_reporting for c in cells.values()), Decimal(0))
        described = BY_CODE.get(code)
        title = f' title="{text(described.description)}"' if described else ""
        table_rows.append(
            [f"<code{title}>{text(code)}</code>"]
            + [count(cells[s].exceptions) if s in cells else "" for s in WORST_FIRST]
            + [count(total), money(amount)]
        )
        segments = tuple(
            charts.Segment(
                cells[s].exceptions, charts.SEVERITY_COLOURS.get(s, "#9ca3af"), f"{s}: {cells[s].exceptions}"
            )
            for s in WORST_FIRST
            if s in cells
        )
        bars.append(charts.Bar(code, segments, count(total)))
    totals = [sum(r.exceptions for r in rows if r.severity == s) for s in WORST_FIRST]
    grand = sum((r.amount_at_risk_reporting for r in rows), Decimal(0))
    table_rows.append(
        ["<strong>All types</strong>"]
        + [f"<strong>{count(n)}</strong>" for n in totals]
        + [f"<strong>{count(sum(totals))}</strong>", f"<strong>{money(grand)}</strong>"]
    )
    legend = " ".join(
        f'<span class="key" style="background:{charts.SEVERITY_COLOURS[s]}"></span>{text(s)}' for s in WORST_FIRST
    )
    table = _table(["Exception type", *WORST_FIRST, "open", "at risk (USD)"], table_rows)
    chart = charts.horizontal_bars("exceptions-by-type", "Open exceptions by type and severity", bars)
    return f'<div class="pair"><div>{table}</div><div>{chart}<p class="legend">{legend}</p></div></div>'


def resolved_by_type(rows: Sequence[tuple[str, int, object]]) -> str:
    """What the last runs fixed or saw disappear (pushed postings, corrected records)."""
    if not rows:
        return missing("No exception has been resolved yet.")
    table_rows = [[f"<code>{text(code)}</code>", count(n), utc(latest)] for code, n, latest in rows]
    return _table(["Exception type", "resolved", "latest resolution"], table_rows)


def risk_by_subsidiary(rows: Sequence[SubsidiaryRisk]) -> str:
    if not rows:
        return missing("No open exceptions, so nothing is at risk.")
    table_rows = [
        [text(r.subsidiary or "(no subsidiary)"), count(r.exceptions), money(r.amount_at_risk_reporting)] for r in rows
    ]
    total = sum((r.amount_at_risk_reporting for r in rows), Decimal(0))
    table_rows.append(
        [
            "<strong>All subsidiaries</strong>",
            f"<strong>{count(sum(r.exceptions for r in rows))}</strong>",
            f"<strong>{money(total)}</strong>",
        ]
    )
    bars = [
        charts.Bar(
            r.subsidiary or "(none)",
            (charts.Segment(r.amount_at_risk_reporting, charts.SUBSIDIARY_COLOUR, money(r.amount_at_risk_reporting)),),
            f"{money(r.amount_at_risk_reporting)} USD",
        )
        for r in rows
    ]
    table = _table(["Subsidiary", "open exceptions", "amount at risk (USD)"], table_rows)
    chart = charts.horizontal_bars("risk-by-subsidiary", "Amount at risk by subsidiary (USD)", bars, label_width=120)
    return f'<div class="pair"><div>{table}</div><div>{chart}</div></div>'


def aging(day: date | None, counts: dict[str, Decimal]) -> str:
    if day is None:
        return missing("No KPI day measured yet (reconciliation.kpis is empty).")
    if not any(counts.values()):
        return f"<p>No open exceptions on {text(day)}.</p>"
    bars = [
        charts.Bar(b, (charts.Segment(counts[b], charts.AGING_COLOUR, f"{b}: {count(counts[b])}"),), count(counts[b]))
        for b in AGE_BUCKETS
    ]
    chart = charts.columns("exception-aging", "Open exceptions by age since first seen", bars)
    table = _table(["Age since first seen", "open exceptions"], [[text(b), count(counts[b])] for b in AGE_BUCKETS])
    intro = f"<p>On {text(day)} (UTC), by age since first seen.</p>"
    return f'{intro}<div class="pair"><div>{table}</div><div>{chart}</div></div>'


def kpi_trends(points: Sequence[KpiPoint]) -> str:
    if not points:
        return missing("No KPI history yet (reconciliation.kpis has no overall rows).")
    by_name: dict[str, dict[str, Decimal | None]] = {}
    days = sorted({p.kpi_date for p in points})
    for p in points:
        by_name.setdefault(p.kpi_name, {})[p.kpi_date.isoformat()] = p.kpi_value

    def series(name: str, label: str, colour: str, scale: Decimal = Decimal(1)) -> charts.Series:
        values = by_name.get(name, {})
        return charts.Series(
            label,
            colour,
            tuple(
                (d.isoformat(), None if values.get(d.isoformat()) is None else values[d.isoformat()] * scale)
                for d in days
            ),
        )

    completeness = charts.lines(
        "posting-completeness",
        "Posting completeness by day",
        [series("posting_completeness", "posting completeness", charts.LINE_COLOURS[0], Decimal(100))],
        y_max=100,
        y_label="%",
    )
    lag = charts.lines(
        "payment-sync-lag",
        "Payment sync lag by day (hours)",
        [
            series("payment_sync_lag_median", "median", charts.LINE_COLOURS[1]),
            series("payment_sync_lag_p95", "95th percentile", charts.LINE_COLOURS[2]),
        ],
        y_label="h",
    )
    rows = []
    for d in reversed(days):
        key = d.isoformat()
        rows.append(
            [
                text(key),
                share(by_name.get("posting_completeness", {}).get(key)),
                hours(by_name.get("payment_sync_lag_median", {}).get(key)),
                hours(by_name.get("payment_sync_lag_p95", {}).get(key)),
            ]
        )
    table = _table(["Day (UTC)", "posting completeness", "payment sync lag, median", "p95"], rows)
    return f'<div class="pair"><div>{completeness}</div><div>{lag}</div></div>{table}'


def run_history(runs: Sequence[RunRecord], ledger: Ledger | None) -> str:
    parts = []
    if not runs:
        parts.append(missing("No runs recorded yet (the ops store has no run history): `q2c run` records one."))
    else:
        step_names = list(dict.fromkeys(s.step for r in runs for s in r.steps))
        rows = []
        for r in runs:
            steps = {s.step: s for s in r.steps}
            outcome = f'<span class="outcome-{text(r.outcome)}">{text(r.outcome)}</span>'
            if r.error:
                outcome += f"<br><small>{text(r.error[:200])}</small>"
            rows.append(
                [text(r.run_id), utc(r.started_at), outcome, text("" if r.exit_code is None else r.exit_code)]
                + [_step_cell(steps.get(name)) for name in step_names]
                + [seconds(sum(s.seconds or 0 for s in r.steps))]
            )
        parts.append(_table(["Run", "started", "outcome", "exit", *step_names, "total"], rows, numeric_from=3))
    parts.append("<h3>ERP push ledger</h3>")
    if ledger is None:
        parts.append(missing("No push ledger yet: nothing has been pushed to the ERP."))
    else:
        states = ", ".join(f"{text(state)} {count(n)}" for state, n in ledger.postings_by_state.items()) or "none"
        parts.append(
            f"<p>Postings by state: {states}. Dead letters awaiting replay: {count(ledger.dead_letters_open)}.</p>"
        )
        if ledger.push_runs:
            parts.append(
                _table(
                    ["Push run", "kind", "started", "finished", "outcome"],
                    [
                        [
                            text(p["run_id"]),
                            text(p["kind"]),
                            utc(p["started_at"]),
                            utc(p["finished_at"]),
                            text(p["outcome"]),
                        ]
                        for p in ledger.push_runs
                    ],
                    numeric_from=5,
                )
            )
    return "".join(parts)


def _step_cell(step: object) -> str:
    if step is None:
        return ""
    outcome = getattr(step, "outcome", "")
    mark = "" if outcome == "ok" else f' <span class="outcome-{text(outcome)}">{text(outcome)}</span>'
    return seconds(getattr(step, "seconds", None)) + mark


def top_exceptions(rows: Sequence[dict[str, object]]) -> str:
    if not rows:
        return missing("No open exceptions.")
    items = []
    for r in rows:
        native = money_with_currency(r["amount_at_risk"], r["currency"])  # type: ignore[arg-type]
        items.append(
            "<tr>"
            f"<td>{_severity_badge(str(r['severity']))}</td>"
            f"<td class=num>{money(r['amount_at_risk_reporting'])}</td>"  # type: ignore[arg-type]
            f"<td class=num>{text(native)}</td>"
            f"<td><code>{text(r['exception_type'])}</code><br><small>{text(r['subject_key'])}"
            f" · {text(r['subsidiary'] or '–')} · {text(r['owner_domain'])}"
            f" · since {utc(r['first_seen_at'])}</small></td>"  # type: ignore[arg-type]
            f"<td>{text(r['detail'])}</td>"
            f"<td>{text(r['suggested_action'])}</td>"
            "</tr>"
        )
    head = "".join(
        f"<th{c}>{h}</th>"
        for h, c in (
            ("severity", ""),
            ("at risk (USD)", " class=num"),
            ("at risk", " class=num"),
            ("exception", ""),
            ("detail", ""),
            ("suggested action", ""),
        )
    )
    return f'<table class="top"><thead><tr>{head}</tr></thead><tbody>{"".join(items)}</tbody></table>'
