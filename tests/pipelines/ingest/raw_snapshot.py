"""Compare raw datasets row for row, ignoring the load bookkeeping columns: dlt's, and billing's ``_q2c_load_seq``
(the run that wrote the row: its start time, so two runs loading the same rows never agree on it)."""

from __future__ import annotations

from pathlib import Path

import duckdb

BOOKKEEPING = ("_dlt_load_id", "_dlt_id", "_q2c_load_seq")


def snapshot(raw_db: Path, dataset: str) -> dict[str, list[tuple]]:
    """Every table of the dataset (dlt's own tables excluded) as sorted row tuples."""
    out: dict[str, list[tuple]] = {}
    with duckdb.connect(str(raw_db), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = ? order by 1", [dataset]
            ).fetchall()
            if not r[0].startswith("_dlt")
        ]
        for table in tables:
            cols = [
                r[0]
                for r in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                    " order by ordinal_position",
                    [dataset, table],
                ).fetchall()
                if r[0] not in BOOKKEEPING
            ]
            select = ", ".join(f'"{c}"' for c in cols)
            out[table] = sorted(con.execute(f'select {select} from "{dataset}"."{table}"').fetchall(), key=repr)
    return out


def diff(left: dict[str, list[tuple]], right: dict[str, list[tuple]]) -> list[str]:
    """Human-readable differences (empty when identical)."""
    problems = []
    for table in sorted(set(left) | set(right)):
        a, b = left.get(table), right.get(table)
        if a is None or b is None:
            problems.append(f"{table}: only on the {'right' if a is None else 'left'}")
            continue
        if a != b:
            only_a = set(map(repr, a)) - set(map(repr, b))
            only_b = set(map(repr, b)) - set(map(repr, a))
            problems.append(f"{table}: {len(a)} vs {len(b)} rows; {len(only_a)} only left, {len(only_b)} only right")
    return problems
