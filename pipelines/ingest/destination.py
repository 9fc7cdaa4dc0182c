"""``raw.duckdb`` as a dlt destination: dlt's DuckDB destination, with appends that are safe to repeat and merges
that deduplicate in bounded memory and delete by hashed joins.

dlt loads a file with one ``INSERT … SELECT * FROM read_parquet(file)`` and records the job as done
afterwards, on disk. A process killed between the two loads the file again on the next run. A merge
deduplicates what it staged, so that is harmless; a plain append would hold the file's rows twice.

A first backfill into an empty table does not need a merge's staging copy, delete and deduplicating
insert (it writes every payload twice; about half the load time of a billing backfill). So here an append
into a table with a primary key inserts only the file's rows whose key the table does not hold yet, in
the same statement: repeating a file adds nothing, and a table holds one row per key however often a
load is retried. A source asks for it by writing ``append`` to such a table, and only when the table is
empty (the billing backfill); every other load is dlt's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dlt.common.destination import DestinationCapabilitiesContext
from dlt.common.destination.client import (
    FollowupJobRequest,
    HasFollowupJobs,
    LoadJob,
    PreparedTableSchema,
    RunnableLoadJob,
)
from dlt.common.schema.typing import TSortOrder
from dlt.common.schema.utils import get_columns_names_with_prop
from dlt.common.storages.load_package import ParsedLoadJobFileName
from dlt.destinations import duckdb
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.destinations.impl.duckdb.duck import DuckDbClient
from dlt.destinations.sql_jobs import SqlMergeFollowupJob


class InsertAbsentJob(RunnableLoadJob, HasFollowupJobs):
    """Appends a Parquet file's rows whose primary key the table does not hold (an anti-join on the key)."""

    def __init__(self, file_path: str, primary_key: list[str]) -> None:
        super().__init__(file_path)
        self._primary_key = primary_key
        self._job_client: DuckDbClient = None  # type: ignore[assignment]

    def run(self) -> None:
        sql = self._job_client.sql_client
        table = sql.make_qualified_table_name(self.load_table_name)
        key_match = " AND ".join(
            f"d.{sql.escape_column_name(k)} = f.{sql.escape_column_name(k)}" for k in self._primary_key
        )
        path = self._file_path.replace("'", "''")
        sql.execute_sql(
            f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet('{path}', union_by_name=true) AS f"
            f" WHERE NOT EXISTS (SELECT 1 FROM {table} AS d WHERE {key_match})"
        )


