"""The ``publish`` tables of ``warehouse.duckdb`` as the push reads them (the contract is in README.md).

The file is opened read-only: dbt is its only writer. A row whose ``payload_hash`` is not the sha256 of its
``payload``, or whose payload is not a JSON object carrying the row's ``externalId``, is quarantined here, so
a broken mart can never send something nobody validated.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pyarrow as pa

WAREHOUSE_FILE = "warehouse.duckdb"
# push order: what a record references is created before it
PUSH_ORDER = ("customer", "invoice", "creditMemo", "customerPayment", "journalEntry")
TABLES = {
    "customer": "erp_customers",
    "invoice": "erp_invoices",
    "creditMemo": "erp_credit_memos",
    "customerPayment": "erp_customer_payments",
    "journalEntry": "erp_journal_entries",
}
# the sublists a complete payload carries: an update replaces them all (NetSuite appends otherwise)
SUBLISTS = {
    "customer": (),
    "invoice": ("item",),
    "creditMemo": ("item", "apply"),
    "customerPayment": ("apply",),
    "journalEntry": ("line",),
}
READY, QUARANTINED = "ready", "quarantined"
_LEDGER = pa.schema([("external_id", pa.string()), ("state", pa.string()), ("payload_hash", pa.string())])


@dataclass(frozen=True)
class PublishRow:
    record_type: str
    external_id: str
    subject_key: str | None
    payload: str | None  # None: read without it (see read_publish_rows)
    payload_hash: str
    validation_status: str
    quarantine_reason: str | None
    depends_on: tuple[str, ...]
    in_erp: bool = False  # the ERP already has a record for this billing object (found by its billing key)

    @property
    def key(self) -> tuple[str, str]:
        return (self.record_type, self.external_id)

    @property
    def ready(self) -> bool:
        return self.validation_status == READY


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _checked(row: PublishRow, table_type: str) -> PublishRow:
    """The row, quarantined when it contradicts the contract."""
    if not row.ready:
        return row
    reason = None
    if row.record_type != table_type:
        reason = f"record_type {row.record_type!r} in the {TABLES[table_type]} table"
    elif row.payload is None:
        reason = "payload is missing"
    elif sha256_hex(row.payload) != row.payload_hash:
        reason = "payload_hash is not the sha256 of payload"
    else:
        try:
            body = json.loads(row.payload)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            reason = "payload is not a JSON object"
        elif body.get("externalId") != row.external_id:
            reason = "payload externalId differs from external_id"
    return _quarantined(row, table_type, reason)


def _quarantined(row: PublishRow, table_type: str, reason: str | None) -> PublishRow:
    """The row, quarantined for ``reason`` (None: as it is, unless its record type contradicts its table)."""
    if not row.ready:
        return row
    if reason is None and row.record_type != table_type:
        reason = f"record_type {row.record_type!r} in the {TABLES[table_type]} table"
    if reason is None:
        return row
    return replace(row, validation_status=QUARANTINED, quarantine_reason=f"q2c push: {reason}")


# The same checks as ``_checked``, in SQL: the push reads every row's key, hash and status each run, but the
# payload only of the rows it sends (at L that is a few thousand of ~2.4 million rows).
_CHECK_REASON = """
case
    when validation_status is distinct from 'ready' then null
    when sha256(payload) is distinct from payload_hash then 'payload_hash is not the sha256 of payload'
    when coalesce(json_type(try_cast(payload as json)), '') <> 'OBJECT' then 'payload is not a JSON object'
    when coalesce(json_type(try_cast(payload as json), '$.externalId'), '') <> 'VARCHAR'
        or (try_cast(payload as json) ->> '$.externalId') is distinct from external_id
        then 'payload externalId differs from external_id'
