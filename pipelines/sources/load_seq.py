"""``_q2c_load_seq``: the number every row a source's run writes to raw carries, one per run, larger than any the
source's raw tables already hold. The build reads only the raw rows above the largest sequence a model holds
(``dbt_project/macros/incremental.sql``), so the sequences must grow from run to run, even when the clock goes back.

A run's value is the wall clock in epoch microseconds (UTC), or one more than the largest its tables hold if that is
not smaller. It is read when the run is planned, after the runner loaded any package an interrupted run left
behind (``pipelines.ingest.runner.recover``): every row an earlier run will ever add to raw is there by now, so
each run's value is larger than that of every row stored before it, in every table. Tables loaded before the
column existed hold NULL in it (and get the column from dlt's schema evolution at this run's load).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import dlt
from dlt.destinations.exceptions import DatabaseUndefinedRelation

LOAD_SEQ = "_q2c_load_seq"


def now_us() -> int:
    """The wall clock in epoch microseconds (UTC)."""
    return time.time_ns() // 1000


def next_load_seq(tables: Iterable[str], now: int) -> int:
    """This run's sequence for the current pipeline's dataset: ``now``, or one more than the largest of
    ``tables`` (those of them that have the column) if that is not smaller. ``now`` without a destination."""
    pipeline = dlt.current.pipeline()
    if pipeline is None or pipeline.destination is None:
        return now
    names = set(tables)
    with pipeline.sql_client() as client:
        try:
            rows = client.execute_sql(
                "select table_name from information_schema.columns where table_schema = %s and column_name = %s",
                client.dataset_name,
                LOAD_SEQ,
            )
        except DatabaseUndefinedRelation:
            rows = []
        holding = sorted({r[0] for r in rows or []} & names)
        if not holding:
            return now
        largest = " union all ".join(
            f"select max({LOAD_SEQ}) from {client.make_qualified_table_name(name)}" for name in holding
        )
        stored = client.execute_sql(f"select max(seq) from ({largest}) as stored(seq)")[0][0]
    return now if stored is None else max(now, stored + 1)
