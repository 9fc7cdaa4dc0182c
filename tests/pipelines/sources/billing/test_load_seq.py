"""``_q2c_load_seq``: every row a run writes carries the run's sequence, larger than any raw holds (even when the
clock went back); rows a run does not write keep theirs."""

from __future__ import annotations

import time

from pipelines.sources.billing import helpers, settings
from tests.pipelines.conftest import endpoints_of

from .support import DATASET, fixture_objects, ingest, loaded, query
from .test_changes import TABLES, make_changes, pick_targets


def sequences(data_dir) -> dict[str, dict[str, int]]:
    """Per billing table, id → the row's load sequence."""
    return {t: dict(query(data_dir, f'select id, {settings.LOAD_SEQ} from {DATASET}."{t}"')) for t in TABLES}


def test_each_run_writes_its_rows_with_a_larger_sequence(sandbox, scenario_dir, tmp_path, monkeypatch) -> None:
    endpoint = endpoints_of(sandbox)["billing"]
    started = time.time_ns() // 1000
    ingest(tmp_path, endpoint)
    first = sequences(tmp_path)
    (backfill_seq,) = {s for table in first.values() for s in table.values()}  # one value, in every table
    assert started <= backfill_seq <= time.time_ns() // 1000  # the run's start, epoch microseconds (UTC)
    assert all(first.values())
    types = query(
        tmp_path,
        "select distinct data_type from information_schema.columns where table_schema = ? and column_name = ?",
        [DATASET, settings.LOAD_SEQ],
    )
    assert types == [("BIGINT",)]

    # the clock went back an hour: the next run still writes above every sequence raw holds
    monkeypatch.setattr(helpers, "now_us", lambda: backfill_seq - 3_600_000_000)
    fixture_items = {i["id"] for i in fixture_objects(scenario_dir, "invoiceitems")}
    expected = make_changes(endpoint, pick_targets(scenario_dir), fixture_items, prefix="seq")
    ingest(tmp_path, endpoint)
    second = sequences(tmp_path)
    written = {t: {i for i, s in second[t].items() if s != backfill_seq} for t in TABLES}
    new_events = written.pop("events")
    assert written == expected and new_events  # exactly the changed rows, in every table; the others keep theirs
    assert {s for t in TABLES for i, s in second[t].items() if s != backfill_seq} == {backfill_seq + 1}

    # a quiet run writes nothing, so no sequence changes
    monkeypatch.undo()
    assert loaded(ingest(tmp_path, endpoint)) == {}
    assert sequences(tmp_path) == second
