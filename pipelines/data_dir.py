"""Where q2c keeps its state: one folder, from ``--data-dir``, else ``Q2C_DATA_DIR``, else ``./q2c-data``."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "Q2C_DATA_DIR"
DEFAULT = "q2c-data"
RAW_DB = "raw.duckdb"  # written by the ingest (dlt) only; read by the build and the status


def resolve(cli_value: str | os.PathLike[str] | None = None) -> Path:
    """The data folder, created if missing. Read at call time, never at import."""
    raw = cli_value or os.environ.get(ENV_VAR) or DEFAULT
    path = Path(raw).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def raw_path(data_dir: Path) -> Path:
    return Path(data_dir) / RAW_DB
