"""The flow picture's geometry: countries on a circle, the busiest routes as ribbons.

At a handful of routes every route is drawn; at a hundred, a drawing of every route is a
tangle. So only the ``TOP_ROUTES`` busiest routes are drawn (banded by TLP, width by copies),
the rest are summed up as "others" under the picture (the matrix has each of them), refusals
are drawn for the ``TOP_REFUSED`` most refused routes only, and a count is written only where
it does not collide with another. Every route keeps its figures in its tooltip.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from intelshare.logs.describe import country_name
from intelshare.logs.report.tables import svg_number, tlp_key

if TYPE_CHECKING:
    from intelshare.logs.stats import LogStats, Route

TOP_ROUTES: Final = 24
"""Routes drawn as ribbons; the rest are counted as "others"."""
TOP_REFUSED: Final = 8
"""Refused routes drawn as dashed lines."""
LABEL_MARGIN: Final = 3.0
"""Space kept around each written count; a count that would touch another is left to the
tooltip."""
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
WIDTH: Final = 780
HEIGHT: Final = 660


@dataclass(frozen=True, kw_only=True, slots=True)
class Node:
    """One country on the circle.

    Attributes:
        code: Its code.
        name: Its name.
        x: Centre.
        y: Centre.
        r: Radius, by traffic.
        label_x: Where its name is written.
        label_y: Where its name is written.
        anchor: ``start`` / ``middle`` / ``end``.
        traffic: Copies sent or received.
    """

    code: str
    name: str
    x: float
    y: float
    r: float
    label_x: float
    label_y: float
    anchor: str
    traffic: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Band:
    """One TLP's share of a ribbon.

    Attributes:
        path: SVG path data.
        colour: The TLP's colour.
        width: Stroke width.
    """

    path: str
    colour: str
    width: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Label:
    """A count written on the picture."""

    x: str
    """Position."""
    y: str
    """Position."""
    text: str
    """The count."""
    route: str
    """``GB>RS``."""
    kind: str
    """``sent`` / ``onward`` / ``refused``."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Edge:
    """One drawn route."""

    route: str
    """``GB>RS``."""
    kind: str
    """``sent`` / ``onward`` / ``refused``."""
    title: str
    """Its tooltip."""
    bands: list[Band]
    """What is stroked (one per TLP for sent routes, one dashed line otherwise)."""
    arrow: str
    """The invisible centre path carrying the arrowhead (sent routes), else empty."""


@dataclass(kw_only=True, slots=True)
class Flow:
    """The whole picture, and what it leaves out."""

    width: int = WIDTH
    """View box width."""
    height: int = HEIGHT
    """View box height."""
    nodes: list[Node] = field(default_factory=list)
    """Countries."""
    edges: list[Edge] = field(default_factory=list)
    """Routes drawn, under the nodes."""
    labels: list[Label] = field(default_factory=list)
    """Counts written."""
    routes: int = 0
    """Routes with copies sent."""
    other_routes: int = 0
    """Routes with copies sent that are not drawn."""
    other_copies: int = 0
    """Copies on those routes."""
    other_refused_routes: int = 0
    """Refused routes not drawn."""
    other_refused: int = 0
    """Refusals on those routes."""


def _sent_by_route(stats: LogStats) -> dict[Route, dict[str, int]]:
    sent: dict[Route, dict[str, int]] = defaultdict(dict)
    for (route, tlp), count in stats.sent_by_tlp.items():
        key = tlp_key(tlp)
        sent[route][key] = sent[route].get(key, 0) + count
    # Where only the recipient's log is present, draw what it received instead; but not
    # for copies that came by onward sharing (drawn as their own hop).
    onward_targets = {target for _, target in stats.onward}
    for (route, tlp), count in stats.received_by_tlp.items():
        if route not in stats.sent and route[1] not in onward_targets:
            key = tlp_key(tlp)
            sent[route][key] = sent[route].get(key, 0) + count
    return dict(sent)


