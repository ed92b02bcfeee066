from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from cdp_pipe import CHROMIUM_FLAGS, Browser, Page

from intelshare.contract.events import LOGGED_EVENTS
from intelshare.logs.describe import COUNTRY_NAMES
from intelshare.logs.lines import ReadCounts
from intelshare.logs.reader import read_events
from intelshare.logs.report.collect import ReportCollector
from intelshare.logs.report.page import render_html

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent.parent / "unit" / "fixtures" / "logs"
SOURCES = [str(FIXTURES / "story"), str(FIXTURES / "compose.txt")]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the hand-counted story fixture, written to a file."""
    counts = ReadCounts()
    data = ReportCollector().add_all(read_events(SOURCES, counts)).result()
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_html(data, read_note="fixture"), encoding="utf-8")
    return path


def _texts(page: Page, selector: str) -> list[str]:
    return page.evaluate(
        f"Array.from(document.querySelectorAll({selector!r})).map(e => e.textContent.trim())"
    )


def test_report_shows_countries_and_hand_counted_figures_without_errors(
    browser: Browser, report: Path, tmp_path: Path
):
    """The page loads with no console error or request, and shows the fixture's counts."""
    page = Page(browser)
    page.open(report.as_uri())
    names = set(_texts(page, "svg.flow .node text.name"))
    assert names == {"United Kingdom", "Serbia", "North Macedonia", "Kosovo", "Türkiye", "Hungary"}
    figures = dict(
        zip(
            page.evaluate(
                "Array.from(document.querySelectorAll('.card')).map(c => c.dataset.figure)"
            ),
            _texts(page, ".card b"),
            strict=True,
        )
    )
    assert figures == {
        "sent": "4",
        "received": "4",
        "refused": "2",
        "rejected": "1",
        "deadletters": "1",
        "duplicates": "1",
        "overdue": "1",
        "p95": "600 ms",
    }
    assert _texts(page, "table.matrix td[data-route='GB>RS']") == ["2 / 1"]
    assert _texts(page, "svg.flow text.edge-label[data-route='GB>RS']") == ["2"]
    assert _texts(page, "svg.flow .refused-mark") == ["✕ 1", "✕ 1"]
    assert len(_texts(page, "table.refusals tr[data-rule]")) == 3
    # Problems first (GB-0002 rejected on arrival), then overdue (GB-0001), refused (RS-0001).
    assert page.evaluate(
        "Array.from(document.querySelectorAll('tr.alert')).map(r => r.dataset.alert)"
    ) == ["GB-0002", "GB-0001", "RS-0001", "TR-0001"]
    page.screenshot(tmp_path / "report.png")
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    log = page.collect()
    assert log.errors == []
    assert [url for url in log.requests if not url.startswith(("file:", "data:"))] == []


def test_clicking_an_alert_shows_its_trace(browser: Browser, report: Path):
    """A click on an alert's row draws its timeline and per-recipient lanes from the page's data."""
    page = Page(browser)
    page.open(report.as_uri())
    assert page.evaluate("document.getElementById('trace-title').textContent") == (
        "Trace of GB-0002 (case CASE-7)"
    )
    assert page.evaluate(
        "Array.from(document.querySelectorAll('ol.timeline li')).map(li => li.dataset.event)"
    ) == ["alert.sent", "alert.rejected"]
    assert _texts(page, "table.lanes td")[-1] == "refused: handling-above-cap"
    page.evaluate("document.querySelector(\"tr.alert[data-alert='GB-0001']\").click()")
    assert page.evaluate("document.getElementById('trace-title').textContent") == (
        "Trace of GB-0001 (case CASE-7)"
    )
    assert len(_texts(page, "ol.timeline li")) == 18
    assert page.evaluate("location.hash") == "#alert=GB-0001"
    assert page.collect().errors == []


def test_dump_dom_after_scripts_ran(chromium_binary: str, report: Path, tmp_path: Path):
    """``chromium --dump-dom`` prints the DOM after the script has drawn the first trace."""
    result = subprocess.run(
        [
            chromium_binary,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--dump-dom",
            report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'id="trace-title">Trace of GB-0002 (case CASE-7)</h2>' in result.stdout
    assert result.stdout.count('class="step"') == 2
    assert "Uncaught" not in result.stderr


def test_report_of_the_captured_demo_agrees_with_its_lines(browser: Browser, tmp_path: Path):
    """On a real demo capture, the page shows every country and the counts its lines give."""
    demo = FIXTURES / "captured" / "demo"
    objects = [
        json.loads(line)
        for path in sorted(demo.glob("*.log"))
        for line in path.read_text().splitlines()
    ]
    events = [obj for obj in objects if obj["event"] in LOGGED_EVENTS]
    sent = sum(
        1 for o in events if o["event"] == "alert.sent" and o["message_type"] != "REVOCATION"
    )
    received = sum(1 for o in events if o["event"] == "alert.received")
    countries = {o["country"] for o in events}
    alerts = {o["alert_id"] for o in events if "alert_id" in o}
    data = ReportCollector().add_all(read_events([str(demo)])).result()
    path = tmp_path / "demo.html"
    path.write_text(render_html(data), encoding="utf-8")
    page = Page(browser)
    page.open(path.as_uri())
    names = set(_texts(page, "svg.flow .node text.name"))
    assert {COUNTRY_NAMES[code] for code in countries} <= names
    assert _texts(page, ".card[data-figure='sent'] b") == [str(sent)]
    assert _texts(page, ".card[data-figure='received'] b") == [str(received)]
    assert len(_texts(page, "tr.alert")) == len(alerts)
    assert page.collect().errors == []


def test_markup_in_log_values_stays_text_in_the_browser(browser: Browser, tmp_path: Path):
    """Log values holding markup and ``</script>`` run nothing and add no element in chromium."""
    hostile = (
        '"><img src=x onerror="document.title=\'pwned\'">'
        '</script><script>document.title="pwned"</script><!--'
    )
    lines = [
        {"timestamp": "2026-11-28T09:00:01.000Z", "level": "info", "event": "alert.sent",
         "service": "producer", "country": "GB", "alert_id": f"GB-1{hostile}",
         "case_id": hostile, "originator": "GB", "recipient": f"RS{hostile}", "tlp": hostile},
        {"timestamp": "2026-11-28T09:00:02.000Z", "level": "info", "event": "alert.received",
         "service": "consumer", "country": f"RS{hostile}", "alert_id": f"GB-1{hostile}",
         "case_id": hostile, "originator": "GB", "category": hostile, "latency_ms": 40.0},
        {"timestamp": "2026-11-28T09:00:03.000Z", "level": "warning", "event": "alert.refused",
         "service": "producer", "country": "GB", "alert_id": f"GB-1{hostile}", "originator": "GB",
         "recipient": "XK", "rule": hostile, "reason": hostile},
    ]  # fmt: skip
    log = tmp_path / "hostile.log"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    data = ReportCollector().add_all(read_events([str(log)])).result()
    path = tmp_path / "hostile.html"
    path.write_text(render_html(data, title=hostile), encoding="utf-8")
    page = Page(browser)
    page.open(path.as_uri())
    page.evaluate("document.querySelector('tr.alert').click()")
    assert page.evaluate("document.title") == hostile
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("document.scripts.length") == 3
    assert page.evaluate("document.getElementById('trace-title').textContent") == (
        f"Trace of GB-1{hostile} (case {hostile})"
    )
    assert page.collect().errors == []
