"""Inline SVG drawings for the HTML report: the flow between countries and latency over time.

Plain string building, no plotting library: the report must open offline, and the pictures
are simple enough that their geometry reads better than a dependency would.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import TYPE_CHECKING, Final

from intelshare.logs.describe import country_name

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from intelshare.logs.stats import LogStats, Route

ROUTE_ORDER: Final = (
    "GB", "FR", "BE", "NL", "DE", "AT", "SI", "HR", "HU", "RO",
    "RS", "BA", "ME", "XK", "AL", "MK", "GR", "BG", "TR",
)  # fmt: skip
"""Countries placed around the circle roughly along the smuggling route, west to east."""
TLP_COLOURS: Final = {
    "RED": "#e5484d",
    "AMBER_STRICT": "#c2410c",
    "AMBER": "#f5a524",
    "GREEN": "#30a46c",
    "CLEAR": "#8b9bb4",
    "?": "#64748b",
}
"""TLP 2.0 colours, a little darkened to read on white."""
TLP_ORDER: Final = ("RED", "AMBER_STRICT", "AMBER", "GREEN", "CLEAR", "?")
ONWARD_COLOUR: Final = "#3e63dd"
REFUSED_COLOUR: Final = "#cd2b31"
ROUTE_PALETTE: Final = (
    "#3e63dd", "#e54666", "#12a594", "#f76b15", "#8e4ec6", "#46a758",
    "#d6409f", "#0090ff", "#a18072", "#ffc53d", "#1f2937", "#7ce2fe",
)  # fmt: skip
"""Colours for latency points, one per originating country; a 13th country reuses the first."""


def tlp_key(value: str) -> str:
    """``TLP_AMBER_STRICT`` / ``AMBER+STRICT`` / ``amber`` -> the key of ``TLP_COLOURS``."""
    code = value.upper().replace("+", "_").replace(":", "_").removeprefix("TLP_")
    return code if code in TLP_COLOURS else "?"


def _f(value: float) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True, kw_only=True, slots=True)
class _Node:
    code: str
    x: float
    y: float
    r: float


def _curve(a: _Node, b: _Node, bend: float, shift: float = 0.0) -> tuple[str, float, float]:
    """A quadratic curve from a to b, bent to its left; returns the path and its midpoint.

    ``shift`` moves the whole curve sideways: the bands of one ribbon share a bend.
    """
    dx, dy = b.x - a.x, b.y - a.y
    length = math.hypot(dx, dy) or 1.0
    nx, ny = dy / length, -dx / length  # left of the direction of travel
    cx = (a.x + b.x) / 2 + nx * (bend + shift)
    cy = (a.y + b.y) / 2 + ny * (bend + shift)

    def trim(node: _Node, gap: float) -> tuple[float, float]:
        ex, ey = cx - node.x, cy - node.y
        size = math.hypot(ex, ey) or 1.0
        x = node.x + ex / size * (node.r + gap) + nx * shift
        return x, node.y + ey / size * (node.r + gap) + ny * shift

    sx, sy = trim(a, 3)
    tx, ty = trim(b, 7)
    path = f"M{_f(sx)},{_f(sy)} Q{_f(cx)},{_f(cy)} {_f(tx)},{_f(ty)}"
    return path, 0.25 * sx + 0.5 * cx + 0.25 * tx, 0.25 * sy + 0.5 * cy + 0.25 * ty


def _markers() -> str:
    colours = {"flow": "#11181c", "onward": ONWARD_COLOUR, "refused": REFUSED_COLOUR}
    return "".join(
        f'<marker id="arrow-{name.replace("?", "unknown")}" viewBox="0 0 10 10" refX="8" '
        f'refY="5" markerWidth="11" markerHeight="11" markerUnits="userSpaceOnUse" '
        f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        for name, colour in colours.items()
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class _Flows:
    """What the flow diagram draws, gathered from the stats."""

    sent: dict[Route, dict[str, int]]
    refused: dict[Route, dict[str, int]]
    rejected: dict[Route, int]


def _flows(stats: LogStats) -> _Flows:
    sent: dict[Route, dict[str, int]] = defaultdict(dict)
    for (route, tlp), count in stats.sent_by_tlp.items():
        key = tlp_key(tlp)
        sent[route][key] = sent[route].get(key, 0) + count
    # Where only the recipient's log is present, draw what it received instead; but not
    # for copies that came by onward sharing (drawn as their own hop).
    onward_targets = {target for _, target in stats.onward}
    fallback: dict[Route, dict[str, int]] = defaultdict(dict)
    for (route, tlp), count in stats.received_by_tlp.items():
        if route not in stats.sent and route[1] not in onward_targets:
            key = tlp_key(tlp)
            fallback[route][key] = fallback[route].get(key, 0) + count
    sent.update(fallback)
    refused: dict[Route, dict[str, int]] = defaultdict(dict)
    rejected: dict[Route, int] = defaultdict(int)
    for refusal, count in stats.refusals.items():
        if refusal.event == "alert.refused":
            rules = refused[refusal.route]
            rules[refusal.rule] = rules.get(refusal.rule, 0) + count
        else:
            rejected[refusal.route] += count
    return _Flows(sent=dict(sent), refused=dict(refused), rejected=dict(rejected))


def _place(
    stats: LogStats, flows: _Flows, width: int, height: int
) -> tuple[dict[str, _Node], dict[str, int]]:
    routes = (*flows.sent, *flows.refused, *stats.onward)
    codes = {code for route in routes for code in route} - {"?"}
    traffic: dict[str, int] = defaultdict(int)
    for route, tlps in flows.sent.items():
        for code in route:
            traffic[code] += sum(tlps.values())
    busiest = max([*traffic.values(), 1])
    cx, cy, radius = width / 2, height / 2, min(width, height) / 2 - 95
    ordered = [c for c in ROUTE_ORDER if c in codes] + sorted(codes - set(ROUTE_ORDER))
    step = 2 * math.pi / max(len(ordered), 1)
    nodes = {}
    for index, code in enumerate(ordered):
        angle = -math.pi / 2 + index * step
        nodes[code] = _Node(
            code=code,
            x=cx + radius * math.cos(angle),
            y=cy + radius * math.sin(angle),
            r=17 + 11 * math.sqrt(traffic.get(code, 0) / busiest),
        )
    return nodes, traffic


def _ends(nodes: dict[str, _Node], route: Route) -> tuple[_Node, _Node] | None:
    a, b = nodes.get(route[0]), nodes.get(route[1])
    if a is None or b is None or a is b:
        return None
    return a, b


LABELLED_ROUTES: Final = 14
"""Only the busiest routes get a count written on them; all have it in their tooltip."""


def _sent_edges(stats: LogStats, flows: _Flows, nodes: dict[str, _Node]) -> list[str]:
    """One ribbon per route: width by copies sent, split into one band per TLP level."""
    parts = []
    top = max([sum(tlps.values()) for tlps in flows.sent.values()] + [1])
    busiest = sorted(flows.sent, key=lambda r: -sum(flows.sent[r].values()))[:LABELLED_ROUTES]
    for route in sorted(flows.sent):
        ends = _ends(nodes, route)
        if ends is None:
            continue
        tlps = flows.sent[route]
        strands = [t for t in TLP_ORDER if t in tlps]
        total = sum(tlps.values())
        detail = ", ".join(f"{t.replace('_', '+')} {tlps[t]}" for t in strands)
        rejected = flows.rejected.get(route, 0)
        note = f"; {rejected} rejected on arrival" if rejected else ""
        title = escape(
            f"{country_name(route[0])} → {country_name(route[1])}: {total} sent ({detail}), "
            f"{stats.received.get(route, 0)} received{note}"
        )
        key = f"{route[0]}>{route[1]}"
        width = 2.5 + 11 * math.sqrt(total / top)
        bend = 22 + width / 2
        parts.append(f'<g class="edge" data-route="{key}"><title>{title}</title>')
        offset = -width / 2
        for tlp in strands:
            band = width * tlps[tlp] / total
            path, _, _ = _curve(*ends, bend, offset + band / 2)
            offset += band
            parts.append(
                f'<path d="{path}" fill="none" stroke="{TLP_COLOURS[tlp]}" '
                f'stroke-width="{_f(band)}" stroke-opacity="0.88"/>'
            )
        path, lx, ly = _curve(*ends, bend)
        parts.append(
            f'<path d="{path}" fill="none" stroke="#11181c" stroke-opacity="0" '
            f'marker-end="url(#arrow-flow)"/></g>'
        )
        if route in busiest:
            parts.append(
                f'<text class="edge-label" x="{_f(lx)}" y="{_f(ly + 4)}" '
                f'data-route="{key}">{total}</text>'
            )
    return parts


def _onward_edges(stats: LogStats, nodes: dict[str, _Node]) -> list[str]:
    parts = []
    for route, count in sorted(stats.onward.items()):
        ends = _ends(nodes, route)
        if ends is None:
            continue
        path, lx, ly = _curve(*ends, -34)
        title = escape(
            f"{country_name(route[0])} shared onward to {country_name(route[1])} "
            f"under consent: {count}"
        )
        parts.append(
            f'<path class="edge onward" d="{path}" fill="none" stroke="{ONWARD_COLOUR}" '
            f'stroke-width="2.5" stroke-dasharray="2 5" stroke-linecap="round" '
            f'marker-end="url(#arrow-onward)"><title>{title}</title></path>'
            f'<text class="edge-label onward" x="{_f(lx)}" y="{_f(ly)}">{count}</text>'
        )
    return parts


def _refused_edges(flows: _Flows, nodes: dict[str, _Node]) -> list[str]:
    parts = []
    for route, rules in sorted(flows.refused.items()):
        ends = _ends(nodes, route)
        if ends is None:
            continue
        path, lx, ly = _curve(*ends, -14)
        count = sum(rules.values())
        why = ", ".join(f"{rule} {n}" for rule, n in sorted(rules.items()))
        title = escape(
            f"{country_name(route[0])} → {country_name(route[1])} refused {count}: {why}"
        )
        parts.append(
            f'<path class="edge refused" d="{path}" fill="none" stroke="{REFUSED_COLOUR}" '
            f'stroke-width="1.6" stroke-dasharray="6 4"><title>{title}</title></path>'
            f'<text class="refused-mark" x="{_f(lx)}" y="{_f(ly)}">✕ {count}</text>'
        )
    return parts


def _node_marks(
    nodes: dict[str, _Node], traffic: dict[str, int], width: int, height: int
) -> list[str]:
    parts = []
    cx, cy = width / 2, height / 2
    for node in nodes.values():
        angle = math.atan2(node.y - cy, node.x - cx)
        lx = node.x + math.cos(angle) * (node.r + 12)
        ly = node.y + math.sin(angle) * (node.r + 12) + 4
        side = math.cos(angle)
        anchor = "start" if side > _SIDEWAYS else "end" if side < -_SIDEWAYS else "middle"
        if anchor == "middle":
            ly += 8 if math.sin(angle) > 0 else -4
        name = escape(country_name(node.code))
        parts.append(
            f'<g class="node" data-country="{node.code}"><circle cx="{_f(node.x)}" '
            f'cy="{_f(node.y)}" r="{_f(node.r)}"/><text class="code" x="{_f(node.x)}" '
            f'y="{_f(node.y + 4)}">{node.code}</text><text class="name" x="{_f(lx)}" '
            f'y="{_f(ly)}" text-anchor="{anchor}">{name}</text>'
            f"<title>{name}: {traffic.get(node.code, 0)} copies sent or received</title></g>"
        )
    return parts


_SIDEWAYS: Final = 0.3
"""Labels of nodes this far left or right of the centre line hang sideways."""


def flow_svg(stats: LogStats, *, width: int = 780, height: int = 660) -> str:
    """Countries on a circle; arrows per route and TLP, widths by count; refusals dashed."""
    flows = _flows(stats)
    nodes, traffic = _place(stats, flows, width, height)
    if not nodes:
        return '<p class="empty">No alerts were sent or refused in these logs.</p>'
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="flow" role="img" aria-label="alert flow between countries">'
    )
    return "".join(
        [
            head,
            f"<defs>{_markers()}</defs>",
            *_sent_edges(stats, flows, nodes),
            *_onward_edges(stats, nodes),
            *_refused_edges(flows, nodes),
            *_node_marks(nodes, traffic, width, height),
            "</svg>",
        ]
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class LatencyPoint:
    """One accepted alert's latency, for the chart."""

    at: datetime
    """When it was accepted."""
    latency_ms: float
    """Its end-to-end latency."""
    route: Route
    """Originator and recipient."""


