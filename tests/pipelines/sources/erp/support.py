"""Helpers for the ERP ingest tests: running the source, writing through NetSuite's REST API, reading raw."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import httpx

from pipelines.data_dir import raw_path
from pipelines.ingest.runner import Endpoint, SourceSummary, quiet_dlt, run_source
from pipelines.sources.load_seq import LOAD_SEQ

DATASET = "raw_erp"
RECORDS = "/services/rest/record/v1"
TRANSACTION_TYPES = ("invoice", "creditMemo", "customerPayment", "journalEntry")
# raw table → the primary key columns (the grain tests compare on)
KEYS = {
    "subsidiary": ("id",),
    "currency": ("id",),
    "account": ("id",),
    "item": ("id",),
    "department": ("id",),
    "accountingperiod": ("id",),
    "accountingperiod_subsidiaryclose": ("period", "subsidiary"),
    "customer": ("id",),
    "transaction": ("id",),
    "transactionline": ("uniquekey",),
    "previoustransactionlinelink": ("link_key",),
}


def ingest(data_dir: Path, endpoint: Endpoint) -> SourceSummary:
    quiet_dlt()
    summary = run_source(data_dir, "erp", endpoint)
    assert summary.error is None, summary.error
    return summary


def loaded(summary: SourceSummary) -> dict[str, int]:
    """Rows written per table (new, updated or deleted), tables with none left out."""
    return {t.table: t.rows_loaded for t in summary.tables if t.rows_loaded}


def api(endpoint: Endpoint) -> httpx.Client:
    """NetSuite's record API as a client uses it: bearer token, JSON."""
    return httpx.Client(
        base_url=endpoint.base_url + RECORDS, headers={"Authorization": f"Bearer {endpoint.token}"}, timeout=30
    )


def created_id(response: httpx.Response) -> str:
    assert response.status_code == 204, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def fixture_records(scenario: Path, record_type: str) -> list[dict]:
    path = Path(scenario) / "erp" / f"{record_type}.jsonl"
    if not path.exists():
        return []
    with path.open() as f:
        return [json.loads(line) for line in f if line.strip()]


def expected_counts(scenario: Path) -> dict[str, int]:
    """What raw must hold after the first run, from the manifest and the fixtures' sublists.

    Lines: SuiteQL serves a main line (line 0) for every transaction, plus one per item line (invoices,
    credit memos) or journal line, plus one tax line per distinct tax rate that carries tax.
    Links: one per applied line of a payment or credit memo.
    """
    counts = json.loads((Path(scenario) / "manifest.json").read_text())["counts"]
    lines = links = 0
    for record_type in TRANSACTION_TYPES:
        for record in fixture_records(scenario, record_type):
            sublist = {"invoice": "item", "creditMemo": "item", "journalEntry": "line"}.get(record_type)
            items = record.get(sublist, {}).get("items", []) if sublist else []
            taxed_rates = {i.get("taxRate1") for i in items if i.get("tax1Amt") not in (None, 0, "0")}
            lines += 1 + len(items) + (len(taxed_rates) if record_type != "journalEntry" else 0)
            links += sum(1 for a in record.get("apply", {}).get("items", []) if a.get("apply", True) and a.get("doc"))
    periods = fixture_records(scenario, "accountingPeriod")
    return {
        "subsidiary": counts["erp/subsidiary"],
        "currency": counts["erp/currency"],
        "account": counts["erp/account"],
        "item": counts["erp/item"],
        "department": counts["erp/department"],
        "accountingperiod": counts["erp/accountingPeriod"],
        "accountingperiod_subsidiaryclose": sum(len(p.get("subsidiaryClose", {}).get("items", [])) for p in periods),
        "customer": counts["erp/customer"],
        "transaction": sum(counts[f"erp/{t}"] for t in TRANSACTION_TYPES),
        "transactionline": lines,
        "previoustransactionlinelink": links,
    }


def rows_by_key(data_dir: Path, table: str) -> dict[tuple, tuple]:
    """One raw table as primary key → the row (every column but dlt's bookkeeping and ``_q2c_load_seq``, the run
    that wrote it: see :func:`load_seqs`)."""
    key = KEYS[table]
    with duckdb.connect(str(raw_path(data_dir)), read_only=True) as con:
        cols = [
            r[0]
            for r in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                " order by ordinal_position",
                [DATASET, table],
            ).fetchall()
            if not r[0].startswith("_dlt") and r[0] != LOAD_SEQ
        ]
        select = ", ".join(f'"{c}"' for c in cols)
        rows = con.execute(f'select {select} from {DATASET}."{table}"')
        out = {}
        for row in rows.fetchall():
            record = dict(zip(cols, row, strict=True))
            out[tuple(record[k] for k in key)] = row
        return out


def load_seqs(data_dir: Path, table: str) -> dict[tuple, int]:
    """One raw table as primary key → the ``_q2c_load_seq`` of the run that wrote the row."""
    key = ", ".join(f'"{c}"' for c in KEYS[table])
    with duckdb.connect(str(raw_path(data_dir)), read_only=True) as con:
        rows = con.execute(f'select {key}, {LOAD_SEQ} from {DATASET}."{table}"').fetchall()
    return {tuple(r[:-1]): r[-1] for r in rows}


def changed_keys(before: dict[tuple, tuple], after: dict[tuple, tuple]) -> dict[str, set[tuple]]:
    return {
        "added": set(after) - set(before),
        "removed": set(before) - set(after),
        "updated": {k for k in set(before) & set(after) if before[k] != after[k]},
    }


def column_types(data_dir: Path) -> dict[tuple[str, str], str]:
    with duckdb.connect(str(raw_path(data_dir)), read_only=True) as con:
        return {
            (t, c): d
            for t, c, d in con.execute(
                "select table_name, column_name, data_type from information_schema.columns where table_schema = ?",
                [DATASET],
            ).fetchall()
        }


def query(data_dir: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(raw_path(data_dir)), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()
