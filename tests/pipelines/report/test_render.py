"""The report rendered from a small real snapshot and ops store: exact figures, escaping, missing data."""

from __future__ import annotations

import re
from datetime import date, timedelta

from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.report import render_report, write_report
from tests.pipelines.report.conftest import NOW, Exc, Snapshot, write_ledger, write_run, write_snapshot

DAY = NOW.date()


def section(html: str, anchor: str) -> str:
    match = re.search(rf'<section id="{anchor}">(.*?)</section>', html, re.S)
    assert match, f"no section {anchor}"
    return match.group(1)


def test_amounts_at_risk_are_exact_and_summed_per_subsidiary(data_folder):
    write_snapshot(
        data_folder,
        Snapshot(
            [
                # beyond a float's 53 bits: a float sum would print ...992.00 or ...996.00
                Exc("INVOICE_MISSING_IN_ERP", "in_big", "9007199254740993.01", "critical", "US"),
                Exc("INVOICE_AMOUNT_MISMATCH", "in_cent", "0.01", "low", "US"),
                Exc("INVOICE_TAX_MISMATCH", "in_de", "10.10", "low", "DE", "EUR", amount="9.3500"),
                Exc("PAYMENT_MISSING_IN_ERP", "ch_gone", "500.00", status="resolved"),  # resolved: not counted
                Exc("CUSTOMER_MERGED_STALE_REF", "cus_x", "0.00", "low", None),
            ]
        ),
    )
    risk = section(render_report(data_folder), "risk")
    assert "9,007,199,254,740,993.02" in risk  # US: the big one + 0.01
    assert "10.10" in risk and "(no subsidiary)" in risk
    assert "9,007,199,254,741,003.12" in risk  # all subsidiaries
    assert "500.00" not in risk
    # what was fixed stays visible: resolved exceptions by type, with when
    resolved = section(render_report(data_folder), "resolved")
    assert "PAYMENT_MISSING_IN_ERP" in resolved and "INVOICE_MISSING_IN_ERP" not in resolved


def test_exceptions_by_type_count_each_severity_and_draw_stacked_bars(data_folder):
    write_snapshot(
        data_folder,
        Snapshot(
            [
                Exc("INVOICE_MISSING_IN_ERP", "in_1", "20000.00", "critical"),
                Exc("INVOICE_MISSING_IN_ERP", "in_2", "1500.00", "high"),
                Exc("INVOICE_MISSING_IN_ERP", "in_3", "150.00", "medium"),
                Exc("PRODUCT_UNMAPPED", "prod_1", "0.00", "high"),
            ]
        ),
    )
    part = section(render_report(data_folder), "exceptions")
    rows = re.findall(r"<tr>(.*?)</tr>", part, re.S)
    missing_row = next(r for r in rows if "INVOICE_MISSING_IN_ERP" in r)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", missing_row)
    assert cells[1:] == ["1", "1", "1", "", "3", "21,650.00"]  # critical, high, medium, low, open, USD
    assert 'data-chart="exceptions-by-type"' in part
    assert part.count("<rect") >= 4  # 3 severities of one type + one of the other


def test_data_is_escaped_everywhere(data_folder):
    hostile = '<script>alert("x")</script>'
    write_snapshot(
        data_folder,
        Snapshot(
            [
                Exc(
                    "INVOICE_MISSING_IN_ERP",
                    'in_"&<b>',
                    "12.00",
                    subsidiary="<i>UK</i>",
                    detail=hostile,
                    suggested_action="Ask <Finance> & 'AR'",
                )
            ]
        ),
    )
    write_run(data_folder, "<img src=x onerror=alert(1)>", {"build": 1.5})
    html = render_report(data_folder)
    assert "<script" not in html and "<img" not in html and "<i>UK" not in html and "&<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "Ask &lt;Finance&gt; &amp; &#x27;AR&#x27;" in html
    assert "in_&quot;&amp;&lt;b&gt;" in html


def test_missing_snapshot_and_ops_store_are_said_not_failed(data_folder):
    html = render_report(data_folder)
    for anchor in ("exceptions", "risk", "aging", "trends", "top"):
        assert "No snapshot yet" in section(html, anchor)
    runs = section(html, "runs")
    assert "No runs recorded yet" in runs and "No push ledger yet" in runs
    assert "<svg" not in html


def test_a_snapshot_without_kpis_still_reports_the_rest(data_folder):
    write_snapshot(data_folder, Snapshot([Exc("INVOICE_MISSING_IN_ERP", "in_1", "5.00")], kpis=None))
    html = render_report(data_folder)
    assert "lacks this table" in section(html, "aging") and "lacks this table" in section(html, "trends")
    assert "5.00" in section(html, "risk") and "in_1" in section(html, "top")


