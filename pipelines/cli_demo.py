"""``q2c demo``."""

from __future__ import annotations

import click

from pipelines import data_dir
from pipelines.demo import run_demo


@click.command(epilog="Example: q2c demo --seed 7")
@click.option("--seed", type=int, default=7, show_default=True, help="Scenario seed.")
@click.pass_context
def demo(ctx: click.Context, seed: int) -> None:
    """Run the whole q2c cycle twice on a generated company served by the three sandboxes.

    Generates (or reuses) an S scenario, serves it on free loopback ports, runs ingest, build, snapshot and
    push, checks the exceptions against the scenario's ground truth, changes data through the systems' APIs,
    runs again incrementally and prints what was found and sent. Exits 1 if anything did not match.
    """
    ok = run_demo(data_dir.resolve(ctx.obj["data_dir"]), seed=seed, echo=click.echo)
    ctx.exit(0 if ok else 1)
