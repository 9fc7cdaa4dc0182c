"""bench.recon: the invoice reconciliation and reladiff time the same inputs and see the same differences."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from bench.recon import count_pairs, measure
from tests.bench.conftest import Cycle
from tests.dbt_project.scenario_build import query

# a pair of invoice_matches differs, for reladiff, when one side is absent or a compared value is distinct
MISMATCHING_PAIRS = """
select count(*) from reconciliation.invoice_matches
where invoice_id is null or erp_transaction_id is null
   or billing_total is distinct from erp_total
   or billing_tax_total is distinct from erp_tax_total
   or billing_currency is distinct from erp_currency
   or expected_erp_status is distinct from erp_status
"""


def test_count_pairs_joins_the_two_halves_of_a_pair() -> None:
    stream = [
        ("-", ("in_a", 1)),  # billing only
        ("-", ("in_b", 1)),  # both sides, values differ
        ("+", ("in_b", 2)),
        ("+", ("in_c", 1)),  # ERP only
        ("-", ("in_d", 1)),  # one billing invoice, two differing ERP records: two pairs
        ("+", ("in_d", 2)),
        ("-", ("in_d", 1)),
        ("+", ("in_d", 3)),
        ("+", ("in_e", 1)),  # two ERP-only records of one key
        ("+", ("in_e", 2)),
    ]
    assert count_pairs(stream) == 7
    assert count_pairs([]) == 0


@pytest.mark.slow
def test_measure_times_both_sides_on_the_same_differences(cycle_s: Cycle, tmp_path: Path) -> None:
    warehouse = cycle_s.data_dir / "warehouse.duckdb"  # after the cycle's full and incremental runs
    scratch = tmp_path / "scratch"

    result = measure(warehouse, scratch, repeat=1)

    assert result["recon_seconds"] > 0 and result["reladiff_seconds"] > 0
    ratio = result["recon_seconds"] / result["reladiff_seconds"]
    assert result["ratio"] == pytest.approx(ratio, rel=0.01, abs=0.001)  # rounded to 3 places
    assert result["dbt_execution_seconds"] > 0
    [(invoices,)] = query(warehouse, "select count(*) from canonical.invoices")
    [(erp_invoices,)] = query(
        warehouse,
        "select count(*) from canonical.erp_transactions where record_type = 'invoice' and billing_key is not null",
    )
    assert (result["rows_billing"], result["rows_erp"]) == (invoices, erp_invoices)
    # both diff the same pairs: every ERP invoice reladiff sees is in invoice_matches (here all keys are `in_`)
    [(paired_erp,)] = query(
        warehouse, "select count(*) from reconciliation.invoice_matches where erp_transaction_id is not null"
    )
    assert paired_erp == erp_invoices
    [(mismatching,)] = query(warehouse, MISMATCHING_PAIRS)
    assert mismatching > 0
    assert result["differences"] == mismatching

    # the timed reconciliation is the model's compiled SQL: its table equals the one dbt built
    assert result["recon_rows"] == query(warehouse, "select count(*) from reconciliation.invoice_matches")[0][0]
    with duckdb.connect(str(scratch / "recon.duckdb"), read_only=True) as con:
        con.execute(f"attach '{warehouse}' as built (read_only)")
        for a, b in [("main", "built.reconciliation"), ("built.reconciliation", "main")]:
            sql = f"select count(*) from (from {a}.invoice_matches except all from {b}.invoice_matches)"
            assert con.execute(sql).fetchone() == (0,)