end"""


def read_publish_rows(
    data_dir: Path, external_ids: set[str] | None = None, *, payloads: bool = True
) -> dict[str, list[PublishRow]]:
    """Rows per record type, in push order; a publish table that does not exist yet gives no rows.
    ``payloads=False``: every row without its payload (``payload`` is None; the checks run in the database) —
    :func:`with_payloads` fetches them for the rows that are sent."""
    path = Path(data_dir) / WAREHOUSE_FILE
    out: dict[str, list[PublishRow]] = {t: [] for t in PUSH_ORDER}
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run `q2c build` first")
    with duckdb.connect(str(path), read_only=True) as con:
        for record_type, table, in_erp in _tables(con):
            # a row the ERP holds is sent only as an update of q2c's own record, checked when its payload is read
            payload = "payload" if payloads else f"null, case when not {in_erp} then ({_CHECK_REASON}) end"
            sql = (
                f"select record_type, external_id, subject_key, {payload}, payload_hash, validation_status, "
                f'quarantine_reason, depends_on, {in_erp} from publish."{table}"'
            )
            if external_ids is not None:
                sql += f" where external_id in (select id from {_register_ids(con, 'q2c_wanted', external_ids)})"
            for values in con.execute(sql + " order by external_id").fetchall():
                if payloads:
                    rec_type, ext_id, subject, body, phash, status, reason, depends, present_in_erp = values
                    check = None
                else:
                    rec_type, ext_id, subject, body, check, phash, status, reason, depends, present_in_erp = values
                row = PublishRow(
                    rec_type or record_type,
                    ext_id,
                    subject,
                    body,
                    phash,
                    status,
                    reason,
                    tuple(depends or ()),
                    bool(present_in_erp),
                )
                checked = _checked(row, record_type) if payloads else _quarantined(row, record_type, check)
                out[record_type].append(checked)
    return out


# Rows whose action the ledger alone settles, counted in the database and never brought into Python: a row
# that fails the gate (quarantined), one the ERP holds and q2c never sent (in-erp), one posted with the same
# payload (unchanged). The order of the cases is plan.decide's. The payload checks (``_CHECK_REASON``: a sha256
# and JSON parses per payload, 0.7 s for M's 44k invoices) run only on the rows left, so a push does not grow
# with everything q2c has posted: an unchanged row's hash is the one its payload was checked against when it was
# sent, and it is not sent again.
_SETTLED = """
case
    when p.validation_status is distinct from 'ready' or p.record_type is distinct from $record_type
        then 'quarantined'
    when p.external_id in (select id from q2c_keep) then null
    when l.state in ('in_flight', 'unknown') then null
    when l.external_id is null and p.in_erp then 'in-erp'
    when l.state = 'posted' and l.payload_hash = p.payload_hash then 'unchanged'
