"""Which sources there are, and the order they are ingested in (no heavy imports: ``q2c run`` plans with it)."""

from __future__ import annotations

from collections.abc import Sequence

SOURCES = ("crm", "billing", "erp")  # as they are listed to people: the CRM, billing, the ERP
# As they are ingested: each source's load runs beside the next source's extraction, so the last source's load (and
# raw's checkpoint of it) is the only one waited for, and crm's is the smallest (at L: 9 s, against billing's 96 s
# and the ERP's 55 s with 45 s of checkpoint, which crm's extraction of about 140 s hides).
INGEST_ORDER = ("billing", "erp", "crm")


def ingest_order(sources: Sequence[str]) -> tuple[str, ...]:
    """``sources`` (each once) in ``INGEST_ORDER``."""
    return tuple(s for s in INGEST_ORDER if s in sources)
