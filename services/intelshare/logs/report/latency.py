"""The latency chart's geometry: a log-scale time series with percentile bands.

Latencies span orders of magnitude (tens of milliseconds in the bulk, seconds for a few after
a pause), so a linear axis set by the outliers lays the bulk flat on zero. The y axis is
logarithmic, and per time slice the chart shades the 10th-90th percentile band and draws the
median, over faint dots of the sampled alerts. The time axis carries dates when the span
crosses midnight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from intelshare.logs.describe import country_name
from intelshare.logs.report.tables import svg_number

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from intelshare.logs.report.collect import LatencyPoint

WIDTH: Final = 940
HEIGHT: Final = 320
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 14, 44
SLICES: Final = 48
"""Time slices for the percentile band."""
TIME_STEPS: Final = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800,
    3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800,
)  # fmt: skip
"""Seconds between time labels: the first that gives at most eight labels is used."""
MIN_IN_SLICE: Final = 3
"""A slice with fewer points gets no band (a percentile of two points says little)."""
PALETTE: Final = (
    "#3e63dd", "#e54666", "#12a594", "#f76b15", "#8e4ec6", "#46a758",
    "#d6409f", "#0090ff", "#a18072", "#ffc53d", "#1f2937", "#7ce2fe",
)  # fmt: skip
"""Colours for dots, one per originating country; a 13th country reuses the first."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Tick:
    """One axis label with its grid line.

    Attributes:
        at: x (time axis) or y (latency axis) in view-box units.
        text: The label.
        anchor: Text anchor.
    """

    at: str
    text: str
    anchor: str = "middle"


@dataclass(frozen=True, kw_only=True, slots=True)
class Dot:
    """One sampled alert.

    Attributes:
        x: Position.
        y: Position.
        colour: By originator.
        title: Route, latency, time.
    """

    x: str
    y: str
    colour: str
    title: str


@dataclass(kw_only=True, slots=True)
class LatencyChart:
    """What the chart draws."""

    width: int = WIDTH
    """View box width."""
    height: int = HEIGHT
    """View box height."""
    left: int = LEFT
    """Plot area's left edge."""
    right_edge: int = WIDTH - RIGHT
    """Plot area's right edge."""
    bottom_edge: int = HEIGHT - BOTTOM
    """Plot area's bottom edge."""
    y_ticks: list[Tick] = field(default_factory=list)
    """Latency grid lines."""
    x_ticks: list[Tick] = field(default_factory=list)
    """Time labels."""
    dots: list[Dot] = field(default_factory=list)
    """Sampled alerts."""
    band: str = ""
    """Polygon points of the 10th-90th percentile band."""
    median: str = ""
    """Polyline points of the median."""
    p99: str = ""
    """Polyline points of the 99th percentile."""
    legend: list[tuple[str, str]] = field(default_factory=list)
    """(colour, originating country's name)."""
    dated: bool = False
    """True when the time labels carry dates (the span crosses midnight)."""


def _quantile(ordered: Sequence[float], q: float) -> float:
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _time_label(moment: datetime, *, dated: bool, seconds: bool) -> str:
    if dated:
        return moment.strftime("%d %b %H:%M")
    return moment.strftime("%H:%M:%S" if seconds else "%H:%M")


def latency_chart(points: Sequence[LatencyPoint]) -> LatencyChart | None:
    """Lay out the chart; ``None`` when there is nothing to draw."""
    if not points:
        return None
    chart = LatencyChart()
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    start = min(p.at for p in points)
    end = max(p.at for p in points)
    span = max((end - start).total_seconds(), 1.0)
    positive = [p.latency_ms for p in points if p.latency_ms > 0]
    low = 10 ** math.floor(math.log10(min(positive, default=1.0)))
    high = 10 ** math.ceil(math.log10(max([*positive, low * 10])))
    decades = math.log10(high) - math.log10(low)

    def x_of(at: datetime) -> float:
        return LEFT + (at - start).total_seconds() / span * plot_w

    def y_of(value: float) -> float:
        clamped = max(value, low)
        return TOP + plot_h - (math.log10(clamped) - math.log10(low)) / decades * plot_h

    chart.y_ticks = _y_ticks(low, high, y_of)
    chart.dated = start.astimezone(UTC).date() != end.astimezone(UTC).date()
    step = next((s for s in TIME_STEPS if span / s <= 8), TIME_STEPS[-1])  # noqa: PLR2004
    first = math.ceil(start.timestamp() / step) * step
    for index in range(int((start.timestamp() + span - first) // step) + 1):
        moment = datetime.fromtimestamp(first + index * step, UTC)
        text = _time_label(moment, dated=chart.dated, seconds=step < 60)  # noqa: PLR2004
        chart.x_ticks.append(Tick(at=svg_number(x_of(moment)), text=text))
    origins = sorted({p.route[0] for p in points})
    colour = {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(origins)}
    chart.legend = [(colour[code], country_name(code)) for code in origins]
    chart.dots = [
        Dot(
            x=svg_number(x_of(p.at)),
            y=svg_number(y_of(p.latency_ms)),
            colour=colour[p.route[0]],
            title=(
                f"{p.route[0]} → {p.route[1]}: {p.latency_ms:.1f} ms at "
                f"{p.at.strftime('%Y-%m-%d %H:%M:%S')}"
            ),
        )
        for p in points
    ]
    _bands(chart, points, start, span, y_of)
    return chart


def _y_ticks(low: float, high: float, y_of: Callable[[float], float]) -> list[Tick]:
    """A tick per decade, and at 2 and 5 times it when the axis spans few decades."""
    decades = math.log10(high) - math.log10(low)
    steps = (1, 2, 5) if decades <= 3 else (1,)  # noqa: PLR2004 - few decades: finer ticks
    ticks = []
    decade = low
    while decade <= high * 1.001:
        for step in steps:
            value = decade * step
            if value <= high * 1.001:
                text = f"{value / 1000:g} s" if value >= 1000 else f"{value:g} ms"  # noqa: PLR2004
                ticks.append(Tick(at=svg_number(y_of(value)), text=text, anchor="end"))
        decade *= 10
    return ticks


def _bands(
    chart: LatencyChart,
    points: Sequence[LatencyPoint],
    start: datetime,
    span: float,
    y_of: Callable[[float], float],
) -> None:
    """The 10th-90th percentile band, the median and the 99th percentile per time slice."""
    plot_w = WIDTH - LEFT - RIGHT
    slices: list[list[float]] = [[] for _ in range(SLICES)]
    for p in points:
        index = min(SLICES - 1, int((p.at - start).total_seconds() / span * SLICES))
        slices[index].append(p.latency_ms)
    upper, lower, middle, top = [], [], [], []
    for index, values in enumerate(slices):
        if len(values) < MIN_IN_SLICE:
            continue
        values.sort()
        x = svg_number(LEFT + (index + 0.5) / SLICES * plot_w)
        lower.append(f"{x},{svg_number(y_of(_quantile(values, 0.1)))}")
        upper.append(f"{x},{svg_number(y_of(_quantile(values, 0.9)))}")
        middle.append(f"{x},{svg_number(y_of(_quantile(values, 0.5)))}")
        top.append(f"{x},{svg_number(y_of(_quantile(values, 0.99)))}")
    if len(middle) >= 2:  # noqa: PLR2004 - a line needs two points
        chart.band = " ".join([*upper, *reversed(lower)])
        chart.median = " ".join(middle)
        chart.p99 = " ".join(top)
