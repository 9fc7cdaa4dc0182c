"""The sources are ingested in one order, whatever order they are named in: the CRM's small load goes last."""

from __future__ import annotations

from pipelines.ingest.order import INGEST_ORDER, SOURCES, ingest_order


def test_every_source_is_ingested_once_in_the_ingest_order() -> None:
    assert sorted(INGEST_ORDER) == sorted(SOURCES)
    assert ingest_order(SOURCES) == ("billing", "erp", "crm")
    assert ingest_order(["crm", "billing", "crm"]) == ("billing", "crm")
    assert ingest_order(["erp"]) == ("erp",)
