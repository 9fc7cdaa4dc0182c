"""Shared by every test package: scenarios generated once per session (M takes about a minute on 2 cores)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def generated_scenario(tmp_path_factory) -> Callable[[str, int], Path]:
    """``(scale, seed)`` → the scenario folder, generated the first time it is asked for. Tests only read it."""
    from sandbox.scenario.generate import generate

    folders: dict[tuple[str, int], Path] = {}

    def get(scale: str, seed: int) -> Path:
        if (scale, seed) not in folders:
            out = tmp_path_factory.mktemp(f"scenario-{scale}-{seed}") / "scenario"
            generate(scale, seed, out)
            folders[(scale, seed)] = out
        return folders[(scale, seed)]

    return get
