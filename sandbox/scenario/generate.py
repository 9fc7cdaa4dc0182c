"""Generate a scenario fixture folder: a coherent company at a scale and seed, with injected drift and ground truth.

``generate("S", 7, out)`` writes ``out/{billing,crm,erp}/*.jsonl``, ``manifest.json`` and
``expected_exceptions.json`` (format: :mod:`sandbox.fixtures`). Same (scale, seed, as_of) → byte-identical
folder: the instant is a fixed default (never wall time), every customer has its own RNG, and output order
follows the customer index. Customers are generated and written one at a time (streaming), so memory stays
flat from S to L.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from sandbox.fixtures import GROUND_TRUTH, MANIFEST, write_json
from sandbox.scenario.company import (
    DEFAULT_AS_OF,
    SCALES,
    accounting_periods,
    month_key,
    ts,
    unmapped_products,
    utc,
)
from sandbox.scenario.emit_billing import BillingRenderer, build_catalog
from sandbox.scenario.emit_crm import CrmRenderer, crm_ids, crm_products
from sandbox.scenario.emit_erp import GLOBAL_TRANSACTION_BASE, ErpRenderer, erp_customer_id
from sandbox.scenario.ground_truth import GroundTruth
from sandbox.scenario.plan import plan_injections, unmapped_per_subsidiary
from sandbox.scenario.simulate import Context, simulate_customer
from sandbox.scenario.writer import FixtureWriter

GENERATOR_VERSION = "1"


def generate(scale: str, seed: int, out: Path, *, as_of: datetime | None = None) -> dict:
    """Write the scenario to ``out`` (replacing its system folders) and return the manifest."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(SCALES)}")
    instant = (as_of or DEFAULT_AS_OF).astimezone(UTC).replace(microsecond=0)
    if instant.day < 12:
        raise ValueError("as_of must be at least 12 days into its month (the injected drift needs an open month)")
    out = Path(out)
    for system in ("billing", "crm", "erp"):
        if (out / system).exists():
            shutil.rmtree(out / system)
    out.mkdir(parents=True, exist_ok=True)
    config = SCALES[scale]
    as_of_ts = ts(instant)
    unmapped = unmapped_products(unmapped_per_subsidiary(config.customers))
    catalog, catalog_objects = build_catalog(seed, scale, as_of_ts, unmapped)
    ctx = Context(seed, config, as_of_ts, catalog, accounting_periods(instant))
    prices = {obj["id"]: obj for collection, obj in catalog_objects if collection == "prices"}
    plan = plan_injections(config.customers)
    truth = GroundTruth()
    billing, crm, erp = BillingRenderer(ctx, prices), CrmRenderer(ctx), ErpRenderer(ctx, catalog)
    fees: dict[tuple[str, str, str], int] = {}
    with FixtureWriter(out) as writer:
        writer.write("billing", catalog_objects)
        writer.write("crm", (("products", p) for p in crm_products(ctx, catalog, catalog_objects[0][1]["created"])))
        writer.write("erp", erp.reference())
        writer.write("erp", erp.house())
        for index in range(config.customers):
            history, expected = simulate_customer(ctx, index, plan.get(index, []))
            ids = crm_ids(index)
            missing_erp = crm.erp_missing(history)
            writer.write(
                "billing", billing.render(history, crm.customer_metadata(history), {"main": ids.deals["main"]})
            )
            writer.write("crm", crm.render(history, None if missing_erp else erp_customer_id(index), expected))
            writer.write("erp", erp.render(history, ids.company, missing_erp, expected))
            for code, subject in expected:
                truth.add(code, subject)
            for inv in history.invoices:
                for charge in inv.payment.charges if inv.payment else []:
                    if charge.status == "succeeded":
                        key = (history.subsidiary, inv.currency, month_key(charge.created))
                        fees[key] = fees.get(key, 0) + charge.fee
        writer.write("erp", erp.journals(fees, GLOBAL_TRANSACTION_BASE + 100))
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "scale": scale,
        "as_of": utc(as_of_ts).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "counts": dict(sorted(writer.counts.items())),
    }
    write_json(out / MANIFEST, manifest)
    write_json(out / GROUND_TRUTH, truth.rows())
    return manifest
