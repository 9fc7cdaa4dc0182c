"""``q2c run``: the scheduled entry point (ingest → build → snapshot → push); the exit code tells the scheduler."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pipelines.run.exception_queue import SEVERITIES
from pipelines.run.exit_codes import ExitCode
from pipelines.run.logs import LOG_FORMATS, configure
from pipelines.stop_request import install_handlers

if TYPE_CHECKING:
    from pipelines.run.orchestrate import RunOutcome

EPILOG = """\b
Examples:
  q2c run                                   # what cron or a systemd timer calls
  q2c run --log-format json --fail-on-severity critical
  q2c --data-dir /var/lib/q2c run --skip push

\b
Exit codes:
""" + "\n".join(f"  {int(code):>3}  {code.meaning}" for code in ExitCode)


@click.command(epilog=EPILOG)
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="human",
    show_default=True,
    envvar="Q2C_LOG_FORMAT",
    help="human lines, or JSON lines (one object per line) for a log shipper; both on stderr.",
)
@click.option(
    "--fail-on-severity",
    type=click.Choice(SEVERITIES),
    default=None,
    help=f"Exit {int(ExitCode.EXCEPTIONS_AT_SEVERITY)} when open exceptions at or above this severity remain.",
)
@click.option("--dry-run", is_flag=True, help="Push plans what it would send and sends nothing.")
@click.option(
    "--skip",
    type=click.Choice(("ingest", "build", "push")),
    multiple=True,
    help="Leave a step out (repeatable); skipping build also skips the snapshot.",
)
@click.pass_context
def run(
    ctx: click.Context, log_format: str, fail_on_severity: str | None, dry_run: bool, skip: tuple[str, ...]
) -> None:
    """Run ingest → build → snapshot → push once, under a lock, recorded in the ops store.

    A second run started while one holds the lock exits at once with its own code and touches nothing.
    Each step's timing and counts go to the run history (`q2c status`); after a successful build the marts
    are published as a read-only snapshot for analysts. No credential is ever written to the log.
    """
    from pipelines import data_dir
    from pipelines.run.orchestrate import RunOptions, execute_run
    from pipelines.run.redact import dlt_secret_values

    logs = configure(log_format)
    try:
        root = data_dir.resolve(ctx.obj["data_dir"])
    except OSError as exc:
        click.echo(f"q2c run: cannot use the data folder: {exc}", err=True)
        ctx.exit(int(ExitCode.CONFIG_ERROR))
    # systemd stops a unit with SIGTERM: the run unwinds (recorded as interrupted) and exits 143, without waiting
    # for its requests' backoff (pipelines/stop_request.py); Ctrl-C alike
    restore_signals = install_handlers()
    try:
        options = RunOptions(dry_run=dry_run, fail_on_severity=fail_on_severity, skip=skip)
        outcome = execute_run(
            root,
            options,
            on_run_id=logs.set_run_id,
            # dlt is slow to import: read its secrets once the lock is ours, so a refused run exits at once
            on_locked=lambda: logs.add_secrets(dlt_secret_values()),
        )
        if log_format == "human" and outcome.steps:
            click.echo(format_steps(outcome))
    finally:
        logs.close()
        restore_signals()
    ctx.exit(int(outcome.exit_code))


def format_steps(outcome: RunOutcome) -> str:
    """The human summary on stdout: one line per step, then the exit code and what it means."""
    width = max(len(s.name) for s in outcome.steps)
    lines = [
        f"{s.name:<{width}}  {'ok' if s.result.ok else 'FAILED':<6} {s.seconds:>7.1f}s  {s.result.error or ''}".rstrip()
        for s in outcome.steps
    ]
    lines.append(f"run {outcome.run_id}: exit {int(outcome.exit_code)} ({outcome.exit_code.meaning})")
    return "\n".join(lines)
