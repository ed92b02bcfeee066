"""The report reads well at scale: 130 routes, 36 hours, 41,000 alerts, at 1400 px in chromium.

Set INTELSHARE_SCREENSHOTS=DIR to keep the screenshots (the README's come from here).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cdp_pipe import Browser, Page
from scale_log import ALERTS, LOSSY_ROUTE, ROUTES, ScaleLog, generate
from typer.testing import CliRunner

from intelshare.cli import app
from intelshare.logs.report.flow import TOP_REFUSED, TOP_ROUTES
from intelshare.logs.report.tables import LISTED_ALERTS

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def scale(tmp_path_factory: pytest.TempPathFactory) -> tuple[ScaleLog, Path]:
    """The generated log, and its report written by ``intelshare logs report``."""
    folder = tmp_path_factory.mktemp("scale")
    made = generate(folder / "logs")
    page = folder / "report.html"
    result = CliRunner().invoke(app, ["logs", "report", str(folder / "logs"), "-o", str(page)])
    assert result.exit_code == 0, result.output
    return made, page


@pytest.fixture(scope="module")
def page(chromium_binary: str, scale: tuple[ScaleLog, Path]):
    """The report open in one headless chromium for the whole module."""
    browser = Browser(chromium_binary)
    try:
        opened = Page(browser, width=1400, height=1000)
        opened.open(scale[1].as_uri())
        yield opened
    finally:
        browser.close()


def _shot(page: Page, name: str, selector: str | None = None) -> None:
    folder = os.environ.get("INTELSHARE_SCREENSHOTS")
    if folder:
        page.screenshot(Path(folder) / name, selector)


def test_page_loads_without_errors_and_counts_every_alert(page: Page, scale):
    """No console error or request; the note counts all 41,000 alerts, exactly."""
    made, _ = scale
    assert len(made.alerts) == ALERTS
    note = page.evaluate("document.getElementById('alerts-note').textContent")
    assert note.startswith(f"{LISTED_ALERTS} of {ALERTS} alerts listed; the search box finds all")
    assert page.evaluate("document.querySelectorAll('tr.alert').length") == LISTED_ALERTS
    log = page.collect()
    assert log.errors == []
    assert [url for url in log.requests if not url.startswith(("file:", "data:"))] == []
    _shot(page, "logs-report-scale.png")


def test_flow_draws_the_busiest_routes_and_counts_the_others(page: Page, scale):
    """At most TOP_ROUTES ribbons, the rest summed up in words, and no two counts overlap."""
    made, _ = scale
    drawn = page.evaluate("document.querySelectorAll('svg.flow g.edge.sent').length")
    assert drawn == TOP_ROUTES
    assert page.evaluate("document.querySelectorAll('svg.flow g.edge.refused').length") == (
        TOP_REFUSED
    )
    others = page.evaluate("document.querySelector('#flow p.others').textContent")
    assert f"Not drawn: {ROUTES - TOP_ROUTES} smaller routes" in others
    assert f"{len(made.refused_routes) - TOP_REFUSED} more refused routes" in others
    boxes = page.evaluate(
        "Array.from(document.querySelectorAll('svg.flow text.edge-label, svg.flow "
        "text.refused-mark')).map(t => { const b = t.getBoundingClientRect(); "
        "return [b.left, b.top, b.right, b.bottom]; })"
    )
    assert boxes
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    _shot(page, "logs-report-scale-flow.png", "#flow")


def test_matrix_scrolls_with_sticky_headers_and_marks_only_what_stands_out(page: Page):
    """The matrix scrolls in its box, its headers stay put, and only the lossy route is marked."""
    fits = page.evaluate(
        "(() => { const box = document.querySelector('.matrix-box');"
        " const panel = document.getElementById('routes');"
        " return box.getBoundingClientRect().right <= panel.getBoundingClientRect().right; })()"
    )
    assert fits
    stuck = page.evaluate(
        "(() => { const box = document.querySelector('.matrix-box');"
        " box.scrollTop = 200; box.scrollLeft = 300;"
        " const head = document.querySelector('table.matrix thead th:nth-child(5)');"
        " const row = document.querySelector('table.matrix tbody tr:nth-child(12) th');"
        " const b = box.getBoundingClientRect(), h = head.getBoundingClientRect(),"
        " r = row.getBoundingClientRect();"
        " return [Math.round(h.top - b.top), Math.round(r.left - b.left)]; })()"
    )
    assert stuck == [1, 1] or (abs(stuck[0]) <= 1 and abs(stuck[1]) <= 1), stuck
    marked = page.evaluate(
        "Array.from(document.querySelectorAll('table.matrix td.out')).map(td => td.dataset.route)"
    )
    assert marked == [f"{LOSSY_ROUTE[0]}>{LOSSY_ROUTE[1]}"]
    assert page.evaluate("document.querySelectorAll('table.matrix td[data-route]').length") == (
        ROUTES
    )
    page.evaluate("document.querySelector('.matrix-box').scrollTo(0, 0)")
    _shot(page, "logs-report-scale-matrix.png", "#routes")


def test_latency_chart_is_log_scale_with_bands_and_dates(page: Page):
    """The y axis spans decades, a band and a median are drawn, and time labels carry dates."""
    ticks = page.evaluate(
        "Array.from(document.querySelectorAll('svg.latency text.tick:not(.time)'))"
        ".map(t => t.textContent)"
    )
    assert "10 ms" in ticks
    assert "100 ms" in ticks
    assert "10 s" in ticks
    times = page.evaluate(
        "Array.from(document.querySelectorAll('svg.latency text.time')).map(t => t.textContent)"
    )
    assert times == [
        "27 Nov 12:00",
        "27 Nov 18:00",
        "28 Nov 00:00",
        "28 Nov 06:00",
        "28 Nov 12:00",
    ]
    assert page.evaluate("document.querySelectorAll('svg.latency polygon.band').length") == 1
    # The bulk (~50 ms) sits mid-height, not flat on the axis.
    median = page.evaluate(
        "(() => { const l = document.querySelector('svg.latency polyline.median');"
        " const b = l.getBoundingClientRect(), s = l.ownerSVGElement.getBoundingClientRect();"
        " return [(b.top - s.top) / s.height, (b.bottom - s.top) / s.height]; })()"
    )
    assert 0.2 < median[0] < median[1] < 0.8, median
    _shot(page, "logs-report-scale-latency.png", "#latency")


def test_refusals_are_one_row_per_rule_with_each_routes_own_reason(page: Page):
    """One row per rule (three refusals, one rejection); a route's reason names its own route."""
    rules = page.evaluate(
        "Array.from(document.querySelectorAll('table.refusals tr[data-rule]'))"
        ".map(r => r.dataset.rule)"
    )
    assert sorted(rules) == [
        "category-not-covered",
        "expired",
        "handling-above-cap",
        "no-agreement",
    ]
    height = page.evaluate("document.getElementById('refusals').getBoundingClientRect().height")
    assert height < 1200, height
    titles = page.evaluate(
        "Array.from(document.querySelectorAll(\"tr[data-rule='handling-above-cap'] .route\"))"
        ".map(r => [r.firstChild.textContent.trim(), r.title])"
    )
    assert len(titles) > 20
    for route, reason in titles:
        origin, target = route.split(" → ")
        assert f"the {origin}-{target} cap" in reason, (route, reason)
    page_height = page.evaluate("document.documentElement.scrollHeight")
    assert page_height < 6000, page_height
    _shot(page, "logs-report-scale-refusals.png", "#refusals")


