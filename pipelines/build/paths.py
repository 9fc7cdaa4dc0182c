"""Where a build reads and writes: the dbt project in the repository, everything else under the data folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipelines.ingest.runner import RAW_DB

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
WAREHOUSE_DB = "warehouse.duckdb"
OPS_DB = "ops.sqlite"


@dataclass(frozen=True)
class BuildPaths:
    data_dir: Path
    project_dir: Path = PROJECT_DIR

    @property
    def warehouse(self) -> Path:
        return self.data_dir / WAREHOUSE_DB

    @property
    def raw(self) -> Path:
        return self.data_dir / RAW_DB

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

    def environment(self, threads: int) -> dict[str, str]:
        """The variables profiles.yml and dbt_project.yml read."""
        return {
            "Q2C_WAREHOUSE_PATH": str(self.warehouse),
            "Q2C_RAW_PATH": str(self.raw),
            "Q2C_OPS_PATH": str(self.ops),
            "Q2C_DBT_TARGET_PATH": str(self.target),
            "Q2C_DBT_THREADS": str(threads),
            # belt and braces with the CLI flags: dbt must never try the network
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_VERSION_CHECK": "false",
        }
