"""Reconciliation benchmark: the invoice reconciliation against reladiff diffing the same invoices (issue 7).

Usage: python -m bench.recon --data-dir D [--repeat 3] [--threads 2] [--json PATH]

On a built data folder (``q2c build`` has written ``D/warehouse.duckdb`` and ``D/dbt/target``), in one run:

* ``recon``: the compiled SQL of ``invoice_matches`` (``D/dbt/target/compiled/…``, else ``run_results.json``)
  is run as ``create table … as (…)`` into a scratch database to which the warehouse is attached read-only
  under its dbt name (``warehouse``), so the real warehouse is never altered. It pairs every billing invoice
  with the ERP invoices carrying its key, compares them side by side and classifies every pair.
* ``reladiff``: reladiff 0.6's join-diff over two relations prepared *before* timing as tables in a second
  scratch database (so reladiff reads exactly the compared columns, and nothing of its preparation is
  timed; that is the favourable case for reladiff): ``billing_invoices`` (``canonical.invoices``) and
  ``erp_invoices`` (``canonical.erp_transactions`` where ``record_type = 'invoice'``), both keyed by the
  billing key ``invoice_key`` with the same columns and types: ``total`` and ``tax_total`` as
  DECIMAL(38,9), ``currency_code`` and ``status`` (billing statuses in the ERP's words, as
  ``invoice_matches.expected_erp_status``). Every difference is consumed.

Join-diff, not hash-diff: both relations live in one DuckDB, where join-diff is reladiff's own choice
(``Algorithm.AUTO``): one outer join per key segment runs inside the engine and only differing rows come
out, while hash-diff (made for two databases) checksums segments and downloads rows of differing segments to
compare them in Python; it also treats rows as a multiset, so the ERP's duplicate records of one billing key
are not reported as pairs. Join-diff runs with ``validate_unique_key=False`` because an ERP billing key may
have several records (each is a pair, as in ``invoice_matches``).

Each side runs ``--repeat`` times, alternating, and the best time is kept. ``ratio`` = recon / reladiff
(target ≤ 1.0). ``differences`` counts differing pairs as reladiff reports them: a pair present on one side
only, or present on both with a compared value distinct. ``dbt_execution_seconds`` is dbt's own
``execution_time`` for the model in the build's ``run_results.json``, for reference.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb

MODEL = "model.q2c.invoice_matches"
COMPILED = Path("dbt/target/compiled/q2c/models/reconciliation/invoice_matches.sql")
RUN_RESULTS = Path("dbt/target/run_results.json")
KEY = "invoice_key"
COMPARED = ("total", "tax_total", "currency_code", "status")

# the two sides of the diff, with the same column names and types; `{wh}` is the attached warehouse
BILLING_SQL = f"""
select
    invoice_id as {KEY},
    cast(total as decimal(38, 9)) as total,
    cast(tax_total as decimal(38, 9)) as tax_total,
    currency_code,
    case invoice_status
        when 'void' then 'Voided'
        when 'paid' then 'Paid In Full'
        when 'open' then 'Open'
        when 'uncollectible' then 'Open'
    end as status
from {{wh}}.canonical.invoices
"""
ERP_SQL = f"""
select
    billing_key as {KEY},
    cast(total as decimal(38, 9)) as total,
    cast(tax_total as decimal(38, 9)) as tax_total,
    currency_code,
    status_name as status
