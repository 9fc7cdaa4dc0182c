"""``q2c status``."""

from __future__ import annotations

import json

import click

from pipelines.run.status import Status, read_status


@click.command(epilog="\b\nExamples:\n  q2c status\n  q2c status --runs 20 --format json")
@click.option("--runs", "runs", type=click.IntRange(1, 1000), default=5, show_default=True, help="Recent runs shown.")
@click.option("--dead-letters", type=click.IntRange(0), default=10, show_default=True, help="Open dead letters listed.")
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True)
@click.pass_context
def status(ctx: click.Context, runs: int, dead_letters: int, fmt: str) -> None:
    """Recent runs with their steps, freshness per source, the ERP ledger by state, open dead letters.

    Reads only: safe to call while a run is going on.
    """
    from pipelines import data_dir

    result = read_status(data_dir.resolve(ctx.obj["data_dir"]), runs=runs, dead_letters=dead_letters)
    click.echo(json.dumps(result.as_dict(), indent=2, default=str) if fmt == "json" else format_status(result))


def format_status(s: Status) -> str:
    lines = ["Recent runs:"]
    if not s.runs:
        lines.append("  none yet (q2c run)")
    for r in s.runs:
        took = sum(step.seconds or 0 for step in r.steps)
        exit_code = "" if r.exit_code is None else f" exit {r.exit_code}"
        lines.append(f"  {r.run_id}  {r.started_at[:19]}Z  {r.outcome}{exit_code}  {took:.1f}s")
        for step in r.steps:
            counts = ", ".join(f"{k}={v:,}" for k, v in step.counts.items() if isinstance(v, int) and v)
            tail = f"  {step.error}" if step.error else (f"  {counts}" if counts else "")
            lines.append(f"    {step.step:<16} {step.outcome:<9} {step.seconds or 0:>7.1f}s{tail}")
    lines.append("Freshness (UTC):")
    lines.append(f"  {'source':<8} {'last successful ingest':<23} {'last load':<22} latest row")
    for f in s.freshness:
        succeeded = f"{f.last_successful_ingest[:19]}Z" if f.last_successful_ingest else "never (by q2c run)"
        lines.append(f"  {f.source:<8} {succeeded:<23} {f.last_load or '-':<22} {f.latest_row_at or '-'}")
        if f.note:
            lines.append(f"    ({f.note})")
    lines.append("ERP ledger (postings by state):")
    lines += [f"  {state:<12} {n:>8,}" for state, n in s.ledger.items()] or ["  empty (nothing pushed yet)"]
    lines.append(f"Dead letters awaiting replay: {s.dead_letters_open}")
    for d in s.dead_letters:
        message = (d["error_message"] or "")[:100]
        lines.append(f"  {d['record_type']} {d['external_id']}  {d['error_code'] or ''}  {message}".rstrip())
    if s.dead_letters_open > len(s.dead_letters):
        lines.append(f"  … and {s.dead_letters_open - len(s.dead_letters)} more (q2c replay --all)")
    if s.snapshot:
        lines.append(f"Snapshot: {s.snapshot['path']} (run {s.snapshot['run_id']}, {s.snapshot['published_at']})")
    else:
        lines.append("Snapshot: none yet")
    return "\n".join(lines)
