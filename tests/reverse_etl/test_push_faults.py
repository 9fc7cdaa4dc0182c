"""Hostile ERP (429s, 5xx, dropped connections, slow answers, writes committed then the response lost):
every ready posting ends in the ERP exactly once, with its content and its lines not doubled."""

from __future__ import annotations

import json

import pytest

from reverse_etl.push import ledger_states, push
from reverse_etl.record_match import holds_payload
from sandbox.faults import FaultPlan
from tests.reverse_etl import warehouse as wh
from tests.reverse_etl.erp_company import serve_company


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_hostile_erp_gets_every_posting_exactly_once(company, tmp_path, seed):
    data_dir = tmp_path / "data"
    postings = wh.company_postings(12)
    wh.write_warehouse(data_dir, postings)
    plan = FaultPlan("hostile", seed=seed)
    with serve_company(company, tmp_path / "erp", faults=plan, max_concurrency=3) as erp:
        summary = push(data_dir, endpoint=(erp.url, "q2c-erp-sandbox"))
        # updates under the same faults: lines replaced, never appended by a retried request
        changed = [p for p in postings if p.record_type not in ("invoice", "journalEntry")]
        changed += [wh.invoice(n, lines=3, rate="3.5") for n in range(1, 13)]
        changed += [wh.journal(n, amount="12", lines=4) for n in range(1, 13)]
        wh.write_warehouse(data_dir, changed)
        second = push(data_dir, endpoint=(erp.url, "q2c-erp-sandbox"))
        # checked in the sandbox's own store: its HTTP API keeps injecting faults
        records = erp.app.records
        for p in changed:
            record = records.get(p.record_type, f"eid:{p.external_id}")
            assert record is not None and holds_payload(record, json.loads(p.payload)), p.external_id
        assert records.list_ids("invoice", 1, 0)[1] == 12 + 1
        assert records.list_ids("journalEntry", 1, 0)[1] == 12
        assert erp.errors == []
    assert summary.ok, summary.format()
    assert second.ok, second.format()
    assert second.count("updated") == 24
    assert set(ledger_states(data_dir).values()) == {"posted"}
    assert plan.injected["lost_response"] > 0 and plan.injected["rate_limited"] > 0
