"""`dbt docs generate` into the data folder, offline: a single static page that needs no server."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from pipelines.build.dbt_session import DbtInvocationError, DbtSession
from pipelines.build.paths import PROJECT_DIR, BuildPaths
from pipelines.build.reference_time import iso_utc


def generate_docs(
    data_dir: str | os.PathLike[str],
    *,
    now: datetime | str | None = None,
    project_dir: Path | None = None,
) -> Path:
    """Writes ``<data>/dbt/docs/static_index.html`` (manifest and catalog inlined) and returns its path.

    The catalog is read from ``warehouse.duckdb``, so run after a build to see the columns' types.
    """
    paths = BuildPaths(Path(data_dir).resolve(), project_dir or PROJECT_DIR)
    paths.docs.mkdir(parents=True, exist_ok=True)
    with DbtSession(paths, dbt_vars={"q2c_now": iso_utc(now)}) as session:
        session.parse()
        outcome = session.invoke(["docs", "generate", "--static"], target_path=str(paths.docs))
    if not outcome.success:
        raise DbtInvocationError(f"dbt docs generate failed: {outcome.exception}")
    return paths.docs / "static_index.html"
