"""``Q2C_TRACE_REQUESTS``: the runner writes each source's answered requests; the benchmark replays the file."""

from __future__ import annotations

import json

from bench.ingest import read_trace, replay_file
from pipelines.ingest.runner import TRACE_REQUESTS_ENV, run_ingest
from tests.pipelines.conftest import endpoints_of


def test_traced_requests_are_written_per_source_and_replay(sandbox, tmp_path, monkeypatch):
    trace = tmp_path / "trace"  # does not exist yet: the runner creates it
    monkeypatch.setenv(TRACE_REQUESTS_ENV, str(trace))
    summaries = run_ingest(tmp_path / "data", ["crm", "erp"], endpoints_of(sandbox))
    assert all(s.ok for s in summaries), [s.error for s in summaries]
    assert sorted(p.name for p in trace.iterdir()) == ["crm.jsonl", "erp.jsonl"]
    for summary in summaries:
        lines = (trace / f"{summary.source}.jsonl").read_text().splitlines()
        assert len(lines) == summary.pages > 0  # every answered request, one a line
        records = [json.loads(line) for line in lines]
        assert all(set(r) == {"method", "url", "headers", "body"} for r in records)
        assert all(r["url"].startswith(endpoints_of(sandbox)[summary.source].base_url) for r in records)
        assert all(r["body"] is None or isinstance(r["body"], str) for r in records)
    crm = [json.loads(line) for line in (trace / "crm.jsonl").read_text().splitlines()]
    searches = [r for r in crm if r["url"].endswith("/search")]
    assert searches and all(r["method"] == "POST" and "filterGroups" in json.loads(r["body"]) for r in searches)
    assert any(r["method"] == "GET" and r["body"] is None for r in crm)  # the archived lists
    # no credential is written: the replay is given the token
    tokens = {e.token for e in endpoints_of(sandbox).values()}
    assert not any(token in (trace / f).read_text() for token in tokens for f in ("crm.jsonl", "erp.jsonl"))
    assert all("authorization" not in {k.lower() for k in r["headers"]} for r in crm)

    # the file replays as it was recorded (a replay fails on any answer >= 400)
    assert len(read_trace(trace / "crm.jsonl")) == len(crm)
    assert replay_file(trace / "crm.jsonl", workers=4, token=endpoints_of(sandbox)["crm"].token) > 0
    assert replay_file(trace / "erp.jsonl", workers=2, token=endpoints_of(sandbox)["erp"].token) > 0


def test_nothing_is_traced_without_the_variable(sandbox, tmp_path, monkeypatch):
    monkeypatch.delenv(TRACE_REQUESTS_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    [summary] = run_ingest(tmp_path / "data", ["crm"], endpoints_of(sandbox))
    assert summary.ok, summary.error
    assert not list(tmp_path.rglob("*.jsonl"))
