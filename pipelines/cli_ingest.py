"""``q2c ingest``."""

from __future__ import annotations

import click

from pipelines import data_dir
from pipelines.ingest.report import format_summary
from pipelines.ingest.runner import SOURCES, run_ingest
from pipelines.stop_request import install_handlers, raise_if_stopped


@click.command(
    epilog="\b\nExamples:\n  q2c ingest               # all three sources\n  q2c ingest billing erp   # just these"
)
@click.argument("sources", nargs=-1, type=click.Choice(SOURCES))
@click.pass_context
def ingest(ctx: click.Context, sources: tuple[str, ...]) -> None:
    """Load the CRM, billing and ERP APIs into raw.duckdb, incrementally.

    Endpoints and credentials come from .dlt/config.toml and .dlt/secrets.toml (or SOURCES__<SOURCE>__*
    environment variables); by default they point at `q2c sandbox serve`. Exits 1 if any source failed.
    """
    root = data_dir.resolve(ctx.obj["data_dir"])
    restore_signals = install_handlers()  # SIGTERM, Ctrl-C: no backoff waited out, no further source started
    try:
        summaries = run_ingest(root, sources or SOURCES, progress=lambda line: click.echo(line, err=True))
        click.echo(format_summary(summaries))
        raise_if_stopped()  # the last source was stopped: exit as the signal asked, after its summary
    finally:
        restore_signals()
    ctx.exit(0 if all(s.ok for s in summaries) else 1)
