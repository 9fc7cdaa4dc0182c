"""The ``q2c`` command line: thin, each command calls functions the tests call too."""

from __future__ import annotations

import click

from pipelines.cli_build import build
from pipelines.cli_demo import demo
from pipelines.cli_exceptions import exceptions
from pipelines.cli_ingest import ingest
from pipelines.cli_push import push, replay
from pipelines.cli_report import report
from pipelines.cli_run import run
from pipelines.cli_sandbox import sandbox
from pipelines.cli_status import status


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
    epilog="Example: q2c sandbox serve --scale S --seed 7",
)
@click.option(
    "--data-dir",
    envvar="Q2C_DATA_DIR",
    default="q2c-data",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder holding all of q2c's state (env: Q2C_DATA_DIR).",
)
@click.version_option(package_name="q2c")
@click.pass_context
def cli(ctx: click.Context, data_dir: str) -> None:
    """q2c keeps CRM, subscription billing and the ERP consistent.

    The sandbox commands run local emulations of Stripe (billing), HubSpot (CRM) and NetSuite (ERP)
    with a generated company, so q2c can be tried without credentials.
    """
    ctx.obj = {"data_dir": data_dir}


cli.add_command(sandbox)
cli.add_command(demo)
cli.add_command(ingest)
cli.add_command(build)
cli.add_command(push)
cli.add_command(replay)
cli.add_command(run)
cli.add_command(status)
cli.add_command(exceptions)
cli.add_command(report)


def main() -> None:
    cli(prog_name="q2c")


if __name__ == "__main__":
    main()
