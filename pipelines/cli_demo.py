"""``q2c demo``."""

from __future__ import annotations

import click

from pipelines import data_dir
from pipelines.demo import run_demo


@click.command(epilog="Example: q2c demo --seed 7")
@click.option("--seed", type=int, default=7, show_default=True, help="Scenario seed.")
@click.pass_context
def demo(ctx: click.Context, seed: int) -> None:
    """Generate a small company, serve it from the three sandboxes, and show what each system holds."""
    ok = run_demo(data_dir.resolve(ctx.obj["data_dir"]), seed=seed, echo=click.echo)
    ctx.exit(0 if ok else 1)
