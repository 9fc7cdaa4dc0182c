"""The command line: every command documented with an example; the data folder rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from pipelines import data_dir
from pipelines.cli import cli
from pipelines.cli_reference import commands as walk


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    commands = list(walk(cli))
    assert len(commands) >= 4
    for path, command in commands:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert command.help, f"q2c {' '.join(path)} has no help text"
        assert "Example" in result.output and "q2c " in result.output, f"q2c {' '.join(path)} has no example"


def test_every_command_is_listed_and_each_imports_its_own_module_only(tmp_path):
    """`q2c --help` lists all the commands, and a command imports what it needs: reading the status, the
    exceptions or the report does not import dlt and the sources (a fresh interpreter, since this one has)."""
    listed = CliRunner().invoke(cli, ["--help"]).output
    for name in ("sandbox", "demo", "ingest", "build", "push", "replay", "run", "status", "exceptions", "report"):
        assert f"  {name} " in listed, name
    probe = (
        "import json, sys\n"
        "from click.testing import CliRunner\n"
        "from pipelines.cli import cli\n"
        "result = CliRunner().invoke(cli, sys.argv[1:])\n"
        "print(json.dumps([result.exit_code, sorted({m.split('.')[0] for m in sys.modules} & {'dlt', 'dbt'})]))\n"
    )
    repo = Path(__file__).resolve().parents[2]
    data = str(tmp_path / "data")
    # on an empty data folder: the status reports nothing yet, the exceptions ask for a run first (exit 1)
    for args, expected in ((["status"], 0), (["exceptions"], 1), (["report", "--help"], 0), (["push", "--help"], 0)):
        done = subprocess.run(
            [sys.executable, "-c", probe, "--data-dir", data, *args], cwd=repo, capture_output=True, text=True
        )
        exit_code, heavy = json.loads(done.stdout.strip().splitlines()[-1])
        assert heavy == [], (args, heavy)
        assert exit_code == expected, (args, done.stdout, done.stderr)
    ingest = subprocess.run([sys.executable, "-c", probe, "ingest", "--help"], cwd=repo, capture_output=True, text=True)
    assert json.loads(ingest.stdout.strip().splitlines()[-1]) == [0, ["dlt"]]  # the probe sees the imports


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
