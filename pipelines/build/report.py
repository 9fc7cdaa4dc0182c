"""The text `q2c build` prints: outcome, node counts, timing split, then each failure in full."""

from __future__ import annotations

from pipelines.build.runner import BuildResult

_ORDER = ("success", "pass", "warn", "error", "fail", "skipped")


def format_summary(result: BuildResult) -> str:
    verdict = "ok" if result.ok else "FAILED"
    counts = ", ".join(
        f"{result.counts[s]} {s}" for s in (*_ORDER, *sorted(set(result.counts) - set(_ORDER))) if s in result.counts
    )
    scope = f" (select: {' '.join(result.select)})" if result.select else ""
    lines = [
        f"build: {verdict} — {result.nodes} node(s){': ' + counts if counts else ''}{scope}",
        f"  q2c_now {result.q2c_now}; warehouse {result.warehouse}",
        f"  {result.timing.summary()}",
    ]
    if result.rebuilt:
        lines.append(f"  built in full (their SQL changed since they last built): {', '.join(result.rebuilt)}")
    if result.error:
        lines.append(f"  ERROR {result.error}")
    for failure in result.failures + result.warnings:
        lines += ["", failure.describe()]
    return "\n".join(lines)
