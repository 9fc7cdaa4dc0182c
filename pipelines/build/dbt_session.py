"""dbt in-process: one project against one data folder, one invocation at a time, the manifest parsed once.

dbt reads its paths from environment variables (profiles.yml), and its adapter keeps DuckDB open in the
process between invocations; so a session sets the variables for its lifetime, serialises invocations
with a process-wide lock, and closes DuckDB when it ends — otherwise the process would keep
``warehouse.duckdb`` open for writing and ``raw.duckdb`` attached, and block the next ingest.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner, dbtRunnerResult
from dbt.contracts.graph.manifest import Manifest
from dbt_common.events.base_types import EventMsg

from pipelines.build.paths import BuildPaths

_ONE_AT_A_TIME = threading.RLock()

# Vars that change on every run. dbt re-parses the whole project when --vars differ from the last parse,
# so these are left out of the parse (the build passes them; they are read when SQL compiles, not parsed).
PER_RUN_VARS = ("q2c_now",)

EventCallback = Callable[[EventMsg], None]

# dbt's partial-parse state (in target/) keeps the project's absolute path, and reads the seeds from it: a data
# folder built by a project at another path (q2c installed again elsewhere, a worktree since removed) fails every seed
# ("No files found that match the pattern …/seeds/…csv"). So the project a parse was of is kept beside it, and the
# state of another project's parse is dropped (the next parse is a full one).
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
PARSED_PROJECT_FILE = "q2c_parsed_project.txt"


class DbtInvocationError(RuntimeError):
    """dbt could not run at all (bad project, unparsable YAML, missing profile): not a failing node."""


def release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open between invocations (it has no public call for this)."""
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
        DuckDBConnectionManager.close_all_connections()


class DbtSession:
    def __init__(
        self,
        paths: BuildPaths,
        *,
        dbt_vars: dict[str, Any] | None = None,
        threads: int = 2,
        callbacks: Sequence[EventCallback] = (),
    ) -> None:
        self.paths = paths
        self.dbt_vars = dict(dbt_vars or {})
        self.threads = threads
        self.callbacks = list(callbacks)
        self.manifest: Manifest | None = None
        self._saved_env: dict[str, str | None] = {}

    def __enter__(self) -> DbtSession:
        _ONE_AT_A_TIME.acquire()
        try:
            for directory in (self.paths.target, self.paths.logs):
                directory.mkdir(parents=True, exist_ok=True)
            for key, value in self.paths.environment(self.threads).items():
                self._saved_env[key] = os.environ.get(key)
                os.environ[key] = value
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            release_duckdb()
        finally:
            for key, value in self._saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            _ONE_AT_A_TIME.release()

    def common_args(self, target_path: str | None = None, *, parsing: bool = False) -> list[str]:
        project = str(self.paths.project_dir)
        dbt_vars = {k: v for k, v in self.dbt_vars.items() if not (parsing and k in PER_RUN_VARS)}
        return [
            "--project-dir", project,
            "--profiles-dir", project,
            "--target-path", target_path or str(self.paths.target),
            "--log-path", str(self.paths.logs),
            "--vars", json.dumps(dbt_vars, sort_keys=True),
            "--threads", str(self.threads),
            "--no-send-anonymous-usage-stats",
            "--no-version-check",
            "--no-use-colors",
            # the console is ours (progress from events); dbt's full log still goes to <data>/dbt/logs
            "--log-level", "none",
            "--log-level-file", "debug",  # dbt's default for the file, which --log-level would also silence
        ]  # fmt: skip

    def parse(self) -> Manifest:
        recorded = self.paths.target / PARSED_PROJECT_FILE
        project = str(self.paths.project_dir.resolve())
        if not recorded.exists() or recorded.read_text(encoding="utf-8") != project:
            (self.paths.target / PARTIAL_PARSE_FILE).unlink(missing_ok=True)
        result = self._invoke(["parse", *self.common_args(parsing=True)])
        if not result.success or not isinstance(result.result, Manifest):
            raise DbtInvocationError(f"dbt parse failed: {result.exception}")
        recorded.write_text(project, encoding="utf-8")
        self.manifest = result.result
        return self.manifest

    def invoke(self, command: Sequence[str], *, target_path: str | None = None) -> dbtRunnerResult:
        """Run a dbt command (e.g. ``["build", "--select", "staging"]``) with the parsed manifest."""
        if self.manifest is None:
            self.parse()
        return self._invoke([*command, *self.common_args(target_path)])

    def list_models(self, select: Sequence[str]) -> set[str]:
        """The names of the models ``--select`` picks (``dbt ls``, which takes no ``--threads``)."""
        args = self.common_args()
        at = args.index("--threads")
        del args[at : at + 2]
        result = self._invoke(["ls", "--select", *select, "--resource-type", "model", "--output", "name", *args])
        if not result.success:
            raise DbtInvocationError(f"dbt ls failed: {result.exception}")
        return {str(name).rsplit(".", 1)[-1] for name in (result.result or [])}

    def _invoke(self, args: list[str]) -> dbtRunnerResult:
        runner = dbtRunner(manifest=self.manifest, callbacks=self.callbacks)
        return runner.invoke(args)
