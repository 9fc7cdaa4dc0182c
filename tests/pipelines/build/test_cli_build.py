"""`q2c build` on the command line: progress, summary and exit codes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from tests.pipelines.build.conftest import fresh_data_dir


def test_an_unparsable_now_is_refused_before_dbt_runs(tmp_path):
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "build", "--now", "last tuesday"])
    assert result.exit_code == 2 and "--now" in result.output


def test_without_raw_data_the_build_exits_1_and_says_why(tmp_path):
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "build"])
    assert result.exit_code == 1 and "q2c ingest" in result.output


@pytest.mark.slow
def test_cli_builds_the_selected_nodes_and_prints_the_summary(raw_db, tmp_path):
    data = fresh_data_dir(raw_db, tmp_path / "data")
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data), "build", "--select", "staging.ops", "--now", "2026-10-31T23:00:00Z"]
    )
    assert result.exit_code == 0, result.output
    assert "build: ok" in result.output and "stg_ops__postings" in result.output
    assert "q2c_now 2026-10-31T23:00:00Z" in result.output and "SQL execution" in result.output