def _curve(a: Node, b: Node, bend: float, shift: float = 0.0) -> tuple[str, float, float]:
    """A quadratic curve from a to b bent to its left; the path and its midpoint."""
    dx, dy = b.x - a.x, b.y - a.y
    length = math.hypot(dx, dy) or 1.0
    nx, ny = dy / length, -dx / length
    cx = (a.x + b.x) / 2 + nx * (bend + shift)
    cy = (a.y + b.y) / 2 + ny * (bend + shift)

    def trim(node: Node, gap: float) -> tuple[float, float]:
        ex, ey = cx - node.x, cy - node.y
        size = math.hypot(ex, ey) or 1.0
        x = node.x + ex / size * (node.r + gap) + nx * shift
        return x, node.y + ey / size * (node.r + gap) + ny * shift

    sx, sy = trim(a, 3)
    tx, ty = trim(b, 7)
    n = svg_number
    path = f"M{n(sx)},{n(sy)} Q{n(cx)},{n(cy)} {n(tx)},{n(ty)}"
    return path, 0.25 * sx + 0.5 * cx + 0.25 * tx, 0.25 * sy + 0.5 * cy + 0.25 * ty


def _nodes(codes: set[str], traffic: Counter[str]) -> dict[str, Node]:
    ordered = [c for c in ROUTE_ORDER if c in codes] + sorted(codes - set(ROUTE_ORDER))
    busiest = max([*traffic.values(), 1])
    cx, cy = WIDTH / 2, HEIGHT / 2
    radius = min(WIDTH, HEIGHT) / 2 - 95
    small = len(ordered) > 16  # noqa: PLR2004 - many countries: smaller circles
    nodes = {}
    for i, code in enumerate(ordered):
        angle = -math.pi / 2 + 2 * math.pi * i / max(len(ordered), 1)
        x, y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        r = (12 if small else 17) + (8 if small else 11) * math.sqrt(traffic[code] / busiest)
        side = math.cos(angle)
        anchor = "start" if side > 0.3 else "end" if side < -0.3 else "middle"  # noqa: PLR2004
        ly = y + math.sin(angle) * (r + 12) + 4
        if anchor == "middle":
            ly += 8 if math.sin(angle) > 0 else -4
        nodes[code] = Node(
            code=code,
            name=country_name(code),
            x=x,
            y=y,
            r=r,
            label_x=x + math.cos(angle) * (r + 12),
            label_y=ly,
            anchor=anchor,
            traffic=traffic[code],
        )
    return nodes


class _Labels:
    """Counts placed so that none overlaps another, nor a country's circle."""

    def __init__(self, nodes: dict[str, Node]) -> None:
        self.placed: list[Label] = []
        self._taken = [(n.x - n.r, n.y - n.r, n.x + n.r, n.y + n.r) for n in nodes.values()]

    def offer(self, x: float, y: float, text: str, route: str, kind: str) -> None:
        # Bold 12-unit text, anchored in the middle of its baseline: about 7.5 units a
        # character; a margin keeps neighbours apart.
        half = 3.75 * len(text) + LABEL_MARGIN
        box = (x - half, y - 12 - LABEL_MARGIN, x + half, y + 3 + LABEL_MARGIN)
        for left, top, right, bottom in self._taken:
            if box[0] < right and left < box[2] and box[1] < bottom and top < box[3]:
                return
        self._taken.append(box)
        self.placed.append(
            Label(x=svg_number(x), y=svg_number(y), text=text, route=route, kind=kind)
        )


def flow(stats: LogStats) -> Flow:
    """Lay out the flow picture."""
    sent = _sent_by_route(stats)
    totals = {route: sum(tlps.values()) for route, tlps in sent.items()}
    drawn = sorted(totals, key=lambda r: (-totals[r], r))[:TOP_ROUTES]
    rules = _refused_rules(stats)
    refused = Counter({route: sum(counts.values()) for route, counts in rules.items()})
    refused_drawn = [route for route, _ in refused.most_common(TOP_REFUSED)]
    traffic: Counter[str] = Counter()
    for route, total in totals.items():
        traffic[route[0]] += total
        traffic[route[1]] += total
    # Every country stays on the circle, also those only on routes not drawn.
    codes = {c for r in (*totals, *refused, *stats.onward) for c in r} - {"?"}
    picture = Flow(
        routes=len(totals),
        other_routes=max(0, len(totals) - len(drawn)),
        other_copies=sum(totals.values()) - sum(totals[r] for r in drawn),
        other_refused_routes=max(0, len(refused) - len(refused_drawn)),
        other_refused=sum(refused.values()) - sum(refused[r] for r in refused_drawn),
    )
    if not codes:
        return picture
    nodes = _nodes(codes, traffic)
    picture.nodes = list(nodes.values())
    labels = _Labels(nodes)
    top = max([*totals.values(), 1])
    for route in sorted(drawn, key=lambda r: totals[r]):  # the busiest drawn last, on top
        ends = _ends(nodes, route)
        if ends is not None:
            _sent_edge(picture, labels, stats, ends, sent[route], top)
    for route, count in sorted(stats.onward.items(), key=lambda i: (-i[1], i[0]))[:TOP_ROUTES]:
        ends = _ends(nodes, route)
        if ends is not None:
            _onward_edge(picture, labels, ends, count)
    for route in refused_drawn:
        ends = _ends(nodes, route)
        if ends is not None:
            _refused_edge(picture, labels, ends, rules[route])
    picture.labels = labels.placed
    return picture