def test_alert_list_puts_problems_first_and_search_finds_any_alert(page: Page, scale):
    """Rejected alerts head the list; an alert not listed is found by the search and shown."""
    made, _ = scale
    first = page.evaluate(
        "Array.from(document.querySelectorAll('tr.alert')).slice(0, 5)"
        ".map(r => r.querySelector('td.flags').textContent)"
    )
    assert all(flags.startswith("rejected") for flags in first), first
    listed = set(
        page.evaluate("Array.from(document.querySelectorAll('tr.alert')).map(r => r.dataset.alert)")
    )
    wanted = next(alert for alert in reversed(made.alerts) if alert not in listed)
    found = page.evaluate(f"window.intelshareFind({wanted!r}).map(row => row[0])")
    assert found == [wanted]
    page.evaluate("document.querySelector('#search-results tr.found-alert').click()")
    title = page.evaluate("document.getElementById('trace-title').textContent")
    assert wanted in title
    assert page.evaluate("location.hash") == f"#alert={wanted}"
    assert page.collect().errors == []
    page.evaluate(
        "(() => { const s = document.getElementById('alert-search'); s.value = "
        f"{wanted[:6]!r}; s.dispatchEvent(new Event('input')); }})()"
    )
    _shot(page, "logs-report-scale-alerts.png", "section.traces")
