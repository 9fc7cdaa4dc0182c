"""``Batches`` hands dlt each table in slices of exactly ``BATCH_ROWS`` rows, whatever the pages' sizes, so the
load files (``runner.FILE_MAX_ITEMS`` rows) hold whole DuckDB row groups, which DuckDB writes into the file at
once instead of through its log."""

from __future__ import annotations

from pathlib import Path

import dlt
import pyarrow as pa

from pipelines.ingest.raw_database import RawDatabase
from pipelines.ingest.runner import FILE_MAX_ITEMS, ROW_GROUP_ROWS, make_pipeline, quiet_dlt
from pipelines.sources.billing import helpers, settings
from pipelines.sources.raw_tables import to_rows

LOAD_SEQ = 1_700_000_000_000_000


def events(start: int, count: int) -> list[dict]:
    return [
        {
            "id": f"evt_{i:08d}",
            "object": "event",
            "created": 1_700_000_000 + i,
            "type": "invoice.paid",
            "data": {"object": {"id": f"in_{i:08d}", "object": "invoice"}},
        }
        for i in range(start, start + count)
    ]


def pages(total: int, sizes: list[int]) -> list[list[dict]]:
    """``total`` events in pages of the given sizes, repeated (the last page is what is left)."""
    out, at, i = [], 0, 0
    while at < total:
        size = min(sizes[i % len(sizes)], total - at)
        out.append(events(at, size))
        at, i = at + size, i + 1
    return out


def handed_to_dlt(batches: helpers.Batches, table_pages: list[list[dict]]) -> list[pa.Table]:
    items = []
    for page in table_pages:
        items += batches.add(settings.EVENTS, page)
    items += batches.close()
    return [item.data for item in items]  # each carries the table's hints


def test_a_load_file_is_a_whole_number_of_batches() -> None:
    assert FILE_MAX_ITEMS % settings.BATCH_ROWS == 0


def test_each_table_goes_out_in_slices_of_exactly_the_batch_rows_in_order() -> None:
    batches = helpers.Batches(LOAD_SEQ, rows=1000)
    items = handed_to_dlt(batches, pages(4321, [100, 37, 999, 1]))
    assert [t.num_rows for t in items] == [1000, 1000, 1000, 1000, 321]
    ids = [i for t in items for i in t.column("id").to_pylist()]
    assert ids == [f"evt_{i:08d}" for i in range(4321)]  # every row once, in the order listed
    assert {s for t in items for s in t.column(settings.LOAD_SEQ).to_pylist()} == {LOAD_SEQ}


def test_a_table_of_two_row_groups_and_some_loads_as_two_full_row_groups(tmp_path: Path) -> None:
    quiet_dlt()
    total = 2 * ROW_GROUP_ROWS + 5000
    batches = helpers.Batches(LOAD_SEQ)
    table_pages = pages(total, [100, 100, 100, 73])  # an uneven page now and then, as an API answers
    raw = RawDatabase(tmp_path / "raw.duckdb")
    try:

        @dlt.resource(name="events")
        def listed():
            for page in table_pages:
                rows, bad = to_rows(helpers.SOURCE, settings.EVENTS, page, {})
                assert not bad
                yield from batches.add_rows(settings.EVENTS, rows, bad)
            yield from batches.close()

        make_pipeline(tmp_path, "batches_test", raw).run(listed(), loader_file_format="parquet")
        row_groups = raw.connection.execute(
            "select row_group_id, max(count) from pragma_storage_info('raw_batches_test.events')"
            " group by row_group_id order by row_group_id"
        ).fetchall()
        # files of a row group each: every row group full but one, the table's last rows (files of 125,000 rows,
        # the 5,000-row batches of before, leave a 2,120-row group beside each full one)
        assert sorted(count for _, count in row_groups) == [5000, ROW_GROUP_ROWS, ROW_GROUP_ROWS]
        assert raw.table_counts("raw_batches_test") == {"events": total}
    finally:
        raw.close()
