"""The report of a real ``q2c run`` (served sandbox, ingest, dbt build, snapshot, push), opened in headless
Chromium from a file URL with the network features off: the SVG charts are in the rendered DOM and their
marks are drawn in the screenshot, inside each chart's own box."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines.run.history import recent_runs
from pipelines.run.snapshot import snapshot_path
from tests.pipelines.report.chromium import ensure_chromium, run_chromium
from tests.pipelines.report.png import Image, read_png
from tests.pipelines.run import conftest as run_fixtures
from tests.pipelines.run.served import q2c

pytestmark = [pytest.mark.slow, pytest.mark.timeout(run_fixtures.RUN_TIMEOUT + 600)]

served = run_fixtures.served  # one sandbox for this module, as the run tests have
WINDOW = (1280, 2400)
CHARTS = ("exceptions-by-type", "risk-by-subsidiary", "exception-aging", "posting-completeness", "payment-sync-lag")
# written into a copy of the report only: records where each chart was laid out, for --dump-dom to show
BOX_PROBE = """<script>
for (const svg of document.querySelectorAll("svg.chart")) {
  const r = svg.getBoundingClientRect();
  svg.setAttribute("data-box", JSON.stringify([r.left, r.top + window.scrollY, r.width, r.height]));
}
</script>"""


@dataclass
class ChartBox:
    name: str
    inks: list[tuple[int, int, int]]
    left: int
    top: int
    width: int
    height: int


@pytest.fixture(scope="session")
def chromium() -> None:
    reason = ensure_chromium()
    if reason:
        pytest.skip(f"headless Chromium unavailable: {reason}")


@pytest.fixture(scope="module")
def report_of_a_run(served, tmp_path_factory) -> Path:
    """``q2c run`` then ``q2c report --out``, both as a scheduler or a person would start them."""
    run = q2c("run", env=served.env, cwd=served.folder)
    out, err = run.communicate(timeout=run_fixtures.RUN_TIMEOUT)
    assert run.returncode == 0, err[-4000:]
    target = tmp_path_factory.mktemp("report") / "report.html"
    made = q2c("report", "--out", str(target), env=served.env, cwd=served.folder)
    out, err = made.communicate(timeout=300)
    assert made.returncode == 0, err[-4000:]
    assert str(target) in out
    return target


def chart_boxes(dom: str) -> list[ChartBox]:
    boxes = []
    for tag in re.findall(r"<svg [^>]*class=\"chart\"[^>]*>", dom):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        left, top, width, height = (round(v) for v in json.loads(attrs["data-box"]))
        inks = [tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in attrs["data-ink"].split()]
        boxes.append(ChartBox(attrs["data-chart"], inks, left, top, width, height))
    return boxes


def ink_pixels(image: Image, box: ChartBox, tolerance: int = 6) -> int:
    """Pixels inside ``box`` drawn in one of the chart's colours (anti-aliased edges don't count)."""
    found = 0
    for y in range(box.top, min(box.top + box.height, len(image.rows))):
        for x in range(box.left, min(box.left + box.width, image.width)):
            pixel = image.pixel(x, y)
            if any(all(abs(p - i) <= tolerance for p, i in zip(pixel, ink, strict=True)) for ink in box.inks):
                found += 1
    return found


def test_the_report_renders_with_its_charts_in_headless_chromium(chromium, report_of_a_run, tmp_path):
    html = report_of_a_run.read_text(encoding="utf-8")
    assert "<script" not in html
    url = report_of_a_run.resolve().as_uri()

    # the DOM after Chromium parsed and laid out the page: every chart is there as SVG with its marks
    dom = run_chromium(url, tmp_path / "profile-dom", "--dump-dom", window=WINDOW)
    charts = re.findall(r'<svg [^>]*data-chart="([^"]+)"[^>]*>(.*?)</svg>', dom, re.S)
    assert [name for name, _ in charts] == list(CHARTS)
    marks = {name: len(re.findall(r"<(?:rect|circle)\b", body)) for name, body in charts}
    assert all(n > 0 for n in marks.values()), marks

    # where each chart was laid out, from a probe copy (same page plus a script that records the boxes)
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", f"{BOX_PROBE}</body>"), encoding="utf-8")
    boxes = chart_boxes(run_chromium(probe.as_uri(), tmp_path / "profile-probe", "--dump-dom", window=WINDOW))
    assert [b.name for b in boxes] == list(CHARTS)
    assert all(b.top + b.height <= WINDOW[1] for b in boxes), "a chart falls below the screenshot"

    shot = tmp_path / "report.png"
    run_chromium(url, tmp_path / "profile-shot", f"--screenshot={shot}", window=WINDOW)
    image = read_png(shot, max_rows=max(b.top + b.height for b in boxes))
    assert image.width == WINDOW[0]
    drawn = {b.name: ink_pixels(image, b) for b in boxes}
    assert all(n >= 50 for n in drawn.values()), drawn  # a 5 px marker alone is ~60 pixels
    assert image.pixel(2, 2) == (255, 255, 255)  # the page itself is blank paper: the ink above is the charts'


def test_the_report_shows_the_snapshots_figures_and_the_run(report_of_a_run, served):
    with duckdb.connect(str(snapshot_path(served.data_dir)), read_only=True) as con:
        opened, at_risk = con.execute(
            "SELECT count(*), sum(amount_at_risk_reporting) FROM reconciliation.exceptions WHERE status = 'open'"
        ).fetchone()
        top_id = con.execute(
            "SELECT exception_type, subject_key FROM reconciliation.exceptions WHERE status = 'open' "
            "ORDER BY amount_at_risk_reporting DESC, exception_type, subject_key LIMIT 1"
        ).fetchone()
    assert opened > 0, "the S scenario injects exceptions of every type"
    html = report_of_a_run.read_text(encoding="utf-8")
    assert f"<b>{opened:,}</b>" in html and f"<b>{at_risk:,.2f} USD</b>" in html  # Decimal: exact
    top = html[html.index('<section id="top">') :]
    assert top_id[0] in top[:3000] and top_id[1] in top[:3000]
    (run,) = recent_runs(served.data_dir)
    assert run.run_id in html and "No push ledger yet" not in html and "No snapshot yet" not in html