def test_top_exceptions_by_usd_amount_then_severity_with_detail_and_action(data_folder):
    write_snapshot(
        data_folder,
        Snapshot(
            [
                Exc("INVOICE_TAX_MISMATCH", "in_small", "5.00", "low"),
                Exc("POSTING_PERIOD_CLOSED", "in_tie_high", "700.00", "high"),
                Exc("INVOICE_AMOUNT_MISMATCH", "in_tie_medium", "700.00", "medium"),
                Exc(
                    "INVOICE_CURRENCY_MISMATCH",
                    "in_gbp",
                    "1266.55",
                    "high",
                    "UK",
                    "GBP",
                    amount="1000.0000",
                    detail="ERP in USD, billing in GBP",
                    suggested_action="Void and re-post in GBP",
                ),
            ]
        ),
    )
    top = section(render_report(data_folder), "top")
    order = [top.index(k) for k in ("in_gbp", "in_tie_high", "in_tie_medium", "in_small")]
    assert order == sorted(order)
    assert "1,266.55" in top and "1,000.00 GBP" in top
    assert "ERP in USD, billing in GBP" in top and "Void and re-post in GBP" in top


def test_aging_and_trends_come_from_the_kpis_mart(data_folder):
    days = [DAY - timedelta(days=2), DAY - timedelta(days=1), DAY]
    kpis = []
    for i, day in enumerate(days):
        kpis += [
            (day, "posting_completeness", "all", "all", ["0.9500", "0.9750", None][i], "share"),
            (day, "payment_sync_lag_median", "all", "all", "1.5000", "hours"),
            (day, "payment_sync_lag_p95", "all", "all", "30.2500", "hours"),
        ]
    kpis += [
        (DAY, "open_exceptions", "all", "all", "7", "exceptions"),
        (DAY, "open_exceptions", "INVOICE_MISSING_IN_ERP", "0-2d", "3", "exceptions"),
        (DAY, "open_exceptions", "PRODUCT_UNMAPPED", "0-2d", "1", "exceptions"),
        (DAY, "open_exceptions", "PRODUCT_UNMAPPED", "31d+", "3", "exceptions"),
        (days[0], "open_exceptions", "PRODUCT_UNMAPPED", "8-30d", "9", "exceptions"),  # an older day: not shown
    ]
    write_snapshot(data_folder, Snapshot([Exc("INVOICE_MISSING_IN_ERP", "in_1", "1.00")], kpis=kpis))
    html = render_report(data_folder)
    aging = section(html, "aging")
    counts = dict(re.findall(r"<tr><td>([\d+-]+d\+?)</td><td class=num>(\d+)</td></tr>", aging))
    assert counts == {"0-2d": "4", "3-7d": "0", "8-30d": "0", "31d+": "3"}
    trends = section(html, "trends")
    assert "97.50%" in trends and "95.00%" in trends and "30.25 h" in trends
    # one marker per measured point: completeness has 2 (the last day measured nothing), lag 3 + 3
    completeness = re.search(r'<svg[^>]*data-chart="posting-completeness".*?</svg>', trends, re.S).group(0)
    lag = re.search(r'<svg[^>]*data-chart="payment-sync-lag".*?</svg>', trends, re.S).group(0)
    assert completeness.count("<circle") == 2 and lag.count("<circle") == 6


def test_run_history_and_ledger_from_the_ops_store(data_folder):
    write_run(data_folder, "run-a", {"ingest.crm": 2.25, "build": 40.0, "push": 3.5})
    write_ledger(data_folder, posted=3, in_flight=1)
    runs = section(render_report(data_folder), "runs")
    assert "run-a" in runs and "40.0 s" in runs and "45.8 s" in runs  # 2.25 + 40 + 3.5
    assert "posted 3" in runs and "in_flight 1" in runs and "Dead letters awaiting replay: 0" in runs
    assert "push-1" in runs


def test_the_file_stands_alone(data_folder):
    write_snapshot(data_folder, Snapshot([Exc("INVOICE_MISSING_IN_ERP", "in_1", "1.00")]))
    html = render_report(data_folder)
    references = re.findall(r"""(?:src|href)\s*=|url\(|@import|<script|<link""", html, re.I)
    assert references == []
    assert set(re.findall(r"https?://[^\"' ]+", html)) == {"http://www.w3.org/2000/svg"}  # a namespace, not fetched


def test_cli_writes_the_report_to_the_data_folder_or_out(data_folder, tmp_path):
    write_snapshot(data_folder, Snapshot([Exc("INVOICE_MISSING_IN_ERP", "in_1", "1.00")]))
    runner = CliRunner()
    result = runner.invoke(cli, ["--data-dir", str(data_folder), "report"])
    assert result.exit_code == 0, result.output
    assert (data_folder / "report.html").read_text().startswith("<!DOCTYPE html>")
    out = tmp_path / "shared" / "q2c.html"
    result = runner.invoke(cli, ["--data-dir", str(data_folder), "report", "--out", str(out)])
    assert result.exit_code == 0 and str(out) in result.output
    assert write_report(data_folder, out) == out and "in_1" in out.read_text()


def test_kpi_day_is_a_date(data_folder):
    write_snapshot(data_folder, Snapshot([], kpis=[(date(2026, 10, 30), "open_exceptions", "all", "all", "0", "x")]))
    html = render_report(data_folder)
    assert "No open exceptions" in section(html, "exceptions")
    assert "No open exceptions on 2026-10-30" in section(html, "aging")
