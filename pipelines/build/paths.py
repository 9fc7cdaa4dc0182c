"""Where a build reads and writes: the dbt project in the repository, everything else under the data folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipelines.data_dir import raw_path

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
WAREHOUSE_DB = "warehouse.duckdb"
OPS_DB = "ops.sqlite"

# DuckDB's own default is 80% of the machine's memory, which a build on a shared machine must not take: the
# warehouse build is capped, and spills what does not fit to a folder under the data folder instead.
# Both are overridable (environment): Q2C_DUCKDB_MEMORY_LIMIT (a DuckDB size, e.g. 4GB) and
# Q2C_DUCKDB_TEMP_DIRECTORY (a folder).
DEFAULT_MEMORY_LIMIT = "2GB"
# The build writes every table model again each run, and DuckDB tries each of its compressions on every column
# segment it writes. FSST (for strings of many distinct values: ids, JSON bodies) costs the most CPU: at L a build
# with nothing new took 54.9-58.5 s without it against 61.0-64.3 s with it (three each, alternating), for 11% more
# space (4.03 against 3.62 GiB used). Strings of few values still get dictionaries. Overridable:
# Q2C_DUCKDB_DISABLED_COMPRESSION (DuckDB's comma-separated list; empty: every method allowed).
DEFAULT_DISABLED_COMPRESSION = "fsst"


@dataclass(frozen=True)
class BuildPaths:
    data_dir: Path
    project_dir: Path = PROJECT_DIR

    @property
    def warehouse(self) -> Path:
        return self.data_dir / WAREHOUSE_DB

    @property
    def raw(self) -> Path:
        return raw_path(self.data_dir)

    @property
    def ops(self) -> Path:
        return self.data_dir / OPS_DB

    @property
    def target(self) -> Path:
        """dbt's target/ (manifest, run results, partial-parse state): never inside the repository."""
        return self.data_dir / "dbt" / "target"

    @property
    def logs(self) -> Path:
        return self.data_dir / "dbt" / "logs"

    @property
    def docs(self) -> Path:
        return self.data_dir / "dbt" / "docs"

    @property
    def spill(self) -> Path:
        """Where DuckDB spills what exceeds its memory limit during a build (emptied by DuckDB when it closes)."""
        return self.data_dir / "dbt" / "tmp"

    def duckdb_settings(self) -> dict[str, str]:
        """The DuckDB settings of a build (profiles.yml reads them from the environment): memory cap, spill, and
        the compressions not tried."""
        return {
            "memory_limit": os.environ.get("Q2C_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT,
            "temp_directory": os.environ.get("Q2C_DUCKDB_TEMP_DIRECTORY") or str(self.spill),
            # set but empty is a choice (every method), so not `or`
            "disabled_compression_methods": os.environ.get(
                "Q2C_DUCKDB_DISABLED_COMPRESSION", DEFAULT_DISABLED_COMPRESSION
            ),
        }

    def environment(self, threads: int) -> dict[str, str]:
        """The variables profiles.yml and dbt_project.yml read."""
        settings = self.duckdb_settings()
        return {
            "Q2C_WAREHOUSE_PATH": str(self.warehouse),
            "Q2C_RAW_PATH": str(self.raw),
            "Q2C_OPS_PATH": str(self.ops),
            "Q2C_DBT_TARGET_PATH": str(self.target),
            "Q2C_DBT_THREADS": str(threads),
            "Q2C_DUCKDB_MEMORY_LIMIT": settings["memory_limit"],
            "Q2C_DUCKDB_TEMP_DIRECTORY": settings["temp_directory"],
            "Q2C_DUCKDB_DISABLED_COMPRESSION": settings["disabled_compression_methods"],
            # belt and braces with the CLI flags: dbt must never try the network
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_VERSION_CHECK": "false",
        }