end"""


def read_unsettled_rows(
    data_dir: Path, record_type: str, ledger: Sequence[tuple[str, str, str | None]], keep: Iterable[str] = ()
) -> tuple[list[PublishRow], Counter[str]]:
    """One record type's publish rows whose action needs the plan (without payloads), and the count of the
    others by the action the ledger settles for them (``_SETTLED``; a row left that fails the payload checks is
    counted quarantined). ``ledger``: (external id, state, payload hash) of the type's postings; ``keep``:
    external ids always returned (a repair or a replay names them)."""
    table = TABLES[record_type]
    settled: Counter[str] = Counter()
    rows: list[PublishRow] = []
    path = Path(data_dir) / WAREHOUSE_FILE
    with duckdb.connect(str(path), read_only=True) as con:
        found = {rt: (t, in_erp) for rt, t, in_erp in _tables(con)}
        if record_type not in found:
            return rows, settled
        _, in_erp = found[record_type]
        ids, states, hashes = (list(c) for c in zip(*ledger, strict=True)) if ledger else ([], [], [])
        ledger_table = pa.table({"external_id": ids, "state": states, "payload_hash": hashes}, schema=_LEDGER)
        con.register("q2c_ledger", ledger_table)
        _register_ids(con, "q2c_keep", keep)
        # two passes over the join, each reading only the columns it needs: the count of the rows the ledger
        # settles, then the rows it leaves with their checks (the payload is read only for those rows). Nothing
        # holds every row: a temporary table of them all, or a CTE read twice (DuckDB materialises it, payloads
        # included), took most of the read (a 1.18M-row table, the ERP holding all but 1,304: 1.16 s -> 0.18 s).
        joined = f"""
            with p as (select *, {in_erp} as in_erp from publish."{table}"),
            joined as (
                select p.record_type, p.external_id, p.subject_key, p.payload_hash, p.validation_status,
                    p.quarantine_reason, p.depends_on, p.in_erp, ({_SETTLED}) as settled
                from p left join q2c_ledger as l using (external_id)
            )"""
        counts = f"{joined} select settled, count(*) from joined where settled is not null group by settled"
        settled.update(dict(con.execute(counts, {"record_type": record_type}).fetchall()))
        left_over = f"""{joined},
            left_over as (select * exclude (settled) from joined where settled is null),
            checked as (
                select external_id, ({_CHECK_REASON}) as check_reason
                from publish."{table}"
                where external_id in (select external_id from left_over where not in_erp)
            )
            select record_type, external_id, subject_key, payload_hash, validation_status, quarantine_reason,
                depends_on, in_erp, check_reason
            from left_over left join checked using (external_id)
            order by external_id"""
        for rec_type, ext_id, subject, phash, status, reason, depends, present, check in con.execute(
            left_over, {"record_type": record_type}
        ).fetchall():
            if check is not None:  # fails the payload checks: quarantined, as the ledger would count it
                settled["quarantined"] += 1
                continue
            row = PublishRow(rec_type, ext_id, subject, None, phash, status, reason, tuple(depends or ()), present)
            rows.append(_quarantined(row, record_type, None))
    return rows, settled


def keys_named(data_dir: Path, names: Iterable[str]) -> set[tuple[str, str]]:
    """(record type, external id) of the publish rows whose external id or subject key is one of ``names``."""
    out: set[tuple[str, str]] = set()
    with duckdb.connect(str(Path(data_dir) / WAREHOUSE_FILE), read_only=True) as con:
        wanted = _register_ids(con, "q2c_names", names)
        for record_type, table, _ in _tables(con):
            sql = (
                f'select external_id from publish."{table}" '
                f"where external_id in (select id from {wanted}) or subject_key in (select id from {wanted})"
            )
            out.update((record_type, r[0]) for r in con.execute(sql).fetchall())
    return out


def publish_membership(data_dir: Path, external_ids: Iterable[str]) -> dict[str, bool]:
    """For each id found in a publish table: whether the ERP already holds that record (``is_in_erp``)."""
    ids = set(external_ids)
    out: dict[str, bool] = {}
    if not ids:
        return out
    with duckdb.connect(str(Path(data_dir) / WAREHOUSE_FILE), read_only=True) as con:
        wanted = _register_ids(con, "q2c_wanted", ids)
        for _, table, in_erp in _tables(con):
            sql = f'select external_id, {in_erp} from publish."{table}" where external_id in (select id from {wanted})'
            out.update((ext_id, bool(present)) for ext_id, present in con.execute(sql).fetchall())
    return out


def with_payloads(data_dir: Path, rows: list[PublishRow]) -> list[PublishRow]:
    """``rows`` (read without payloads) with their payloads. A row whose publish row changed since it was read
    (another build in between) is quarantined for this push; the next push reads it afresh."""
    wanted: dict[str, list[PublishRow]] = {}
    for row in rows:
        wanted.setdefault(row.record_type, []).append(row)
    found: dict[tuple[str, str], tuple[str, str]] = {}
    with duckdb.connect(str(Path(data_dir) / WAREHOUSE_FILE), read_only=True) as con:
        for record_type, members in wanted.items():
            ids = _register_ids(con, "q2c_wanted", (r.external_id for r in members))
            found.update(
                ((record_type, ext_id), (body, phash))
                for ext_id, body, phash in con.execute(
                    f'select external_id, payload, payload_hash from publish."{TABLES[record_type]}" '
                    f"where external_id in (select id from {ids})"
                ).fetchall()
            )
    out = []
    for row in rows:
        body, phash = found.get(row.key, (None, None))
        if body is None or phash != row.payload_hash:
            out.append(_quarantined(row, row.record_type, "the publish row changed while the push ran"))
        else:
            out.append(_checked(replace(row, payload=body), row.record_type))
    return out


def _register_ids(con: duckdb.DuckDBPyConnection, name: str, ids: Iterable[str]) -> str:
    """``ids`` as a one-column table ``name`` (``id``) on ``con``, to join with. A list bound as a parameter is
    converted value by value and ``list_contains`` compares every row with the whole list: finding the push's
    16,577 payloads among L's publish rows took 25 s that way."""
    con.register(name, pa.table({"id": pa.array(sorted(set(ids)), pa.string())}))
    return name


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(record type, publish table, the SQL of its is_in_erp) for the publish tables that exist."""
    tables = "select table_name from information_schema.tables where table_schema = 'publish'"
    present = {r[0] for r in con.execute(tables).fetchall()}
    out = []
    for record_type in PUSH_ORDER:
        table = TABLES[record_type]
        if table not in present:
            continue
        columns = {
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_schema = 'publish' and table_name = ?",
                [table],
            ).fetchall()
        }
        out.append((record_type, table, "coalesce(is_in_erp, false)" if "is_in_erp" in columns else "false"))
    return out
