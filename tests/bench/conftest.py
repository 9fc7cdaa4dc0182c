"""One bench cycle at S for the whole package: the harness test reads its figures, and the baselines' own
tests (build SQL replay, reladiff) work on the data folder it leaves (after the full and the incremental run)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.cycle import main


@dataclass
class Cycle:
    result: dict
    root: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "work" / "data"


@pytest.fixture(scope="session")
def cycle_s(tmp_path_factory: pytest.TempPathFactory) -> Cycle:
    root = tmp_path_factory.mktemp("bench-cycle-S")
    out = root / "latest.json"
    argv = ["--scale", "S", "--fixtures", str(root / "S-7"), "--work", str(root / "work"), "--results", str(out)]
    returned = main(argv)
    assert json.loads(out.read_text()) == json.loads(json.dumps(returned, default=str))
    return Cycle(returned, root)
