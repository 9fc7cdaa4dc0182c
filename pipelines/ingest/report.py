"""The ingest run summary as text: one block per source, one line per table."""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.ingest.runner import SourceSummary


def format_summary(summaries: Sequence[SourceSummary]) -> str:
    lines: list[str] = []
    for s in summaries:
        status = "ok" if s.ok else f"FAILED: {s.error}"
        lines.append(f"{s.source}: {status} — {s.pages:,} pages, {s.retries:,} retries, {s.seconds:,.1f}s")
        if s.phases:
            lines.append("  " + ", ".join(f"{phase} {seconds:,.1f}s" for phase, seconds in s.phases.items()))
        for note in s.recovered:
            lines.append(f"  recovery: {note}")
        changed = [t for t in s.tables if t.rows_loaded or t.new]
        if changed:
            lines.append(f"  {'table':<34} {'loaded':>9} {'new':>9} {'updated':>9}")
            for t in changed:
                lines.append(f"  {t.table:<34} {t.rows_loaded:>9,} {t.new:>9,} {t.updated:>9,}")
        elif s.ok:
            lines.append(f"  no changes in {len(s.tables)} tables")
        if s.quarantined:
            lines.append(f"  {s.quarantined:,} row(s) set aside in _q2c_quarantine (see reason and payload there)")
        if s.new_fields:
            shown = ", ".join(s.new_fields[:20]) + (" …" if len(s.new_fields) > 20 else "")
            lines.append(f"  new fields (schema drift): {shown}")
    return "\n".join(lines)
