"""Render the report's data as ONE self-contained HTML page with Jinja2 templates.

The environment autoescapes everything: a log value lands in text, an attribute or SVG text
escaped for HTML, and in the embedded JSON through ``tojson``, which also escapes ``<``,
``>``, ``&`` and ``'`` so neither ``</script>`` nor ``<!--`` can end or bend the script
element. Tables and pictures are rendered server-side, so the page reads without JavaScript;
the script only shows traces and runs the search box, from the embedded JSON.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Final

from jinja2 import Environment, PackageLoader, StrictUndefined
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from intelshare import __version__
from intelshare.logs.describe import LABELS, clock_time, country_name, describe
from intelshare.logs.report import tables
from intelshare.logs.report.flow import ONWARD_COLOUR, REFUSED_COLOUR, TLP_COLOURS, TLP_ORDER, flow
from intelshare.logs.report.latency import latency_chart
from intelshare.logs.sketch import DEFAULT_EXACT_LIMIT

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from intelshare.logs.report.collect import ReportData
    from intelshare.logs.trace import Lane, Trace

TITLE: Final = "Alert flow between partner agencies"


@cache
def environment() -> Environment:
    """The template environment: package templates, autoescaping on, undefined names fail."""
    return Environment(
        loader=PackageLoader("intelshare.logs.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _lane(lane: Lane) -> dict[str, object]:
    return {
        "route": f"{lane.originator} → {lane.recipient}" + (" (onward)" if lane.onward else ""),
        "sent": clock_time(lane.sent, date=False),
        "received": clock_time(lane.received, date=False),
        "lat": lane.latency_ms,
        "receipt": lane.receipt or "",
        "outcome": lane.outcome(),
    }


def _trace(found: Trace, *, partial: bool) -> dict[str, object]:
    case = next((s.event.case_id for s in found.steps if s.event.case_id), "")
    return {
        "case": case,
        "partial": partial,
        "steps": [
            {
                "t": clock_time(step.event.timestamp, date=False),
                "off": step.offset_ms,
                "cc": step.event.country,
                "name": country_name(step.event.country),
                "ev": step.event.event,
                "label": LABELS.get(step.event.event, step.event.event),
                "what": describe(step.event),
                "lat": step.event.latency_ms,
                "src": f"{step.event.source}:{step.event.line}",
            }
            for step in found.steps
        ],
        "lanes": [_lane(lane) for lane in found.lanes],
    }


def _json_array(rows: Iterable[object]) -> Markup:
    """A JSON array for a script element, built row by row (the whole list is never held).

    ``htmlsafe_json_dumps`` is what ``tojson`` uses: ``<``, ``>``, ``&`` and ``'`` escaped.
    """
    return Markup("[" + ",".join(htmlsafe_json_dumps(row) for row in rows) + "]")  # noqa: S704


def render_html(data: ReportData, *, read_note: str = "", title: str = TITLE) -> str:
    """The whole page as one string."""
    return "".join(render_parts(data, read_note=read_note, title=title))


def write_html(data: ReportData, path: Path, *, read_note: str = "", title: str = TITLE) -> int:
    """Write the page to ``path`` piece by piece (never whole in memory); its size in bytes.

    Raises:
        OSError: the file cannot be written.
    """
    size = 0
    with path.open("w", encoding="utf-8") as out:
        for part in render_parts(data, read_note=read_note, title=title):
            out.write(part)
            size += len(part.encode())
    return size


def render_parts(data: ReportData, *, read_note: str = "", title: str = TITLE) -> Iterator[str]:
    """The page as the template yields it, part by part."""
    stats = data.stats
    listed = tables.listed_alerts(data)
    traces = {
        alert_id: _trace(found, partial=alert_id in data.partial_traces)
        for alert_id, found in data.traces.items()
    }
    return (
        environment()
        .get_template("report.html.j2")
        .generate(
            title=title,
            read_note=read_note,
            first=clock_time(stats.first),
            last=clock_time(stats.last),
            total_events=sum(stats.events.values()),
            countries=len(stats.countries),
            cards=tables.cards(stats),
            flow=flow(stats),
            tlp_keys=[(t, TLP_COLOURS[t]) for t in TLP_ORDER],
            onward_colour=ONWARD_COLOUR,
            refused_colour=REFUSED_COLOUR,
            matrix=tables.matrix(stats),
            per_country=tables.per_country(stats),
            chart=latency_chart(data.points),
            points=len(data.points),
            points_total=data.points_total,
            latency=stats.latency,
            ms=tables.ms,
            rules=tables.refusal_rules(stats),
            folded=tables.FOLDED_ROUTES,
            alerts=listed,
            alerts_summarised=len(data.alerts),
            alerts_total=data.alerts_total,
            traced=len(traces),
            traces={"alerts": traces},
            index=_json_array(tables.alert_index(data)),
            version=__version__,
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            exact_limit=f"{DEFAULT_EXACT_LIMIT:,}",
        )
    )
