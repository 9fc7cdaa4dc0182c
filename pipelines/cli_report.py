"""``q2c report``."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(
    epilog="\b\nExamples:\n  q2c report                       # writes <data>/report.html\n"
    "  q2c --data-dir /var/lib/q2c report --out /srv/share/q2c-report.html"
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the HTML file. [default: <data>/report.html]",
)
@click.pass_context
def report(ctx: click.Context, out: Path | None) -> None:
    """Write one self-contained HTML report for controllers.

    Open exceptions by type and severity, amount at risk by subsidiary (USD), exception aging, posting
    completeness and payment sync lag over time, run history and the top exceptions with what to do about
    them. Reads the analysts' snapshot and the ops store only: safe while a run is going on. The file
    needs no network to open (inline CSS and SVG charts, no scripts).
    """
    from pipelines import data_dir
    from pipelines.report import write_report

    written = write_report(data_dir.resolve(ctx.obj["data_dir"]), out)
    click.echo(f"Report written to {written}")
