"""Where q2c keeps its state: one folder, from ``--data-dir``, else ``Q2C_DATA_DIR``, else ``./q2c-data``."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "Q2C_DATA_DIR"
DEFAULT = "q2c-data"


def resolve(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """The data folder, created if missing. Read at call time, never at import."""
    raw = cli_value or os.environ.get(ENV_VAR) or DEFAULT
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path
