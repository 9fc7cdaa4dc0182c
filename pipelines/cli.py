"""The ``q2c`` command line: thin, each command calls functions the tests call too."""

from __future__ import annotations

import importlib

import click

# each command's module, imported only when the command runs or a help page lists it: `q2c status` or
# `q2c exceptions` must not pay for importing dlt and the sources (about 1.2 s) to read two files
COMMANDS = {
    "sandbox": "pipelines.cli_sandbox:sandbox",
    "demo": "pipelines.cli_demo:demo",
    "ingest": "pipelines.cli_ingest:ingest",
    "build": "pipelines.cli_build:build",
    "push": "pipelines.cli_push:push",
    "replay": "pipelines.cli_push:replay",
    "run": "pipelines.cli_run:run",
    "status": "pipelines.cli_status:status",
    "exceptions": "pipelines.cli_exceptions:exceptions",
    "report": "pipelines.cli_report:report",
}


class LazyGroup(click.Group):
    """A group whose subcommands come from ``COMMANDS``, each imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attribute = COMMANDS[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
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


def main() -> None:
    cli(prog_name="q2c")


if __name__ == "__main__":
    main()
