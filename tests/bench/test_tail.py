"""bench.tail on the S cycle's data folder (a copy): the snapshot published alone and beside a push, the push's
postings all created, and the figures the command prints."""

from __future__ import annotations

import shutil

import pytest

from bench.tail import main
from pipelines.run.snapshot import snapshot_info, snapshot_path

pytestmark = pytest.mark.slow


def test_the_tail_publishes_the_snapshot_beside_a_push_of_every_posting(cycle_s, tmp_path, capsys) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(cycle_s.data_dir, data_dir)
    figures = main(["--data-dir", str(data_dir), "--postings", "60"])
    assert figures["postings"] >= 50
    for name in ("snapshot_alone", "push_alone", "snapshot_beside", "push_beside", "tail"):
        assert figures[f"{name}_seconds"] > 0, name
    # the tail is the longer of the two beside each other, measured around both
    assert figures["tail_seconds"] >= max(figures["snapshot_beside_seconds"], figures["push_beside_seconds"])
    info = snapshot_info(snapshot_path(data_dir))
    assert info is not None and info["run_id"].startswith("bench-tail-beside-")  # the last one published
    assert "beside each other" in capsys.readouterr().out
