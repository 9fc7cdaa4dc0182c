"""``q2c push`` and ``q2c replay``: thin commands over reverse_etl.push."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from pipelines import data_dir

if TYPE_CHECKING:
    from reverse_etl.summary import PushSummary


def _finish(ctx: click.Context, run: Callable[[Callable[[], bool]], PushSummary]) -> None:
    """``run(should_stop)``; SIGTERM or Ctrl-C start no further posting (those in flight finish, recorded)."""
    from pipelines.stop_request import install_handlers, stop_requested
    from reverse_etl.erp_client import ErpAuthError

    restore_signals = install_handlers()
    try:
        summary = run(stop_requested)
    except ErpAuthError as exc:  # 401/403: nothing more can succeed; the message never holds the token
        click.echo(f"push stopped: {exc}", err=True)
        ctx.exit(1)
    except FileNotFoundError as exc:  # no warehouse yet
        click.echo(f"push: {exc}", err=True)
        ctx.exit(2)
    finally:
        restore_signals()
    click.echo(summary.format())
    ctx.exit(0 if summary.ok else 1)


@click.command(
    epilog=(
        "\b\nExamples:\n"
        "  q2c push --dry-run              # counts by record type and action, sample payloads; sends nothing\n"
        "  q2c push                        # send what is ready and new or changed\n"
        "  q2c push --repair EXCEPTION_ID  # apply billing's truth to an ERP record q2c did not create"
    )
)
@click.option("--dry-run", is_flag=True, help="Plan only: print counts by record type and action, send nothing.")
@click.option(
    "--repair",
    "repair",
    multiple=True,
    metavar="ID",
    help="Exception id, external id or billing id whose ERP record q2c takes over (repeatable).",
)
@click.pass_context
def push(ctx: click.Context, dry_run: bool, repair: tuple[str, ...]) -> None:
    """Send the ready publish postings to the ERP exactly once (ledger in <data-dir>/ops.sqlite).

    Order: customers, invoices, credit memos, payments, journals. Only postings whose payload hash changed
    are re-sent; records q2c did not create are never overwritten unless --repair names them. Validation
    errors are dead-lettered with the ERP's error (see `q2c replay`). Exits 1 on any rejection or unknown
    outcome, 2 without a warehouse.
    """
    from reverse_etl.push import push as run_push

    root = data_dir.resolve(ctx.obj["data_dir"])
    _finish(ctx, lambda should_stop: run_push(root, dry_run=dry_run, repair=repair, should_stop=should_stop))


@click.command(
    epilog=(
        "\b\nExamples:\n"
        "  q2c replay --all                 # every open dead letter, re-derived from the current marts\n"
        "  q2c replay bill-in_1AbC bill-py_2DeF"
    )
)
@click.argument("ids", nargs=-1, metavar="[EXTERNAL_ID ...]")
@click.option("--all", "replay_all", is_flag=True, help="Replay every open dead letter.")
@click.pass_context
def replay(ctx: click.Context, ids: tuple[str, ...], replay_all: bool) -> None:
    """Push dead-lettered postings again, re-derived from the current publish marts (after, say, a mapping fix)."""
    if not ids and not replay_all:
        raise click.UsageError("name external ids to replay, or --all")
    from reverse_etl.push import replay as run_replay

    root = data_dir.resolve(ctx.obj["data_dir"])
    _finish(ctx, lambda should_stop: run_replay(root, ids=list(ids), all=replay_all, should_stop=should_stop))
