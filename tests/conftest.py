"""Shared by every test package: scenarios generated once per session (M takes about a minute on 2 cores).

``make test`` runs the suite on two pytest-xdist workers. A session fixture runs once per worker, so the
scenarios live in the folder the workers share and are generated under a file lock: the first worker to
ask generates, the other waits and reads the same folder.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's base temporary folder, common to all xdist workers (each has its own below it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def generated_scenario(tmp_path_factory) -> Callable[[str, int], Path]:
    """``(scale, seed)`` → the scenario folder, generated the first time any worker asks for it. Tests only
    read it."""
    from sandbox.scenario.generate import generate

    root = shared_folder(tmp_path_factory)

    def get(scale: str, seed: int) -> Path:
        out = root / f"scenario-{scale}-{seed}" / "scenario"
        with (root / f"scenario-{scale}-{seed}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not (out.parent / "complete").exists():
                shutil.rmtree(out, ignore_errors=True)  # a worker stopped halfway: start again
                generate(scale, seed, out)
                (out.parent / "complete").touch()
        return out

    return get


@pytest.fixture(autouse=True)
def _no_stop_left_asked() -> Iterator[None]:
    """A test that asks the process to stop (``pipelines.stop_request``) does not stop the tests after it."""
    from pipelines.stop_request import clear

    clear()
    yield
    clear()
