"""``q2c build``."""

from __future__ import annotations

import click

from pipelines import data_dir


@click.command(
    epilog=(
        "\b\nExamples:\n"
        "  q2c build                                  # everything, as of now (UTC)\n"
        "  q2c build --now 2026-10-31T23:00:00Z       # reconcile as of a given moment\n"
        "  q2c build --select staging --full-refresh  # one layer, rebuilt from scratch\n"
        "  q2c build --docs                           # then write <data>/dbt/docs/static_index.html"
    )
)
@click.option("--now", help="Reference time for the reconciliation (ISO-8601; no zone means UTC). Default: now.")
@click.option("--select", "select", multiple=True, help="dbt node selection (repeatable), e.g. staging or +stg_x.")
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch.")
@click.option("--docs", is_flag=True, help="After a successful build, generate the dbt docs site (offline).")
@click.option("--unit-tests", is_flag=True, help="Also run the dbt unit tests (scheduled builds leave them out).")
@click.pass_context
def build(
    ctx: click.Context, now: str | None, select: tuple[str, ...], full_refresh: bool, docs: bool, unit_tests: bool
) -> None:
    """Build warehouse.duckdb from raw.duckdb with the dbt project, in-process.

    Runs seeds, models and tests in dependency order; prints one line per finished node, then a summary
    with the time split between SQL execution and dbt's own overhead. A failing model or test is named
    with its file, dbt's message and sample failing rows. Exits 1 if anything failed.
    """
    # dbt is imported here, not at module level: every other q2c command (and a refused run lock) starts fast
    from pipelines.build.dbt_session import DbtInvocationError
    from pipelines.build.docs import generate_docs
    from pipelines.build.report import format_summary
    from pipelines.build.runner import run_build

    root = data_dir.resolve(ctx.obj["data_dir"])
    try:
        result = run_build(
            root,
            now=now,
            select=select,
            full_refresh=full_refresh,
            unit_tests=unit_tests,
            progress=lambda line: click.echo(line, err=True),
        )
    except ValueError as exc:  # an unparsable --now
        raise click.BadParameter(str(exc), param_hint="--now") from exc
    click.echo(format_summary(result))
    if result.ok and docs:
        try:
            click.echo(f"docs: {generate_docs(root, now=result.q2c_now)}")
        except DbtInvocationError as exc:
            click.echo(f"docs: FAILED {exc}")
            ctx.exit(1)
    ctx.exit(0 if result.ok else 1)
