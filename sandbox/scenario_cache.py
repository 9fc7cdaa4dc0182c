"""Generated scenarios kept under the data folder, reused while the generator version is unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sandbox.fixtures import read_manifest

SCALES = ("S", "M", "L")


def scenario_folder(root: Path, scale: str, seed: int, *, echo: Callable[[str], None] = print) -> Path:
    """The fixture folder for (scale, seed) under ``root/scenarios``, generating it if absent or stale."""
    from sandbox.scenario.generate import GENERATOR_VERSION, generate

    folder = Path(root) / "scenarios" / f"{scale}-seed{seed}"
    manifest = read_manifest(folder)
    if manifest.get("generator_version") == GENERATOR_VERSION and manifest.get("scale") == scale:
        return folder
    echo(f"generating scenario {scale} seed {seed} into {folder} ...")
    generate(scale, seed, folder)
    return folder
