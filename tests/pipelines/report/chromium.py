"""Headless Chromium for the report tests: installed from Debian's package when missing, launched offline."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# nothing may reach the network: no QUIC, no background fetches, no component or sync updates
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--force-device-scale-factor=1",  # one CSS pixel = one screenshot pixel, so boxes map onto the PNG
    "--hide-scrollbars",
)


def ensure_chromium() -> str | None:
    """Install Debian's ``chromium`` when absent; returns why it is unavailable, or None when it is ready."""
    if CHROMIUM.exists():
        return None
    if shutil.which("apt-get") is None:
        return "no /usr/bin/chromium and no apt-get to install Debian's chromium package"
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0 and command[1] == "install":
            return f"`apt-get install -y chromium` failed ({done.returncode}): {done.stderr[-500:]}"
    return None if CHROMIUM.exists() else "apt-get reported success but /usr/bin/chromium is still absent"


def run_chromium(url: str, profile: Path, *extra: str, window: tuple[int, int] = (1280, 2400)) -> str:
    """Run one headless Chromium command on ``url``; returns its stdout (the DOM for ``--dump-dom``)."""
    command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", f"--window-size={window[0]},{window[1]}"]
    done = subprocess.run([*command, *extra, url], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
