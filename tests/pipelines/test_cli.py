"""The command line: every command documented with an example; the data folder rules."""

from __future__ import annotations

import click
from click.testing import CliRunner

from pipelines import data_dir
from pipelines.cli import cli


def walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from walk(sub, (*path, name))


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    commands = list(walk(cli))
    assert len(commands) >= 4
    for path, command in commands:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert command.help, f"q2c {' '.join(path)} has no help text"
        assert "Example" in result.output and "q2c " in result.output, f"q2c {' '.join(path)} has no example"


def test_data_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("Q2C_DATA_DIR", str(tmp_path / "from-env"))
    assert data_dir.resolve() == tmp_path / "from-env"
    assert data_dir.resolve(tmp_path / "from-flag") == tmp_path / "from-flag"
    assert (tmp_path / "from-flag").is_dir()
    monkeypatch.delenv("Q2C_DATA_DIR")
    monkeypatch.chdir(tmp_path)
    assert data_dir.resolve() == tmp_path / "q2c-data"


def test_unknown_fault_profile_is_refused_with_the_choices():
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--faults", "chaotic"])
    assert result.exit_code == 2
    assert "flaky" in result.output and "hostile" in result.output


def test_the_cli_reference_is_what_help_says():
    from pipelines.cli_reference import REFERENCE, render

    assert REFERENCE.read_text(encoding="utf-8") == render(), "docs/CLI.md is stale: python -m pipelines.cli_reference"
