"""raw_tables: a page of text values converted by one Arrow cast gives exactly what the per-value conversion
gives, and a value of the wrong shape still sets aside its own row only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from pipelines.sources.raw_tables import (
    ARROW_TYPES,
    QUARANTINE_TABLE,
    BadValueError,
    Column,
    Kind,
    RawTable,
    _convert,
    _text_column,
    coalesced,
    emit,
    to_rows,
)

# plain shapes (cast at once) and every near miss the per-value conversion refuses or reads differently
TEXTS = {
    Kind.DECIMAL: [
        "1", "-1", "0", "-0", "007", "1.5", "1.123456789", "1.1234567891", "12345678901234567890123456789",
        "123456789012345678901234567890", "1e5", "", " 1", "1.", ".5", "+1", "1,5", "NaN",
    ],
    Kind.DATE: [
        "2024-02-28", "2024-02-29", "2023-02-29", "2024-13-01", "2024-00-10", "0999-01-01", "1000-01-01",
        "2024-1-01", "2024-02-28T00:00:00", "",
    ],
    Kind.TIMESTAMP: [
        "2024-01-01T10:00:00Z", "2024-01-01T10:00:00.1Z", "2024-01-01T10:00:00.123Z",
        "2024-01-01T10:00:00.123456Z", "2024-01-01T10:00:00.1234567Z", "2024-01-01T10:00:00+02:00",
        "2024-01-01T10:00:00-05:30", "2024-01-01T24:00:00Z", "2024-01-01T23:59:60Z", "2024-02-30T10:00:00Z",
        "2024-01-01 10:00:00Z", "2024-01-01T10:00:00", "2024-01-01T10:00Z", "2024-01-01T10:00:00+0200",
        "9999-12-31T23:59:59+14:00", "1000-01-01T00:00:00-14:00",
    ],
    Kind.BOOLEAN: ["true", "false", "T", "F", "True", "t", "1", ""],
}  # fmt: skip


def _per_value(kind: Kind, values: list) -> pa.Array | None:
    try:
        return pa.array([_convert(kind, v) for v in values], ARROW_TYPES[kind])
    except BadValueError:
        return None


@pytest.mark.parametrize("kind", list(TEXTS))
def test_a_cast_column_equals_the_per_value_conversion(kind):
    cast_at_once = 0
    for text in [*TEXTS[kind], None]:
        for values in ([text], [text, None], [None, text]):
            vector = _text_column(kind, values)
            if vector is None:
                continue  # not the plain shape: converted per value, as before
            cast_at_once += 1
            expected = _per_value(kind, values)
            assert expected is not None, f"{values} cast, but the per-value conversion refuses it"
            assert vector.equals(expected), f"{values}: {vector} != {expected}"
    assert cast_at_once >= 9  # the plain shapes did take the cast


def test_a_page_with_one_bad_value_sets_aside_that_row_only():
    table = RawTable(
        "things",
        [
            Column("id", Kind.ID),
            Column("amount", Kind.DECIMAL),
            Column("day", Kind.DATE),
            Column("at", Kind.TIMESTAMP),
            Column("ok", Kind.BOOLEAN),
        ],
    )
    good = {"id": "1", "amount": "12.50", "day": "2024-02-29", "at": "2024-03-01T10:00:00.5Z", "ok": "T"}
    bad = {"id": "2", "amount": "12.50", "day": "2023-02-29", "at": "2024-03-01T10:00:00Z", "ok": "F"}
    rows, set_aside = to_rows("test", table, [good, bad])
    assert rows.to_pylist() == [
        {
            "id": "1",
            "amount": Decimal("12.500000000"),
            "day": date(2024, 2, 29),
            "at": datetime(2024, 3, 1, 10, 0, 0, 500000, tzinfo=UTC),
            "ok": True,
            "payload": '{"id":"1","amount":"12.50","day":"2024-02-29","at":"2024-03-01T10:00:00.5Z","ok":"T"}',
        }
    ]
    assert [(r["record_id"], r["reason"].split(":")[0]) for r in set_aside] == [("2", "day")]


def test_coalesced_joins_each_tables_pages_in_order_and_passes_the_rest_on():
    table = RawTable("things", [Column("id", Kind.ID)])
    other = RawTable("others", [Column("id", Kind.ID)])

    def pages():
        for n in range(5):
            yield from emit("test", table, [{"id": f"t{n}a"}, {"id": f"t{n}b"}])
            if n == 1:
                yield from emit("test", table, [{"id": 7}])  # set aside: goes on at once
                yield from emit("test", other, [{"id": "o1"}])

    items = list(coalesced(pages(), rows=4))
    tables = [(i.meta.hints["table_name"], i.data) for i in items]
    assert [
        (name, len(data) if name == QUARANTINE_TABLE else data.column("id").to_pylist()) for name, data in tables
    ] == [
        ("things", ["t0a", "t0b", "t1a", "t1b"]),  # 4 rows: handed on
        (QUARANTINE_TABLE, 1),  # at once
        ("things", ["t2a", "t2b", "t3a", "t3b"]),
        ("others", ["o1"]),  # what is left, at the end
        ("things", ["t4a", "t4b"]),
    ]
    assert all(i.meta.create_table_variant for i in items)
