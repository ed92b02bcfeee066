"""Stats and traces for people (rich tables) and for programs (plain JSON-ready dicts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from intelshare.logs.describe import LABELS, clock_time, country_name, describe
from intelshare.logs.output import STYLES

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console

    from intelshare.logs.stats import LogStats
    from intelshare.logs.trace import Trace


def _ms(value: float | None) -> str:
    if value is None:
        return ""
    if value >= 10_000:  # noqa: PLR2004 - switch to seconds where milliseconds get unreadable
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"  # noqa: PLR2004


def _iso_or_none(value: datetime | None) -> str | None:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z") if value else None


def render_stats(stats: LogStats, console: Console) -> None:
    """Print the matrix, refusals, per-country problems and latency per route."""
    total = sum(stats.events.values())
    console.print(
        f"[bold]{total}[/] events from {clock_time(stats.first)} to {clock_time(stats.last)}, "
        f"{len(stats.countries)} countries"
    )
    console.print(_matrix(stats))
    if stats.onward:
        onward = ", ".join(f"{a}>{b}: {n}" for (a, b), n in sorted(stats.onward.items()))
        console.print(f"shared onward under consent: {onward}")
    console.print(_refusals(stats))
    console.print(_per_country(stats))
    console.print(_latency(stats))


def _matrix(stats: LogStats) -> Table:
    senders = sorted({route[0] for route in (*stats.sent, *stats.received)})
    receivers = sorted({route[1] for route in (*stats.sent, *stats.received)})
    matrix = Table(
        title="alerts and updates sent / received (rows: from, columns: to)", title_justify="left"
    )
    matrix.add_column("from \\ to", style="bold")
    for code in receivers:
        matrix.add_column(code, justify="right")
    for source in senders:
        cells = []
        for target in receivers:
            sent = stats.sent.get((source, target), 0)
            got = stats.received.get((source, target), 0)
            style = "" if sent == got else "yellow"
            cells.append(Text(f"{sent} / {got}", style=style) if sent or got else Text("·"))
        matrix.add_row(f"{source} {country_name(source)}", *cells)
    return matrix


def _refusals(stats: LogStats) -> Table:
    refusals = Table(title="refusals by rule", title_justify="left")
    refusals.add_column("rule")
    refusals.add_column("refused at sending", justify="right")
    refusals.add_column("rejected on arrival", justify="right")
    refusals.add_column("example reason")
    for rule, (refused, rejected) in stats.refusals_by_rule().items():
        refusals.add_row(rule, str(refused), str(rejected), stats.reasons.get(rule, ""))
    return refusals


def _per_country(stats: LogStats) -> Table:
    problems = Table(title="per country", title_justify="left")
    for name in ("country", "dead letters", "duplicates suppressed", "revoked", "overdue"):
        problems.add_column(name, justify="left" if name == "country" else "right")
    overdue_by_origin: dict[str, int] = {}
    for (origin, _), count in stats.overdue.items():
        overdue_by_origin[origin] = overdue_by_origin.get(origin, 0) + count
    for code in stats.countries:
        problems.add_row(
            f"{code} {country_name(code)}",
            str(stats.dead_letters.get(code, 0)),
            str(stats.duplicates.get(code, 0)),
            str(stats.revoked.get(code, 0)),
            str(overdue_by_origin.get(code, 0)),
        )
    return problems


def _latency(stats: LogStats) -> Table:
    latency = Table(title="latency per route (alert.received)", title_justify="left")
    for name in ("route", "n", "p50", "p95", "p99", "max", ""):
        latency.add_column(name, justify="left" if name == "route" else "right")
    for row in stats.latency:
        latency.add_row(
            f"{row.route[0]} > {row.route[1]}",
            str(row.count),
            _ms(row.p50),
            _ms(row.p95),
            _ms(row.p99),
            _ms(row.max),
            "" if row.exact else "±1%",
        )
    return latency


def _route_key(route: tuple[str, str]) -> str:
    return f"{route[0]}>{route[1]}"


def stats_json(stats: LogStats) -> dict[str, object]:
    """The figures as plain JSON types (routes as ``"GB>RS"`` keys)."""
    return {
        "first": _iso_or_none(stats.first),
        "last": _iso_or_none(stats.last),
        "events": dict(sorted(stats.events.items())),
        "countries": list(stats.countries),
        "sent": {_route_key(k): v for k, v in sorted(stats.sent.items())},
        "received": {_route_key(k): v for k, v in sorted(stats.received.items())},
        "revocations_sent": {_route_key(k): v for k, v in sorted(stats.revocations_sent.items())},
        "sent_by_tlp": {
            f"{_route_key(route)} {tlp}": count
            for (route, tlp), count in sorted(stats.sent_by_tlp.items())
        },
        "onward": {_route_key(k): v for k, v in sorted(stats.onward.items())},
        "refusals_by_rule": {
            rule: {"refused": refused, "rejected": rejected}
            for rule, (refused, rejected) in stats.refusals_by_rule().items()
        },
        "dead_letters": dict(sorted(stats.dead_letters.items())),
        "dead_letter_types": dict(sorted(stats.dead_letter_types.items())),
        "duplicates": dict(sorted(stats.duplicates.items())),
        "revoked": dict(sorted(stats.revoked.items())),
        "overdue": {_route_key(k): v for k, v in sorted(stats.overdue.items())},
        "receipts": dict(sorted(stats.receipts.items())),
        "latency_ms": {
            _route_key(row.route): {
                "count": row.count,
                "p50": row.p50,
                "p95": row.p95,
                "p99": row.p99,
                "max": row.max,
                "mean": row.mean,
                "exact": row.exact,
            }
            for row in stats.latency
        },
    }


def render_trace(found: Trace, console: Console) -> None:
    """Print the timeline, then one line per recipient saying what became of the alert."""
    timeline = Table(title=f"trace of {found.ident}", title_justify="left")
    for name in ("time", "+ms", "country", "event", "alert", "what happened", "latency"):
        timeline.add_column(name, justify="right" if name in {"+ms", "latency"} else "left")
    for step in found.steps:
        event = step.event
        timeline.add_row(
            clock_time(event.timestamp),
            f"{step.offset_ms:.0f}",
            event.country,
            Text(LABELS.get(event.event, event.event), style=STYLES.get(event.event, "")),
            event.alert_id or "",
            describe(event),
            _ms(event.latency_ms),
        )
    console.print(timeline)
    lanes = Table(title="per recipient", title_justify="left")
    for name in ("alert", "route", "sent", "received", "latency", "receipt", "outcome"):
        lanes.add_column(name, justify="right" if name == "latency" else "left")
    for lane in found.lanes:
        lanes.add_row(
            lane.alert_id,
            f"{lane.originator} > {lane.recipient}" + (" (onward)" if lane.onward else ""),
            clock_time(lane.sent)[11:],
            clock_time(lane.received)[11:],
            _ms(lane.latency_ms),
            lane.receipt or "",
            lane.outcome(),
        )
    console.print(lanes)


def trace_json(found: Trace) -> dict[str, object]:
    """The trace as plain JSON types: steps (with the logged objects) and lanes."""
    return {
        "ident": found.ident,
        "alerts": list(found.alerts),
        "steps": [
            {
                "offset_ms": step.offset_ms,
                "what": describe(step.event),
                "source": step.event.source,
                "line": step.event.line,
                "event": dict(step.event.raw),
            }
            for step in found.steps
        ],
        "lanes": [
            {
                "alert_id": lane.alert_id,
                "originator": lane.originator,
                "recipient": lane.recipient,
                "sent": _iso_or_none(lane.sent),
                "received": _iso_or_none(lane.received),
                "latency_ms": lane.latency_ms,
                "receipt": lane.receipt,
                "refused": lane.refused,
                "revoked": _iso_or_none(lane.revoked),
                "duplicates": lane.duplicates,
                "overdue": lane.overdue,
                "onward": lane.onward,
            }
            for lane in found.lanes
        ],
    }
