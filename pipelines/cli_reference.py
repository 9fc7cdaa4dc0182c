"""The CLI reference (docs/CLI.md) written from the commands' own --help, so the two cannot drift.

Regenerate with ``python -m pipelines.cli_reference``; a test fails when the file is stale.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click
from click.testing import CliRunner

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "CLI.md"


def commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)  # the public way to a group's commands, which q2c's imports lazily
        for name in command.list_commands(ctx):
            yield from commands(command.get_command(ctx, name), (*path, name))


def render() -> str:
    from pipelines.cli import cli

    runner = CliRunner()
    parts = [
        "# q2c command reference\n",
        "Generated from each command's `--help` by `python -m pipelines.cli_reference`; a test keeps it current.\n",
    ]
    for path, _command in commands(cli):
        result = runner.invoke(cli, [*path, "--help"], prog_name="q2c", terminal_width=100)
        title = " ".join(("q2c", *path))
        parts.append(f"## `{title}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)


def main() -> None:
    REFERENCE.parent.mkdir(exist_ok=True)
    REFERENCE.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {REFERENCE}\n")


if __name__ == "__main__":
    main()
