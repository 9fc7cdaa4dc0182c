"""Incremental models, rebuilt from scratch when the SQL that built their rows changes.

A model whose config has ``meta: {rebuild_on_change: true}`` (``staging_incremental_config`` and
``publish_incremental_config`` in ``dbt_project/macros/incremental.sql``) keeps the rows it built and builds
only the rows whose input is new or changed. Those rows are only right for the SQL that built them: after the
model, a model it reads (directly or not), a macro, a seed or the project's vars changed (or dbt did), old rows and
new rows would come from two versions of the model. Upstream SQL counts too because a model may find its changed
inputs by their raw rows' sequences (``invoices`` by ``_q2c_load_seq``): a staging model whose SQL changed gives
other values for rows whose sequence did not move. So each such model's fingerprint (its own checksum and those of
every model, snapshot and seed upstream of it, ``dbt_project.yml``, every macro and seed file, the dbt versions)
is kept in ``<data>/dbt/q2c_incremental.json`` when it builds; before a build, a model whose fingerprint differs
from the recorded one, or has none, has its table dropped, and dbt builds it in full.

A model whose history is the point (the exception queue) is not marked, and never dropped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import duckdb

from pipelines.build.paths import BuildPaths

STATE_FILE = "q2c_incremental.json"  # in <data>/dbt/, beside target/: {unique_id: fingerprint}
META_KEY = "rebuild_on_change"
SHARED_INPUTS = ("dbt_project.yml", "macros", "seeds")  # what every model's SQL may depend on (vars: the yml)


@dataclass(frozen=True)
class Tracked:
    unique_id: str
    name: str
    schema: str
    identifier: str
    fingerprint: str


def tracked_models(manifest: Any, project_dir: Path) -> list[Tracked]:
    """The models marked ``rebuild_on_change``, each with the fingerprint of what builds its rows."""
    shared = _shared_digest(project_dir)
    tracked = []
    for node in manifest.nodes.values():
        if node.resource_type != "model" or not (node.config.meta or {}).get(META_KEY):
            continue
        upstream = "\n".join(
            f"{uid}={manifest.nodes[uid].checksum.checksum}" for uid in sorted(_upstream(manifest, node.unique_id))
        )
        digest = hashlib.sha256(f"{node.checksum.checksum}\n{upstream}\n{shared}".encode()).hexdigest()
        tracked.append(Tracked(node.unique_id, node.name, node.schema, node.alias or node.name, digest))
    return sorted(tracked, key=lambda t: t.unique_id)


def _upstream(manifest: Any, unique_id: str) -> set[str]:
    """The nodes with SQL (models, snapshots, seeds) that ``unique_id`` reads, directly or through others."""
    found: set[str] = set()
    pending = [unique_id]
    while pending:
        node = manifest.nodes[pending.pop()]
        for parent in getattr(node.depends_on, "nodes", ()):  # a seed depends on macros only
            if parent in manifest.nodes and parent not in found:
                found.add(parent)
                pending.append(parent)
    return found


def _shared_digest(project_dir: Path) -> str:
    digest = hashlib.sha256()
    for package in ("dbt-core", "dbt-duckdb"):
        digest.update(f"{package}=={version(package)}\n".encode())
    for name in SHARED_INPUTS:
        top = project_dir / name
        for path in [top] if top.is_file() else sorted(top.rglob("*")):
            if path.is_file():
                digest.update(f"{path.relative_to(project_dir)}\n".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _state_path(paths: BuildPaths) -> Path:
    return paths.target.parent / STATE_FILE


def recorded(paths: BuildPaths) -> dict[str, str]:
    try:
        return dict(json.loads(_state_path(paths).read_text(encoding="utf-8")))
    except (FileNotFoundError, ValueError):
        return {}


def drop_stale(paths: BuildPaths, tracked: Iterable[Tracked], selected: set[str] | None = None) -> list[str]:
    """Drop the tables of tracked models whose fingerprint is not the recorded one (only those ``selected``, by
    name, when a build selects); their names. dbt then builds them in full."""
    known = recorded(paths)
    stale = [t for t in tracked if known.get(t.unique_id) != t.fingerprint and (selected is None or t.name in selected)]
    if not stale or not paths.warehouse.exists():
        return [t.name for t in stale]
    with duckdb.connect(str(paths.warehouse)) as con:
        for t in stale:
            row = con.execute(
                "select table_type from information_schema.tables where table_schema = ? and table_name = ?",
                [t.schema, t.identifier],
            ).fetchone()
            if row is not None:
                kind = "view" if row[0] == "VIEW" else "table"
                con.execute(f'drop {kind} "{t.schema}"."{t.identifier}"')
    return [t.name for t in stale]


def record_built(paths: BuildPaths, tracked: Iterable[Tracked], statuses: dict[str, str]) -> None:
    """Record the fingerprint of each tracked model that built (``statuses``: unique_id → dbt status); forget the
    one of a model whose build failed, so the next build starts it from scratch."""
    state = recorded(paths)
    for t in tracked:
        status = statuses.get(t.unique_id)
        if status == "success":
            state[t.unique_id] = t.fingerprint
        elif status is not None:
            state.pop(t.unique_id, None)
    path = _state_path(paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    temporary.replace(path)