def _nice(value: float) -> float:
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def latency_svg(points: Sequence[LatencyPoint], *, width: int = 940, height: int = 300) -> str:
    """Each accepted alert as a dot (time, latency), coloured by route, with a median line."""
    if not points:
        return '<p class="empty">No alert.received events with latency_ms in these logs.</p>'
    left, right, top, bottom = 64, 16, 14, 40
    start = min(p.at for p in points)
    span = max((max(p.at for p in points) - start).total_seconds(), 1.0)
    ordered = sorted(p.latency_ms for p in points)
    ceiling = _nice(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1.15)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_of(at: datetime) -> float:
        return left + (at - start).total_seconds() / span * plot_w

    def y_of(value: float) -> float:
        return top + plot_h - min(value, ceiling) / ceiling * plot_h

    # Colour by originator: a handful of colours reads; one per route would not.
    origins = sorted({p.route[0] for p in points})
    colour = {code: ROUTE_PALETTE[i % len(ROUTE_PALETTE)] for i, code in enumerate(origins)}
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'class="latency" role="img" aria-label="latency over time">'
        )
    ]
    for tick in range(6):
        value = ceiling * tick / 5
        y = y_of(value)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{_f(y)}" y2="{_f(y)}"/>'
            f'<text class="tick" x="{left - 6}" y="{_f(y + 4)}" text-anchor="end">'
            f"{value:g} ms</text>"
        )
    for tick in range(7):
        seconds = span * tick / 6
        x = left + seconds / span * plot_w
        label = (start.timestamp() + seconds) % 86400
        hh, mm, ss = int(label // 3600), int(label % 3600 // 60), label % 60
        anchor = "start" if tick == 0 else "end" if tick == 6 else "middle"  # noqa: PLR2004
        parts.append(
            f'<text class="tick" x="{_f(x)}" y="{height - bottom + 18}" text-anchor="{anchor}">'
            f"{hh:02d}:{mm:02d}:{ss:04.1f}</text>"
        )
    parts.append(
        f'<text class="axis" x="{left + plot_w / 2}" y="{height - 4}" text-anchor="middle">'
        "time of acceptance (UTC)</text>"
    )
    for p in points:
        x, y = x_of(p.at), y_of(p.latency_ms)
        shape = (
            f'<path d="M{_f(x - 4)},{_f(y + 5)} L{_f(x)},{_f(y - 2)} L{_f(x + 4)},{_f(y + 5)} z"'
            if p.latency_ms > ceiling
            else f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3"'
        )
        parts.append(
            f'{shape} class="dot" fill="{colour[p.route[0]]}"><title>{p.route[0]} → {p.route[1]}: '
            f"{p.latency_ms:.1f} ms at {p.at.strftime('%H:%M:%S.%f')[:-3]}</title>"
            f"{'</path>' if p.latency_ms > ceiling else '</circle>'}"
        )
    parts.append(_median_line(points, x_of, y_of))
    parts.append("</svg>")
    legend = "".join(
        f'<span class="key"><i style="background:{colour[code]}"></i>'
        f"from {escape(country_name(code))}</span>"
        for code in origins
    )
    median_key = '<span class="key"><i class="median"></i>median per time slice</span>'
    return "".join(parts) + f'<div class="legend">{legend}{median_key}</div>'


def _median_line(
    points: Sequence[LatencyPoint],
    x_of: Callable[[datetime], float],
    y_of: Callable[[float], float],
    *,
    bins: int = 24,
) -> str:
    """The median latency of each of ``bins`` equal time slices, joined into a line."""
    start = min(p.at for p in points)
    span = max((max(p.at for p in points) - start).total_seconds(), 1.0)
    grouped: dict[int, list[float]] = defaultdict(list)
    for p in points:
        index = min(bins - 1, int((p.at - start).total_seconds() / span * bins))
        grouped[index].append(p.latency_ms)
    coords = []
    for index in sorted(grouped):
        values = sorted(grouped[index])
        middle = start + timedelta(seconds=(index + 0.5) / bins * span)
        coords.append(f"{_f(x_of(middle))},{_f(y_of(values[(len(values) - 1) // 2]))}")
    if len(coords) < 2:  # noqa: PLR2004 - a line needs two points
        return ""
    return f'<polyline class="median" points="{" ".join(coords)}"/>'