from {{wh}}.canonical.erp_transactions
where record_type = 'invoice' and billing_key is not null
"""


def compiled_sql(data_dir: Path) -> str:
    """The SELECT dbt compiled for invoice_matches in the last build of this data folder."""
    path = data_dir / COMPILED
    if path.exists():
        return path.read_text(encoding="utf-8")
    node = _run_result(data_dir)
    if node and node.get("compiled_code"):
        return node["compiled_code"]
    raise FileNotFoundError(f"no compiled invoice_matches under {data_dir / 'dbt/target'}: run `q2c build` first")


def dbt_execution_seconds(data_dir: Path) -> float | None:
    node = _run_result(data_dir)
    return round(node["execution_time"], 3) if node else None


def _run_result(data_dir: Path) -> dict | None:
    path = data_dir / RUN_RESULTS
    if not path.exists():
        return None
    results = json.loads(path.read_text(encoding="utf-8"))["results"]
    return next((r for r in results if r["unique_id"] == MODEL), None)


def count_pairs(diff: Iterable[tuple[str, tuple]]) -> int:
    """Differing pairs in a join-diff stream.

    Join-diff yields, for each differing row of its outer join, ``("-", billing_row)`` when the billing side is
    present, then ``("+", erp_row)`` when the ERP side is: a ``+`` right after a ``-`` of the same key is the
    other half of the same pair. Billing keys are unique, so this is exact."""
    pairs = 0
    open_key = None
    for sign, row in diff:
        key = row[0]
        if sign == "+" and open_key == key:
            open_key = None
            continue
        pairs += 1
        open_key = key if sign == "-" else None
    return pairs


def _scratch_db(path: Path, warehouse: Path) -> duckdb.DuckDBPyConnection:
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")  # as the build's profile: day arithmetic on timestamptz depends on it
    # the compiled SQL names its relations "warehouse"."schema"."table", as dbt-duckdb does
    con.execute(f"attach '{warehouse}' as warehouse (read_only)")
    return con


def time_recon(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    con.execute("drop table if exists main.invoice_matches")
    started = time.perf_counter()
    con.execute(f"create table main.invoice_matches as (\n{sql}\n)")
    return time.perf_counter() - started


def time_reladiff(db, threads: int) -> tuple[float, int]:
    """Seconds for reladiff to diff billing_invoices against erp_invoices, consuming every difference."""
    from reladiff import Algorithm, connect_to_table, diff_tables

    started = time.perf_counter()
    billing = connect_to_table(db, "billing_invoices", KEY, extra_columns=COMPARED)
    erp = connect_to_table(db, "erp_invoices", KEY, extra_columns=COMPARED)
    with diff_tables(
        billing, erp, algorithm=Algorithm.JOINDIFF, validate_unique_key=False, max_threadpool_size=threads
    ) as diff:
        differences = count_pairs(diff)
    return time.perf_counter() - started, differences


def measure(warehouse: Path, scratch: Path, *, repeat: int = 3, threads: int = 2) -> dict:
    """Time the invoice reconciliation and reladiff on the same inputs of a built warehouse (best of ``repeat``).

    ``warehouse`` is ``<data>/warehouse.duckdb`` (opened read-only); ``scratch`` a folder for the two scratch
    databases, which are left there."""
    from reladiff import connect

    data_dir = warehouse.parent
    sql = compiled_sql(data_dir)
    scratch.mkdir(parents=True, exist_ok=True)

    recon_con = _scratch_db(scratch / "recon.duckdb", warehouse)
    # reladiff's own DuckDB driver, on its own scratch database; the two sides are prepared there, untimed
    diff_path = scratch / "reladiff.duckdb"
    diff_path.unlink(missing_ok=True)
    db = connect({"driver": "duckdb", "filepath": str(diff_path)})
    try:
        db.query(f"attach '{warehouse}' as wh (read_only)")
        db.query("create table billing_invoices as " + BILLING_SQL.format(wh="wh"))
        db.query("create table erp_invoices as " + ERP_SQL.format(wh="wh"))
        db.query("detach wh")
        rows_billing = db.query("select count(*) from billing_invoices", int)
        rows_erp = db.query("select count(*) from erp_invoices", int)

        recon_runs, reladiff_runs, differences = [], [], set()
        for _ in range(repeat):
            recon_runs.append(time_recon(recon_con, sql))
            seconds, found = time_reladiff(db, threads)
            reladiff_runs.append(seconds)
            differences.add(found)
        if len(differences) != 1:
            raise RuntimeError(f"reladiff's difference count changed between runs: {sorted(differences)}")
        recon_rows = recon_con.execute("select count(*) from main.invoice_matches").fetchone()[0]
    finally:
        db.close()
        recon_con.close()

    recon, reladiff = min(recon_runs), min(reladiff_runs)
    return {
        "recon_seconds": round(recon, 6),  # S takes hundredths of a second: keep the ratio's precision
        "reladiff_seconds": round(reladiff, 6),
        "ratio": round(recon / reladiff, 3),
        "rows_billing": rows_billing,
        "rows_erp": rows_erp,
        "differences": differences.pop(),
        "recon_rows": recon_rows,
        "algorithm": "joindiff",
        "reladiff_threads": threads,
        "repeat": repeat,
        "recon_runs": [round(s, 3) for s in recon_runs],
        "reladiff_runs": [round(s, 3) for s in reladiff_runs],
        "dbt_execution_seconds": dbt_execution_seconds(data_dir),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="a built q2c data folder")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; the best is kept")
    parser.add_argument("--threads", type=int, default=2, help="reladiff's max_threadpool_size")
    parser.add_argument("--json", type=Path, help="also write the result to this file")
    args = parser.parse_args()
    warehouse = args.data_dir / "warehouse.duckdb"
    if not warehouse.exists():
        raise SystemExit(f"{warehouse} does not exist: run `q2c build` first")
    with tempfile.TemporaryDirectory(prefix="q2c-bench-recon-") as tmp:
        result = measure(warehouse, Path(tmp), repeat=args.repeat, threads=args.threads)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
