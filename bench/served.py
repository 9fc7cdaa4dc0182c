"""The sandbox in its own process, as a remote API would be: the benchmarked client never shares a
Python interpreter (or its GIL) with the server it measures."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sandbox.cluster import VENDOR_NAMES

_LINE = re.compile(r"^\s+(?P<name>.+?)\s+(?P<url>http://127\.0\.0\.1:\d+)\s+token (?P<token>\S+)")


@contextmanager
def served(
    fixtures: Path, data_dir: Path, *, faults: str = "none", store_cache: bool = True, timeout: float = 7200
) -> Iterator[dict]:
    """Yields {"billing": (url, token), "crm": ..., "erp": ...} while `q2c sandbox serve` runs."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "--data-dir", str(data_dir), "sandbox", "serve",
         "--fixtures", str(fixtures), "--faults", faults,
         "--billing-port", "0", "--crm-port", "0", "--erp-port", "0",
         "--store-cache" if store_cache else "--no-store-cache"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    by_name = {name: system for system, name in VENDOR_NAMES.items()}
    endpoints: dict[str, tuple[str, str]] = {}
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"sandbox exited early with {proc.wait()}")
            match = _LINE.match(line)
            if match:
                endpoints[by_name[match["name"]]] = (match["url"], match["token"])
            if "serving until" in line:
                break
        yield endpoints
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
