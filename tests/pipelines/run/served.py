"""A sandbox cluster whose tokens are secrets only the test knows, and the environment that points
``q2c`` (a real subprocess) at it through dlt's documented variables."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from sandbox.cluster import SandboxCluster

REPO = Path(__file__).resolve().parents[3]
# dlt's variable for each source's credential (see .dlt/secrets.toml.example)
TOKEN_VARIABLES = {
    "billing": "SOURCES__BILLING__API_KEY",
    "crm": "SOURCES__CRM__ACCESS_TOKEN",
    "erp": "SOURCES__ERP__ACCESS_TOKEN",
}


def secret_tokens(cluster: SandboxCluster) -> dict[str, str]:
    """Give each running sandbox a fresh token (no vendor shape, so only value-based redaction can hide it)."""
    tokens = {}
    for system, server in cluster.servers.items():
        tokens[system] = f"q2c-test-secret-{system}-{uuid.uuid4().hex[:12]}"
        server.app.token = tokens[system]
    return tokens


def q2c_environment(cluster: SandboxCluster, tokens: dict[str, str], data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    for endpoint in cluster.endpoints:
        env[f"SOURCES__{endpoint.system.upper()}__BASE_URL"] = endpoint.url
        env[TOKEN_VARIABLES[endpoint.system]] = tokens.get(endpoint.system, endpoint.token)
    env["Q2C_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = str(REPO)  # the checkout under test, whatever the installed copy says
    env["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    return env


def q2c(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """``q2c ARGS`` as a scheduler would start it (own process, own stdout/stderr)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
