"""Gather, in one pass and bounded memory, what the HTML report shows.

Besides the figures of ``stats``, the report keeps a short summary of every alert (up to
``max_alerts``, a generous cap; alerts beyond it are counted exactly), so the list can put the
alerts a reader wants first and the search box can find any id; the events of the most
telling alerts (up to ``max_trace_events`` in all), so they can be traced on click; and a
fixed-size uniform sample (reservoir sampling, seeded so a report is reproducible) of accepted
alerts' latencies for the chart. Every limit is stated on the page when it cuts anything.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from intelshare.logs.model import COPY_EVENTS, route_of
from intelshare.logs.stats import LogStats, StatsCollector
from intelshare.logs.trace import Trace, build_trace

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from intelshare.logs.model import LogEvent
    from intelshare.logs.stats import Route

MAX_ALERTS: Final = 500_000
"""Alerts summarised for the list and the search box (about 200 bytes each)."""
MAX_TRACE_EVENTS: Final = 8_000
"""Events kept for embedded traces, over all alerts (the most telling alerts keep theirs);
about 1.5 KiB each, as logged."""
MAX_TRACED_ALERTS: Final = 400
"""Alerts whose trace is embedded in the page."""
MAX_STEPS: Final = 120
"""Events kept per traced alert."""
MAX_POINTS: Final = 4000
"""Latency points sampled for the chart (a uniform sample when there are more)."""


@dataclass(kw_only=True, slots=True)
class AlertSummary:
    """What the alert list and the search box know of one alert (filled in while reading)."""

    alert_id: str
    """The alert."""
    first: datetime
    """When it first appears."""
    case_id: str = ""
    """Its case (empty when not logged)."""
    originator: str = ""
    """Who sent it (empty until an event names it)."""
    category: str = ""
    """Its category (empty when not logged)."""
    tlp: str = ""
    """Its TLP (empty when not logged)."""
    recipients: str = ""
    """Countries it was sent, shared onward or refused to, or that logged it (space-separated:
    a short string holds a few codes in a tenth of a set's memory)."""
    received: str = ""
    """Recipients that accepted it (space-separated)."""
    refused: int = 0
    """Copies refused before sending."""
    rejected: int = 0
    """Copies rejected on arrival."""
    dead_letters: int = 0
    """Dead letters naming it."""
    duplicates: int = 0
    """Redeliveries suppressed."""
    overdue: int = 0
    """Receipts logged overdue."""
    revoked: bool = False
    """Whether a recipient logged its revocation."""
    slowest_ms: float | None = None
    """The largest latency logged for it."""

    def add(self, event: LogEvent) -> None:
        """Take one event naming this alert into the summary."""
        # Interned: tens of thousands of summaries share a handful of codes and levels.
        self.case_id = self.case_id or (event.case_id or "")
        self.category = self.category or sys.intern(event.text("category") or "")
        self.tlp = self.tlp or sys.intern(event.text("tlp") or "")
        self.originator = self.originator or sys.intern(event.originator or "")
        self.first = min(self.first, event.timestamp)
        _, target = route_of(event)
        name = event.event
        if target and name in COPY_EVENTS:
            self.recipients = _with(self.recipients, target)
        if name == "alert.received" and target:
            self.received = _with(self.received, target)
        self._count(name)
        latency = event.latency_ms
        if latency is not None and (self.slowest_ms is None or latency > self.slowest_ms):
            self.slowest_ms = latency

    def _count(self, name: str) -> None:
        if name == "alert.refused":
            self.refused += 1
        elif name == "alert.rejected":
            self.rejected += 1
        elif name == "message.deadlettered":
            self.dead_letters += 1
        elif name == "alert.duplicate":
            self.duplicates += 1
        elif name == "receipt.overdue":
            self.overdue += 1
        elif name == "alert.revoked":
            self.revoked = True

    @property
    def problems(self) -> int:
        """Things that went wrong in transit: rejections on arrival and dead letters."""
        return self.rejected + self.dead_letters

    def rank(self) -> tuple[int, int, int, int, float, datetime, str]:
        """Sort key, most wanted first: problems, overdue, refused, revoked, slowest, earliest."""
        return (
            -min(self.problems, 1),
            -min(self.overdue, 1),
            -min(self.refused, 1),
            -int(self.revoked),
            -(self.slowest_ms or 0.0),
            self.first,
            self.alert_id,
        )


def _with(codes: str, code: str) -> str:
    """``codes`` with ``code`` added once."""
    return codes if code in codes.split() else f"{codes} {code}".lstrip()


@dataclass(frozen=True, kw_only=True, slots=True)
class LatencyPoint:
    """One accepted alert's latency, for the chart.

    Attributes:
        at: When it was accepted.
        latency_ms: Its end-to-end latency.
        route: Originator and recipient.
    """

    at: datetime
    latency_ms: float
    route: Route


@dataclass(frozen=True, kw_only=True, slots=True)
class ReportData:
    """Everything the page is made from."""

    stats: LogStats
    """The figures of ``intelshare logs stats``."""
    alerts: tuple[AlertSummary, ...]
    """Every summarised alert, most wanted first (see :meth:`AlertSummary.rank`)."""
    alerts_total: int
    """Distinct alert ids seen (more than ``alerts`` when the summary cap was reached)."""
    traces: dict[str, Trace]
    """Embedded traces by alert id (the first alerts of ``alerts`` whose events were kept)."""
    partial_traces: frozenset[str]
    """Traced alerts that lost events to the limits (their trace says so)."""
    points: tuple[LatencyPoint, ...]
    """Latency points for the chart, in time order."""
    points_total: int
    """How many latencies there were (more than ``points`` when sampled)."""


class ReportCollector:
    """Feed events with :meth:`add`; :meth:`result` gives the page's data."""

    def __init__(
        self,
        *,
        max_alerts: int = MAX_ALERTS,
        max_trace_events: int = MAX_TRACE_EVENTS,
        max_traced_alerts: int = MAX_TRACED_ALERTS,
        max_steps: int = MAX_STEPS,
        max_points: int = MAX_POINTS,
        seed: int = 0,
    ) -> None:
        """Start empty with the given limits; ``seed`` fixes the latency sample."""
        self._stats = StatsCollector()
        self._max_alerts = max_alerts
        self._max_trace_events = max_trace_events
        self._max_traced = max_traced_alerts
        self._max_steps = max_steps
        self._max_points = max_points
        self._summaries: dict[str, AlertSummary] = {}
        self._beyond: set[int] = set()  # hashes of ids past the cap: counted, not summarised
        self._events: dict[str, list[LogEvent]] = {}
        self._kept_events = 0
        self._dropped: set[str] = set()  # alerts whose trace lost events
        self._points: list[LatencyPoint] = []
        self._points_total = 0
        self._random = random.Random(seed)  # noqa: S311 - sampling for a chart, not secrets

    def add(self, event: LogEvent) -> None:
        """Take one event into the figures, the alert summaries, the traces and the sample."""
        self._stats.add(event)
        alert_id = event.alert_id
        if alert_id is not None:
            self._add_alert_event(alert_id, event)
        latency = event.latency_ms
        if event.event == "alert.received" and latency is not None:
            source, target = route_of(event)
            self._sample(
                LatencyPoint(
                    at=event.timestamp, latency_ms=latency, route=(source or "?", target or "?")
                )
            )

    def _add_alert_event(self, alert_id: str, event: LogEvent) -> None:
        summary = self._summaries.get(alert_id)
        if summary is None:
            if len(self._summaries) >= self._max_alerts:
                self._beyond.add(hash(alert_id))
                return
            summary = self._summaries[alert_id] = AlertSummary(
                alert_id=alert_id, first=event.timestamp
            )
        summary.add(event)
        if alert_id in self._dropped and alert_id not in self._events:
            return  # evicted earlier: a trace with a hole would mislead
        kept = self._events.setdefault(summary.alert_id, [])
        if len(kept) >= self._max_steps:
            self._dropped.add(summary.alert_id)
            return
        kept.append(event)
        self._kept_events += 1
        if self._kept_events > self._max_trace_events:
            self._evict()

    def _evict(self) -> None:
        """Drop the events of the least telling alerts until half the budget is free."""
        order = sorted(self._events, key=lambda key: self._summaries[key].rank(), reverse=True)
        target = self._max_trace_events // 2
        for alert_id in order:
            if self._kept_events <= target:
                break
            self._kept_events -= len(self._events.pop(alert_id))
            self._dropped.add(alert_id)

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
        ordered = sorted(self._summaries.values(), key=AlertSummary.rank)
        traces: dict[str, Trace] = {}
        for summary in ordered:
            if len(traces) >= self._max_traced:
                break
            events = self._events.get(summary.alert_id)
            if events:
                traces[summary.alert_id] = build_trace(summary.alert_id, events)
        return ReportData(
            stats=self._stats.result(),
            alerts=tuple(ordered),
            alerts_total=len(self._summaries) + len(self._beyond),
            traces=traces,
            partial_traces=frozenset(self._dropped & traces.keys()),
            points=tuple(sorted(self._points, key=lambda p: p.at)),
            points_total=self._points_total,
        )
