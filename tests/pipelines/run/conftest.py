"""One sandbox (with secret tokens) per module, and the first full ``q2c run`` against it, which a second
``q2c run`` tries to join while it holds the lock. Tests read what those runs left behind."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.run.lock import LOCK_FILE
from sandbox.cluster import SandboxCluster
from tests.pipelines.conftest import start_cluster
from tests.pipelines.run.served import q2c, q2c_environment, secret_tokens

RUN_TIMEOUT = 900  # a full S run takes 1–2 minutes on two busy cores


@dataclass
class Served:
    folder: Path
    data_dir: Path
    cluster: SandboxCluster
    tokens: dict[str, str]
    env: dict[str, str]


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    seconds: float


@dataclass
class ConcurrentRuns:
    first: Finished
    second: Finished
    first_running_when_second_exited: bool


@pytest.fixture(scope="module")
def served(scenario_dir, tmp_path_factory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("q2c-run")
    cluster = start_cluster(scenario_dir, folder / "scratch")
    try:
        tokens = secret_tokens(cluster)
        yield Served(folder, folder / "data", cluster, tokens, q2c_environment(cluster, tokens, folder / "data"))
        errors = cluster.errors()
    finally:
        cluster.stop()
    assert errors == [], errors


def finish(process, started: float, timeout: float = RUN_TIMEOUT) -> Finished:
    out, err = process.communicate(timeout=timeout)
    return Finished(process.returncode, out, err, time.perf_counter() - started)


def wait_for_lock_holder(lock: Path, pid: int, process, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the first run ended before taking the lock"
        try:
            if json.loads(lock.read_text() or "{}").get("pid") == pid:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"no run took {lock} within {timeout}s")


@pytest.fixture(scope="module")
def concurrent_runs(served: Served) -> ConcurrentRuns:
    """``q2c run --log-format json`` twice: the second starts once the first holds the lock."""
    started = time.perf_counter()
    first = q2c("run", "--log-format", "json", env=served.env, cwd=served.folder)
    try:
        wait_for_lock_holder(served.data_dir / LOCK_FILE, first.pid, first)
        second_started = time.perf_counter()
        second = finish(q2c("run", "--log-format", "json", env=served.env, cwd=served.folder), second_started, 300)
        still_running = first.poll() is None
        return ConcurrentRuns(finish(first, started), second, still_running)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
