"""The report is safe: log values that hold markup stay text in every context of the page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from intelshare.logs.model import to_event
from intelshare.logs.report.collect import ReportCollector
from intelshare.logs.report.page import render_html

HOSTILE_COUNTRY = 'RS"><img src=x onerror=alert(1)>'
HOSTILE_ID = "GB-1</script><script>alert(2)</script><!--"
HOSTILE = "<svg onload=alert(3)><b>bold</b></svg>' \" & <!-- </script>"
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "p", "main", "section",
    "div", "b", "span", "h2", "small", "svg", "defs", "marker", "path", "g", "circle", "text",
    "table", "thead", "tbody", "tr", "th", "td", "br", "i", "line", "polygon", "polyline",
    "details", "summary", "input", "code", "footer", "script",
}  # fmt: skip
"""Every element the templates write; the logs must add none."""


def _events() -> list[dict[str, object]]:
    base = {
        "level": "info",
        "alert_id": HOSTILE_ID,
        "case_id": HOSTILE,
        "category": HOSTILE,
        "tlp": HOSTILE,
        "originator": "GB",
    }
    at = "2026-11-28T09:00:0{}.000Z"
    return [
        {**base, "timestamp": at.format(1), "event": "alert.sent", "service": "producer",
         "country": "GB", "recipient": HOSTILE_COUNTRY},
        {**base, "timestamp": at.format(2), "event": "alert.received", "service": "consumer",
         "country": HOSTILE_COUNTRY, "latency_ms": 40.0},
        {**base, "timestamp": at.format(3), "event": "alert.refused", "service": "producer",
         "country": "GB", "recipient": HOSTILE_COUNTRY, "rule": HOSTILE, "reason": HOSTILE},
        {**base, "timestamp": at.format(4), "event": "alert.rejected", "service": "consumer",
         "country": HOSTILE_COUNTRY, "rule": "</script>", "reason": HOSTILE},
        {**base, "timestamp": at.format(5), "event": "message.deadlettered",
         "service": "consumer", "country": HOSTILE_COUNTRY, "error": HOSTILE,
         "error_type": HOSTILE},
    ]  # fmt: skip


class _Page(HTMLParser):
    """Collects every element, attribute and script body of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.tags.append(f"<!--{data}-->")


@pytest.fixture(scope="module")
def page() -> _Page:
    """The report of the hostile log lines, parsed as a browser's tokenizer would."""
    collector = ReportCollector()
    for number, obj in enumerate(_events(), start=1):
        event = to_event(obj, source=f"{HOSTILE}.log", line=number)
        assert event is not None
        collector.add(event)
    parsed = _Page()
    parsed.feed(render_html(collector.result(), read_note=HOSTILE, title=HOSTILE))
    parsed.close()
    return parsed


def test_the_logs_add_no_element_comment_or_event_handler(page: _Page):
    """Only the templates' own elements appear: no img, no svg onload, no comment."""
    assert set(page.tags) <= TEMPLATE_TAGS, set(page.tags) - TEMPLATE_TAGS
    assert "img" not in page.tags
    assert not [name for name, _ in page.attributes if name.startswith("on")]
    assert page.tags.count("script") == 3


def test_values_come_back_as_text_in_text_and_attributes(page: _Page):
    """The hostile values are shown as the text they are, in text and in attribute values."""
    text = "".join(page.text)
    assert HOSTILE_COUNTRY in text
    assert HOSTILE in text
    assert HOSTILE_ID in text
    values = [value for _, value in page.attributes]
    assert HOSTILE_ID in values
    assert any(value and HOSTILE_COUNTRY in value for value in values)


def test_embedded_json_is_inert_and_reads_back_exactly(page: _Page):
    """The scripts' JSON holds no ``</script>`` or ``<!--`` and decodes to the logged values."""
    traces, index = (json.loads(body) for body in page.scripts[:2])
    assert "</" not in page.scripts[0] + page.scripts[1]
    assert "<!--" not in page.scripts[0] + page.scripts[1]
    trace = traces["alerts"][HOSTILE_ID]
    assert trace["case"] == HOSTILE
    assert {step["cc"] for step in trace["steps"]} == {"GB", HOSTILE_COUNTRY}
    assert index[0][:3] == [HOSTILE_ID, HOSTILE, "GB"]


def test_a_timestamp_far_apart_still_renders():
    """Sanity: the page renders for events a day apart (dates on the time axis)."""
    collector = ReportCollector()
    for day, obj in zip((28, 29), _events()[1:2] * 2, strict=True):
        moved = {**obj, "timestamp": datetime(2026, 11, day, 23, tzinfo=UTC).isoformat()}
        event = to_event(moved, source="x", line=1)
        assert event is not None
        collector.add(event)
    assert "29 Nov" in render_html(collector.result())