def _refused_rules(stats: LogStats) -> dict[Route, Counter[str]]:
    """Refusals before sending, per route and rule."""
    rules: dict[Route, Counter[str]] = defaultdict(Counter)
    for refusal, count in stats.refusals.items():
        if refusal.event == "alert.refused":
            rules[refusal.route][refusal.rule] += count
    return rules


def _ends(nodes: dict[str, Node], route: Route) -> tuple[Node, Node] | None:
    a, b = nodes.get(route[0]), nodes.get(route[1])
    if a is None or b is None or a is b:
        return None
    return a, b


def _sent_edge(  # noqa: PLR0917 - the picture's parts, passed down from flow()
    picture: Flow,
    labels: _Labels,
    stats: LogStats,
    ends: tuple[Node, Node],
    tlps: dict[str, int],
    top: int,
) -> None:
    a, b = ends
    route = (a.code, b.code)
    strands = [t for t in TLP_ORDER if t in tlps]
    total = sum(tlps.values())
    width = 2.5 + 11 * math.sqrt(total / top)
    detail = ", ".join(f"{t.replace('_', '+')} {tlps[t]}" for t in strands)
    rejected = sum(
        n for r, n in stats.refusals.items() if r.route == route and r.event != "alert.refused"
    )
    note = f"; {rejected} rejected on arrival" if rejected else ""
    bands = []
    offset = -width / 2
    for tlp in strands:
        band = width * tlps[tlp] / total
        path, _, _ = _curve(a, b, 22 + width / 2, offset + band / 2)
        offset += band
        bands.append(Band(path=path, colour=TLP_COLOURS[tlp], width=svg_number(band)))
    centre, lx, ly = _curve(a, b, 22 + width / 2)
    key = f"{a.code}>{b.code}"
    picture.edges.append(
        Edge(
            route=key,
            kind="sent",
            title=(
                f"{a.name} → {b.name}: {total} sent ({detail}), "
                f"{stats.received.get(route, 0)} received{note}"
            ),
            bands=bands,
            arrow=centre,
        )
    )
    labels.offer(lx, ly + 4, str(total), key, "sent")


def _onward_edge(picture: Flow, labels: _Labels, ends: tuple[Node, Node], count: int) -> None:
    a, b = ends
    title = f"{a.name} shared onward to {b.name} under consent: {count}"
    _side_edge(picture, labels, ends, kind="onward", title=title, label=str(count))


def _refused_edge(
    picture: Flow, labels: _Labels, ends: tuple[Node, Node], rules: Counter[str]
) -> None:
    a, b = ends
    count = sum(rules.values())
    why = ", ".join(f"{rule} {n}" for rule, n in sorted(rules.items()))
    title = f"{a.name} → {b.name} refused {count}: {why}"
    _side_edge(picture, labels, ends, kind="refused", title=title, label=f"✕ {count}")


_SIDE_EDGES: Final = {
    "onward": (-34, ONWARD_COLOUR, "2.5"),
    "refused": (-14, REFUSED_COLOUR, "1.6"),
}
"""A thin edge beside a route's ribbon: its bend, colour and stroke width."""


def _side_edge(
    picture: Flow, labels: _Labels, ends: tuple[Node, Node], *, kind: str, title: str, label: str
) -> None:
    a, b = ends
    bend, colour, width = _SIDE_EDGES[kind]
    path, lx, ly = _curve(a, b, bend)
    key = f"{a.code}>{b.code}"
    band = Band(path=path, colour=colour, width=width)
    picture.edges.append(Edge(route=key, kind=kind, title=title, bands=[band], arrow=""))
    labels.offer(lx, ly, label, key, kind)
