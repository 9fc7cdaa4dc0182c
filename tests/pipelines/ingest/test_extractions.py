"""An ingest reads its sources at once when each of them loaded before, and one after another when one loads for the
first time; either way every change lands in raw. Against the S sandbox, changed through its APIs."""

from __future__ import annotations

import itertools

from pipelines.ingest.extractions import Extractions
from pipelines.ingest.order import INGEST_ORDER
from pipelines.ingest.raw_database import RawDatabase
from pipelines.ingest.runner import load, raw_path, run_ingest
from tests.pipelines.conftest import endpoints_of
from tests.pipelines.sources.billing.support import query as billing_query
from tests.pipelines.sources.billing.support import sdk, write
from tests.pipelines.sources.erp.support import api


def _overlap(windows: list[tuple[float, float]]) -> float:
    """Seconds during which every window was open (negative: some never met)."""
    return min(end for _, end in windows) - max(start for start, _ in windows)


def test_sources_that_loaded_before_are_read_at_once_and_load_every_change(sandbox, tmp_path):
    endpoints, data = endpoints_of(sandbox), tmp_path / "data"
    raw = RawDatabase(raw_path(data))
    try:
        first = Extractions(data, INGEST_ORDER, raw, endpoints)
        assert not first.together  # raw is empty: each source reads everything, and reads it alone
        windows = []
        for source in INGEST_ORDER:
            extracted = first.take(source)
            windows.append(extracted.extract_window)
            assert load(extracted, raw, beside=False).result().ok
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(windows)), windows
    finally:
        raw.close()

    customer = billing_query(data, "select id from raw_billing.customers order by id limit 1")[0][0]
    write(sdk(endpoints["billing"]).v1.customers.update, customer, {"name": "Read At Once"}, key="read-at-once")
    with api(endpoints["erp"]) as ns:
        erp_customer = ns.get("/customer", params={"limit": 1}).json()["items"][0]["id"]
        assert ns.patch(f"/customer/{erp_customer}", json={"phone": "+1 555 0142"}).status_code == 204

    raw = RawDatabase(raw_path(data))
    try:
        again = Extractions(data, INGEST_ORDER, raw, endpoints)
        assert again.together
        extracted = [again.take(source) for source in INGEST_ORDER]
        assert _overlap([e.extract_window for e in extracted]) > 0
        summaries = [load(e, raw, beside=False).result() for e in extracted]
    finally:
        raw.close()
    assert all(s.ok for s in summaries), [s.error for s in summaries]
    changed = {s.source: {t.table: t.updated for t in s.tables if t.updated} for s in summaries}
    assert changed["billing"].get("customers") == 1, changed
    assert changed["erp"].get("customer") == 1, changed
    assert billing_query(data, "select payload->>'name' from raw_billing.customers where id = ?", [customer]) == [
        ("Read At Once",)
    ]

    # the same through run_ingest, with nothing new: every source reads at once, and loads nothing
    summaries = run_ingest(data, INGEST_ORDER, endpoints)
    assert all(s.ok for s in summaries), [s.error for s in summaries]
    assert sum(t.new for s in summaries for t in s.tables) == 0
