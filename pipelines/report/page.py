"""The report page: reads the snapshot and the ops store, lays the sections out, writes one HTML file.

Self-contained on purpose: inline CSS, inline SVG, system fonts, no script and no external reference, so the
file opens from a mail attachment or a shared drive with no network.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from pipelines.report import sections
from pipelines.report.formatting import count, money, text, utc
from pipelines.report.marts import Marts, Unavailable, as_of
from pipelines.report.ops import read_ledger, run_history

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#111827;margin:24px;max-width:1240px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e5e7eb}
h3{font-size:14px;margin:16px 0 6px}.meta{color:#4b5563;font-size:13px}
.tiles{display:flex;gap:12px;margin:14px 0}.tile{border:1px solid #e5e7eb;border-radius:6px;padding:8px 14px}
.tile b{display:block;font-size:18px}.tile span{color:#4b5563;font-size:12px}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:20px;align-items:start}
table{border-collapse:collapse;font-size:12px;width:100%}th,td{padding:3px 6px;border-bottom:1px solid #f3f4f6;
text-align:left;vertical-align:top}th{background:#f9fafb}.num{text-align:right;font-variant-numeric:tabular-nums}
.top td{font-size:12px}.missing{color:#92400e;background:#fffbeb;border:1px solid #fde68a;padding:8px;border-radius:4px}
.badge{color:#fff;border-radius:3px;padding:1px 5px;font-size:11px;background:#6b7280}
.sev-critical{background:#991b1b}.sev-high{background:#c2410c}.sev-medium{background:#a16207}.sev-low{background:#1d4ed8}
.key{display:inline-block;width:10px;height:10px;margin:0 3px 0 10px}.legend{font-size:12px}
.outcome-failed,.outcome-interrupted,.outcome-abandoned{color:#b91c1c;font-weight:600}
code{font-size:12px}small{color:#4b5563}
"""


def render_report(data_dir: Path) -> str:
    """The whole report as one HTML document; sections whose data is missing say so instead of failing."""
    data_dir = Path(data_dir)
    with Marts(data_dir) as marts:
        info = marts.info
        by_type = _attempt(marts.open_by_type_and_severity)
        resolved = _attempt(marts.resolved_by_type)
        by_subsidiary = _attempt(marts.open_by_subsidiary)
        aging = _attempt(marts.open_by_age)
        trends = _attempt(lambda: marts.kpi_history(sections.TREND_KPIS))
        top = _attempt(marts.top_open)
    runs = run_history(data_dir)
    ledger = read_ledger(data_dir)

    body = [
        _header(data_dir, info, by_type, by_subsidiary, runs),
        _section("exceptions", "Open exceptions by type and severity", by_type, sections.exceptions_by_type),
        _section("resolved", "Resolved exceptions by type", resolved, sections.resolved_by_type),
        _section("risk", "Amount at risk by subsidiary (USD)", by_subsidiary, sections.risk_by_subsidiary),
        _section("aging", "Exception aging", aging, lambda a: sections.aging(*a)),
        _section("trends", "Posting completeness and payment sync lag", trends, sections.kpi_trends),
        f'<section id="runs"><h2>Run history</h2>{sections.run_history(runs, ledger)}</section>',
        _section("top", "Top open exceptions", top, sections.top_exceptions),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>q2c reconciliation report</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )


def write_report(data_dir: Path, out: Path | None = None) -> Path:
    """Render and write atomically (a reader never sees half a file); default ``<data>/report.html``."""
    out = Path(out) if out is not None else Path(data_dir) / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.tmp")
    staging.write_text(render_report(data_dir), encoding="utf-8")
    os.replace(staging, out)
    return out


def _attempt(read: Callable[[], object]) -> object:
    try:
        return read()
    except Unavailable as exc:
        return exc


def _section(anchor: str, title: str, data: object, draw: Callable[[object], str]) -> str:
    inner = sections.missing(str(data)) if isinstance(data, Unavailable) else draw(data)
    return f'<section id="{anchor}"><h2>{text(title)}</h2>{inner}</section>'


def _header(data_dir: Path, info: dict | None, by_type: object, by_subsidiary: object, runs: list) -> str:
    generated = datetime.now(UTC)
    if info:
        source = (
            f"Snapshot of run {text(info.get('run_id'))}, published {utc(info.get('published_at'))}; "
            f"figures as of {utc(as_of(info))}."
        )
    else:
        source = "No snapshot yet: run <code>q2c run</code> to publish one."
    tiles = []
    if isinstance(by_type, list):
        tiles.append((count(sum(r.exceptions for r in by_type)), "open exceptions"))
    if isinstance(by_subsidiary, list):
        total = sum((r.amount_at_risk_reporting for r in by_subsidiary), Decimal(0))
        tiles.append((f"{money(total)} USD", "amount at risk"))
    if runs:
        tiles.append((text(runs[0].outcome), f"last run, {utc(runs[0].started_at)}"))
    tile_html = "".join(f'<div class="tile"><b>{value}</b><span>{label}</span></div>' for value, label in tiles)
    return (
        "<header><h1>q2c reconciliation report</h1>"
        f'<p class="meta">{source} Data folder: <code>{text(data_dir)}</code>. '
        f"Generated {utc(generated)}.</p>"
        f'<div class="tiles">{tile_html}</div></header>'
    )
