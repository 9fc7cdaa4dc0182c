from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.scenario.generate import generate

SEED = 7


@pytest.fixture(scope="session")
def scenario_s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One S scenario shared by the read-only tests (generation takes about half a second)."""
    out = tmp_path_factory.mktemp("scenario_s")
    generate("S", SEED, out)
    return out
