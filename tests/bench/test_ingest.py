"""The ingest benchmark (bench/ingest.py) at S: each repeat ingests the three sources as `q2c ingest` does and
replays exactly the requests it made; the figure is the median of the repeats."""

from __future__ import annotations

import json
from pathlib import Path

from bench import ingest


def test_each_repeat_ingests_every_source_and_replays_its_requests(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ingest, "RESULTS", tmp_path / "results")
    argv = ["--scale", "S", "--repeat", "2"]  # the S scenario generated for the run
    monkeypatch.setattr("sys.argv", ["ingest", *argv])
    ingest.main()
    out = json.loads((tmp_path / "results" / "ingest-S.json").read_text())
    assert len(out["runs"]) == 2 and out["ratios"] == sorted(r["ratio"] for r in out["runs"])
    assert abs(out["ratio"] - (out["ratios"][0] + out["ratios"][1]) / 2) <= 0.001  # the median of two
    for run in out["runs"]:
        assert set(run["sources"]) == {"billing", "erp", "crm"}
        for figures in run["sources"].values():
            assert figures["rows"] > 0 and figures["pages"] > 0 and figures["bare_seconds"] > 0
        assert run["bare_seconds"] == round(sum(s["bare_seconds"] for s in run["sources"].values()), 2)
        assert abs(run["ratio"] - run["bare_seconds"] / run["ingest_wall_seconds"]) < 0.01
    # the same scenario read twice: the same rows
    assert out["runs"][0]["sources"]["erp"]["rows"] == out["runs"][1]["sources"]["erp"]["rows"]
