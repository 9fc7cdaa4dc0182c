"""``q2c sandbox``: generate scenarios and serve the three emulated systems."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import click

from pipelines import data_dir
from sandbox.cluster import DEFAULT_PORTS, VENDOR_NAMES, SandboxCluster
from sandbox.faults import PROFILES
from sandbox.fixtures import read_ground_truth
from sandbox.scenario_cache import SCALES, scenario_folder

SCALE_CHOICE = click.Choice(SCALES, case_sensitive=False)


@click.group(epilog="Example: q2c sandbox generate --scale S --seed 7 --out ./scenario")
def sandbox() -> None:
    """Local emulations of the billing, CRM and ERP APIs, and the scenario generator."""


@sandbox.command(epilog="Example: q2c sandbox generate --scale M --seed 7 --out ./scenario-m")
@click.option(
    "--scale", type=SCALE_CHOICE, default="S", show_default=True, help="S ≈ 50 customers, M ≈ 2,000, L ≈ 100k."
)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, byte-identical folder.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write.")
def generate(scale: str, seed: int, out: Path) -> None:
    """Write a fixture folder (the APIs' own JSON shapes) and its ground truth of injected exceptions."""
    from sandbox.scenario.generate import generate as run_generator

    started = time.perf_counter()
    manifest = run_generator(scale.upper(), seed, out)
    seconds = time.perf_counter() - started
    counts = manifest.get("counts", {})
    click.echo(f"wrote {out} (scale {scale.upper()}, seed {seed}) in {seconds:.1f}s")
    for key in sorted(counts):
        click.echo(f"  {key:<36} {counts[key]:>10,}")
    click.echo(f"  {'expected_exceptions.json':<36} {len(read_ground_truth(out)):>10,}")


@sandbox.command(
    epilog="\b\nExamples:\n  q2c sandbox serve --scale S --seed 7\n"
    "  q2c sandbox serve --fixtures ./scenario --faults flaky"
)
@click.option("--fixtures", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Serve this folder.")
@click.option("--scale", type=SCALE_CHOICE, default="S", show_default=True, help="Generate (or reuse) this scale.")
@click.option("--seed", type=int, default=7, show_default=True, help="Scenario and fault seed.")
@click.option("--faults", type=click.Choice(sorted(PROFILES)), default="none", show_default=True, help="Fault profile.")
@click.option("--billing-port", type=int, default=DEFAULT_PORTS["billing"], show_default=True)
@click.option("--crm-port", type=int, default=DEFAULT_PORTS["crm"], show_default=True)
@click.option("--erp-port", type=int, default=DEFAULT_PORTS["erp"], show_default=True)
@click.option(
    "--store-cache/--no-store-cache",
    default=True,
    show_default=True,
    help="Start from the stores saved in <fixtures>/.store-cache by an earlier load of the same folder.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    fixtures: Path | None,
    scale: str,
    seed: int,
    faults: str,
    billing_port: int,
    crm_port: int,
    erp_port: int,
    store_cache: bool,
) -> None:
    """Serve the three systems on 127.0.0.1 until interrupted (Ctrl-C or SIGTERM)."""
    root = data_dir.resolve(ctx.obj["data_dir"])
    if fixtures is None:
        fixtures = scenario_folder(root, scale.upper(), seed, echo=click.echo)
    ports = {"billing": billing_port, "crm": crm_port, "erp": erp_port}
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"loading {fixtures} ...")
    with SandboxCluster(
        fixtures, faults=faults, seed=seed, ports=ports, scratch_root=root / "sandbox", store_cache=store_cache
    ) as cluster:
        for endpoint in cluster.endpoints:
            click.echo(f"  {VENDOR_NAMES[endpoint.system]:<26} {endpoint.url:<24} token {endpoint.token}")
        click.echo(f"faults: {faults}; serving until Ctrl-C or SIGTERM")
        while not stop.wait(0.5):
            pass
        click.echo("stopping")