class KeyGroupMergeJob(SqlMergeFollowupJob):
    """dlt's merge (delete-insert), deduplicating the staged rows without a window function.

    dlt keeps one staged row per key with ``ROW_NUMBER() OVER (PARTITION BY key …)``, and DuckDB's window
    holds every column of every staged row to number them: the L scenario's ERP backfill (2.3M transactions,
    payloads included) ran out of the load's 1 GB there. Here the row to keep is chosen by grouping only the
    key and the row id (``min(rowid)``: the first staged; with a ``dedup_sort`` column, the row at its highest
    or lowest value), and the rows are then read once: 7.7 s for that merge in 1 GB. Either way one staged row
    per key is inserted; which of several identical-key rows without a ``dedup_sort`` is arbitrary in dlt and
    the first staged here.
    """

    @classmethod
    def gen_key_table_clauses(
        cls,
        root_table_name: str,
        staging_root_table_name: str,
        primary_keys: Sequence[str],
        merge_keys: Sequence[str],
        for_delete: bool,
        source_filter: str | None = None,
    ) -> list[str]:
        """One clause (one DELETE) per key set, not one clause joining them with OR.

        A table with both a primary key and a merge key (ERP lines and links: their key, and the transaction
        whose rows they replace) gets from dlt ``EXISTS (… WHERE d.pk = s.pk OR d.mk = s.mk)``, which DuckDB
        cannot hash, so it compares every raw row with every staged row: the L scenario's first incremental
        run spent minutes deleting from 4.8M lines. Each key set alone is a hashed semi-join, and deleting the
        rows that match either key is deleting those that match the one and then those that match the other.
        dlt takes a list of clauses for engines without OR in subqueries; each is dlt's own clause for one key set.
        """
        clauses: list[str] = []
        for primary, merge in ((primary_keys, []), ([], merge_keys)):
            if primary or merge:
                clauses += super().gen_key_table_clauses(
                    root_table_name, staging_root_table_name, primary, merge, for_delete, source_filter
                )
        return clauses

    @classmethod
    def gen_select_from_dedup_sql(
        cls,
        table_name: str,
        primary_keys: Sequence[str],
        columns: Sequence[str],
        dedup_sort: tuple[str, TSortOrder] | None = None,
        condition: str | None = None,
        condition_columns: Sequence[str] | None = None,
        skip_dedup: bool = False,
    ) -> str:
        if skip_dedup:
            return super().gen_select_from_dedup_sql(
                table_name, primary_keys, columns, dedup_sort, condition, condition_columns, skip_dedup
            )
        pick = "min(rowid)"
        if dedup_sort is not None:  # a key whose sort values are all NULL keeps its first row, as NULLS LAST would
            best = "arg_max" if dedup_sort[1].lower() == "desc" else "arg_min"
            pick = f"coalesce({best}(rowid, {dedup_sort[0]}), min(rowid))"
        keys = ", ".join(primary_keys)
        return (
            f"SELECT {', '.join(columns)} FROM {table_name}"
            f" WHERE rowid IN (SELECT {pick} FROM {table_name} GROUP BY {keys}) AND ({condition or '1 = 1'})"
        )


class RawDuckDbClient(DuckDbClient):
    def create_load_job(
        self, table: PreparedTableSchema, file_path: str, load_id: str, restore: bool = False
    ) -> LoadJob:
        primary_key = get_columns_names_with_prop(table, "primary_key")
        parquet = ParsedLoadJobFileName.parse(file_path).file_format == "parquet"
        if table.get("write_disposition") == "append" and primary_key and parquet:
            return InsertAbsentJob(file_path, primary_key)
        return super().create_load_job(table, file_path, load_id, restore)

    def _create_merge_followup_jobs(self, table_chain: Sequence[PreparedTableSchema]) -> list[FollowupJobRequest]:
        return [KeyGroupMergeJob.from_table_chain(table_chain, self.sql_client)]


class raw_duckdb(duckdb):  # noqa: N801 (dlt names destination factories in lower case)
    """dlt's ``duckdb`` destination with :class:`InsertAbsentJob` for appends into keyed tables and
    :class:`KeyGroupMergeJob` for merges.

    A table's files load one after another (tables side by side): a large table arrives as several files
    (see ``runner.make_pipeline``), and each file's anti-join must see the rows of the files before it.
    """

    def _raw_capabilities(self) -> DestinationCapabilitiesContext:
        caps = super()._raw_capabilities()
        caps.loader_parallelism_strategy = "table-sequential"
        return caps

    @property
    def client_class(self) -> type[DuckDbClient]:
        return RawDuckDbClient

    @property
    def destination_type(self) -> str:
        # the pipelines' stored state names dlt's duckdb; a new type name would read as a changed destination
        return "dlt.destinations.duckdb"


# DuckDB's own default is 80% of the machine's memory: its buffer pool would keep every page a backfill
# writes (the M billing load grew the process by ~1 GB, and L is 10x that). Capped, it writes pages out and
# spills large operators to the database's temp folder instead. Not lower: ERP's merges (delete-insert with
# deduplication, three loads at once) ran out of memory at M with 256 MB.
MEMORY_LIMIT = "1GB"


def raw_destination(path: str, **kwargs: Any) -> raw_duckdb:
    credentials = DuckDbCredentials(path, global_config={"memory_limit": MEMORY_LIMIT})
    return raw_duckdb(credentials, **kwargs)
