"""Render the report's data as ONE self-contained HTML page (inline CSS, JS and SVG).

Tables and pictures are rendered here, so the page reads without JavaScript too; the
script only shows an alert's trace when its row is clicked, from JSON embedded in the page.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Final

from intelshare import __version__
from intelshare.logs.describe import LABELS, country_name, describe
from intelshare.logs.report_assets import CSS, JS
from intelshare.logs.sketch import DEFAULT_EXACT_LIMIT
from intelshare.logs.svg import (
    ONWARD_COLOUR,
    REFUSED_COLOUR,
    TLP_COLOURS,
    TLP_ORDER,
    flow_svg,
    latency_svg,
    tlp_key,
)

if TYPE_CHECKING:
    from intelshare.logs.report import ReportData
    from intelshare.logs.stats import LogStats
    from intelshare.logs.trace import Lane

TITLE: Final = "Alert flow between partner agencies"


def _ms(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value / 1000:.1f} s" if value >= 10_000 else f"{value:.0f} ms"  # noqa: PLR2004


def _time(value: datetime | None, *, date: bool = True) -> str:
    if value is None:
        return ""
    text = value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return text if date else text[11:]


def _cc(code: str) -> str:
    return f'<span title="{escape(country_name(code))}">{escape(code)}</span>'


def _num(value: int, *, klass: str = "n") -> str:
    return f'<td class="{klass}{" zero" if value == 0 else ""}">{value}</td>'


def _cards(stats: LogStats) -> str:
    refused_at_send = sum(a for a, _ in stats.refusals_by_rule().values())
    rejected = sum(b for _, b in stats.refusals_by_rule().values())
    slowest = max((row.p95 for row in stats.latency), default=None)
    cards = [
        ("sent", sum(stats.sent.values()), "alerts &amp; updates sent", ""),
        ("received", sum(stats.received.values()), "received and in use", ""),
        ("refused", refused_at_send, "refused before sending", "bad"),
        ("rejected", rejected, "rejected on arrival", "bad"),
        ("deadletters", sum(stats.dead_letters.values()), "dead letters", "bad"),
        ("duplicates", sum(stats.duplicates.values()), "duplicates suppressed", "warn"),
        ("overdue", sum(stats.overdue.values()), "receipts overdue", "warn"),
    ]
    html = "".join(
        f'<div class="card {tone if value else ""}" data-figure="{key}"><b>{value}</b>'
        f"<span>{label}</span></div>"
        for key, value, label, tone in cards
    )
    return (
        html + f'<div class="card" data-figure="p95"><b>{_ms(slowest) or "&ndash;"}</b>'
        "<span>slowest route, p95</span></div>"
    )


def _matrix(stats: LogStats) -> str:
    senders = sorted({route[0] for route in (*stats.sent, *stats.received)})
    receivers = sorted({route[1] for route in (*stats.sent, *stats.received)})
    head = "".join(f'<th class="n">{_cc(code)}</th>' for code in receivers)
    rows = []
    for source in senders:
        cells = []
        for target in receivers:
            sent = stats.sent.get((source, target), 0)
            got = stats.received.get((source, target), 0)
            if not sent and not got:
                cells.append('<td class="n zero">·</td>')
                continue
            klass = "n diff" if sent != got else "n"
            cells.append(
                f'<td class="{klass}" data-route="{source}>{target}" '
                f'title="sent {sent}, received {got}">{sent} / {got}</td>'
            )
        rows.append(
            f'<tr><th scope="row">{escape(source)}<small>{escape(country_name(source))}</small>'
            f"</th>{''.join(cells)}</tr>"
        )
    return (
        '<div class="wide"><table class="matrix"><tr><th>from \\ to</th>'
        f"{head}</tr>{''.join(rows)}</table></div>"
        '<p class="muted">sent / received per route (revocations not counted); '
        "a highlighted cell differs: rejected on arrival, shared onward, or not logged.</p>"
    )


def _per_country(stats: LogStats) -> str:
    overdue: dict[str, int] = {}
    for (origin, _), count in stats.overdue.items():
        overdue[origin] = overdue.get(origin, 0) + count
    sent_by: dict[str, int] = {}
    got_by: dict[str, int] = {}
    for (source, _), count in stats.sent.items():
        sent_by[source] = sent_by.get(source, 0) + count
    for (_, target), count in stats.received.items():
        got_by[target] = got_by.get(target, 0) + count
    rows = "".join(
        f'<tr data-country="{code}"><td>{escape(code)} {escape(country_name(code))}</td>'
        f"{_num(sent_by.get(code, 0))}{_num(got_by.get(code, 0))}"
        f"{_num(stats.dead_letters.get(code, 0))}{_num(stats.duplicates.get(code, 0))}"
        f"{_num(stats.revoked.get(code, 0))}{_num(overdue.get(code, 0))}</tr>"
        for code in stats.countries
    )
    return (
        '<table class="countries"><tr><th>country</th><th class="n">sent</th>'
        '<th class="n">received</th><th class="n">dead letters</th><th class="n">duplicates</th>'
        f'<th class="n">revoked</th><th class="n">overdue</th></tr>{rows}</table>'
    )


def _latency_table(stats: LogStats) -> str:
    if not stats.latency:
        return ""
    rows = "".join(
        f'<tr data-route="{r.route[0]}>{r.route[1]}"><td>{_cc(r.route[0])} → {_cc(r.route[1])}'
        f'</td><td class="n">{r.count}</td><td class="n">{_ms(r.p50)}</td>'
        f'<td class="n">{_ms(r.p95)}</td><td class="n">{_ms(r.p99)}</td>'
        f'<td class="n">{_ms(r.max)}</td><td>{"" if r.exact else "±1 %"}</td></tr>'
        for r in stats.latency
    )
    return (
        '<table class="latency-table"><tr><th>route</th><th class="n">n</th>'
        '<th class="n">p50</th><th class="n">p95</th><th class="n">p99</th><th class="n">max</th>'
        f"<th></th></tr>{rows}</table>"
    )


def _refusals(stats: LogStats) -> str:
    if not stats.refusals:
        return '<p class="empty">No refusals.</p>'
    rows = "".join(
        f'<tr data-rule="{escape(r.rule)}"><td><b>{escape(r.rule)}</b></td>'
        f"<td>{'before sending' if r.event == 'alert.refused' else 'on arrival'}</td>"
        f"<td>{_cc(r.route[0])} → {_cc(r.route[1])}</td>"
        f'<td class="n">{count}</td><td class="muted">{escape(stats.reasons.get(r.rule, ""))}</td>'
        "</tr>"
        for r, count in sorted(
            stats.refusals.items(), key=lambda item: (-item[1], item[0].rule, item[0].route)
        )
    )
    return (
        '<table class="refusals"><tr><th>rule</th><th>where</th><th>route</th>'
        f'<th class="n">count</th><th>example reason</th></tr>{rows}</table>'
    )


def _tlp_chip(tlp: str) -> str:
    if not tlp:
        return ""
    key = tlp_key(tlp)
    return f'<span class="chip tlp-{key}">{escape(key.replace("_", "+"))}</span>'


def _alerts(data: ReportData) -> str:
    rows = "".join(
        f'<tr class="alert" data-alert="{escape(a.alert_id)}" '
        f'title="first seen {_time(a.first)} UTC"><td><b>{escape(a.alert_id)}</b>'
        f'<br><span class="muted">{escape(a.case_id)}</span></td><td>{_cc(a.originator)}</td>'
        f"<td>{escape(a.category.replace('_', ' ').lower())}</td><td>{_tlp_chip(a.tlp)}</td>"
        f'<td class="n">{a.recipients}</td>{_num(a.received)}{_num(a.refused)}'
        f"<td>{'revoked' if a.revoked else ''}</td></tr>"
        for a in data.alerts
    )
    cut = (
        f'<p class="muted">{data.alerts_left_out} later alerts are counted above but not '
        "listed here.</p>"
        if data.alerts_left_out
        else ""
    )
    return (
        '<div class="scroll"><table class="alerts"><tr><th>alert / case</th><th>from</th>'
        '<th>category</th><th>TLP</th><th class="n">to</th><th class="n">in use</th>'
        f'<th class="n">refused</th><th></th></tr>{rows}</table></div>{cut}'
    )


def _trace_json(data: ReportData) -> str:
    alerts: dict[str, object] = {}
    for row in data.alerts:
        alerts[row.alert_id] = {
            "case": row.case_id,
            "steps": [
                {
                    "t": _time(step.event.timestamp, date=False),
                    "off": step.offset_ms,
                    "cc": step.event.country,
                    "name": country_name(step.event.country),
                    "ev": step.event.event,
                    "label": LABELS.get(step.event.event, step.event.event),
                    "what": describe(step.event),
                    "lat": step.event.latency_ms,
                    "src": f"{step.event.source}:{step.event.line}",
                }
                for step in row.trace.steps
            ],
            "lanes": [_lane(lane) for lane in row.trace.lanes],
        }
    text = json.dumps({"alerts": alerts}, ensure_ascii=False, separators=(",", ":"))
    # Inside <script>, "</" would end the element; escaping <, > and & keeps it inert.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _lane(lane: Lane) -> dict[str, object]:
    return {
        "route": f"{lane.originator} → {lane.recipient}" + (" (onward)" if lane.onward else ""),
        "sent": _time(lane.sent, date=False),
        "received": _time(lane.received, date=False),
        "lat": lane.latency_ms,
        "receipt": lane.receipt or "",
        "outcome": lane.outcome(),
    }


def _flow_legend() -> str:
    keys = "".join(
        f'<span class="key"><i class="line" style="background:{TLP_COLOURS[t]}"></i>'
        f"TLP {'not logged' if t == '?' else t.replace('_', '+')}</span>"
        for t in TLP_ORDER
    )
    return (
        f'<div class="legend">{keys}<span class="key"><i class="dash" style="color:'
        f'{ONWARD_COLOUR}"></i>shared onward (consent)</span><span class="key"><i class="dash" '
        f'style="color:{REFUSED_COLOUR}"></i>refused</span></div>'
    )


def render_html(data: ReportData, *, read_note: str = "", title: str = TITLE) -> str:
    """The whole page as one string."""
    stats = data.stats
    span = f"{_time(stats.first)} &ndash; {_time(stats.last)} UTC" if stats.first else "no events"
    total = sum(stats.events.values())
    sampled = (
        f" (a uniform sample of {len(data.points)} of {data.points_total})"
        if data.points_total > len(data.points)
        else ""
    )
    cut = (
        f'<p class="muted">{data.steps_left_out} events of very busy alerts are left out of '
        "their traces.</p>"
        if data.steps_left_out
        else ""
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{CSS}</style></head>
<body>
<header><h1>{escape(title)}</h1>
<p class="sub">{span} · {total} events · {len(stats.countries)} countries
{(" · " + escape(read_note)) if read_note else ""}</p></header>
<main>
<section class="cards">{_cards(stats)}</section>
<section class="grid2 top">
<div class="panel" id="flow"><h2>Who shares with whom<small>width: copies sent; bands: their
TLP; hover for details</small></h2>{flow_svg(stats)}{_flow_legend()}</div>
<div class="panel" id="routes"><h2>Sent / received by route</h2>{_matrix(stats)}
<h2 style="margin-top:16px">By country</h2>{_per_country(stats)}</div>
</section>
<section class="panel" id="latency"><h2>Latency over time<small>every accepted alert{sampled},
end to end</small></h2>{latency_svg(data.points)}
<h2 style="margin-top:14px">Latency per route</h2>{_latency_table(stats)}</section>
<section class="panel" id="refusals"><h2>Refusals<small>by policy rule</small></h2>
{_refusals(stats)}</section>
<section class="grid2 traces">
<div class="panel" id="alerts"><h2>Alerts<small>in order of first appearance; click one to
trace it</small></h2>
{_alerts(data)}</div>
<div class="panel" id="trace"><h2 id="trace-title">Trace</h2><div id="trace-body">
<p class="empty">Click an alert to see its journey.</p></div>{cut}</div>
</section>
</main>
<footer>intelshare {escape(__version__)} · generated {generated} · percentiles are exact up to
{DEFAULT_EXACT_LIMIT:,} latencies per route, within 1 % beyond (marked ±1 %).</footer>
<script type="application/json" id="trace-data">{_trace_json(data)}</script>
<script>{JS}</script>
</body></html>
"""
