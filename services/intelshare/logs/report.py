"""Gather, in one pass and bounded memory, what the HTML report shows.

Besides the figures of ``stats``, the report keeps the events of the first ``max_alerts``
alerts (up to ``max_steps`` each) so any of them can be traced on click, and a fixed-size
uniform sample (reservoir sampling, seeded so a report is reproducible) of accepted alerts'
latencies for the chart. Both limits are stated on the page when they cut anything.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from intelshare.logs.model import route_of
from intelshare.logs.stats import LogStats, StatsCollector
from intelshare.logs.svg import LatencyPoint
from intelshare.logs.trace import Trace, build_trace

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from intelshare.logs.model import LogEvent

MAX_ALERTS: Final = 400
"""Alerts whose trace is embedded (the first ones seen)."""
MAX_STEPS: Final = 120
"""Events kept per embedded alert."""
MAX_POINTS: Final = 3000
"""Latency points drawn (a uniform sample when there are more)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertRow:
    """One line of the report's alert list."""

    alert_id: str
    """The alert."""
    case_id: str
    """Its case (empty when not logged)."""
    originator: str
    """Who sent it."""
    category: str
    """Its category (empty when not logged)."""
    tlp: str
    """Its TLP (empty when not logged)."""
    first: datetime
    """When it first appears."""
    recipients: int
    """Recipients it was sent, shared onward or refused to."""
    received: int
    """Recipients that accepted it."""
    refused: int
    """Recipients it was refused to (at sending or on arrival) and never reached."""
    revoked: bool
    """Whether a recipient logged its revocation."""
    trace: Trace
    """Its timeline."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ReportData:
    """Everything the page is made from."""

    stats: LogStats
    """The figures of ``intelshare logs stats``."""
    alerts: tuple[AlertRow, ...]
    """Embedded alerts, in order of first appearance in time."""
    alerts_left_out: int
    """Alerts seen beyond ``MAX_ALERTS`` (listed in the figures, not traceable)."""
    steps_left_out: int
    """Events of embedded alerts beyond ``MAX_STEPS`` each."""
    points: tuple[LatencyPoint, ...]
    """Latency points for the chart."""
    points_total: int
    """How many latencies there were (more than ``points`` when sampled)."""


class ReportCollector:
    """Feed events with :meth:`add`; :meth:`result` gives the page's data."""

    def __init__(
        self,
        *,
        max_alerts: int = MAX_ALERTS,
        max_steps: int = MAX_STEPS,
        max_points: int = MAX_POINTS,
        seed: int = 0,
    ) -> None:
        """Start empty with the given limits; ``seed`` fixes the latency sample."""
        self._stats = StatsCollector()
        self._max_alerts, self._max_steps, self._max_points = max_alerts, max_steps, max_points
        self._events: dict[str, list[LogEvent]] = {}
        self._left_out: set[str] = set()
        self._steps_left_out = 0
        self._points: list[LatencyPoint] = []
        self._points_total = 0
        self._random = random.Random(seed)  # noqa: S311 - sampling for a chart, not secrets

    def add(self, event: LogEvent) -> None:
        """Take one event into the figures, the traces and the latency sample."""
        self._stats.add(event)
        alert_id = event.alert_id
        if alert_id is not None:
            kept = self._events.get(alert_id)
            if kept is None and len(self._events) < self._max_alerts:
                kept = self._events[alert_id] = []
            if kept is None:
                if len(self._left_out) < self._max_alerts * 100:  # a count, bounded anyway
                    self._left_out.add(alert_id)
            elif len(kept) < self._max_steps:
                kept.append(event)
            else:
                self._steps_left_out += 1
        latency = event.latency_ms
        if event.event == "alert.received" and latency is not None:
            source, target = route_of(event)
            self._sample(
                LatencyPoint(
                    at=event.timestamp, latency_ms=latency, route=(source or "?", target or "?")
                )
            )

    def _sample(self, point: LatencyPoint) -> None:
        # Reservoir sampling (Vitter's algorithm R): every point is kept with equal chance.
        self._points_total += 1
        if len(self._points) < self._max_points:
            self._points.append(point)
            return
        slot = self._random.randrange(self._points_total)
        if slot < self._max_points:
            self._points[slot] = point

    def add_all(self, events: Iterable[LogEvent]) -> ReportCollector:
        """Take a whole stream; returns ``self`` for chaining."""
        for event in events:
            self.add(event)
        return self

    def result(self) -> ReportData:
        """The page's data."""
        rows = [
            _row(alert_id, build_trace(alert_id, events))
            for alert_id, events in self._events.items()
        ]
        rows.sort(key=lambda row: (row.first, row.alert_id))
        return ReportData(
            stats=self._stats.result(),
            alerts=tuple(rows),
            alerts_left_out=len(self._left_out),
            steps_left_out=self._steps_left_out,
            points=tuple(sorted(self._points, key=lambda p: p.at)),
            points_total=self._points_total,
        )


def _row(alert_id: str, found: Trace) -> AlertRow:
    first = found.steps[0].event

    def field(name: str) -> str:
        return next((v for s in found.steps if (v := s.event.text(name))), "")

    return AlertRow(
        alert_id=alert_id,
        case_id=field("case_id"),
        originator=field("originator") or first.country,
        category=field("category"),
        tlp=field("tlp"),
        first=first.timestamp,
        recipients=len(found.lanes),
        received=sum(1 for lane in found.lanes if lane.received is not None),
        refused=sum(1 for lane in found.lanes if lane.refused and lane.received is None),
        revoked=any(lane.revoked is not None for lane in found.lanes),
        trace=found,
    )
