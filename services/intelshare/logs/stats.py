"""Figures over a whole log, in one pass and bounded memory.

Who sent what to whom, refusals, dead letters, duplicates, overdue receipts and latency
percentiles per route.

Counts are of log events: ``sent`` counts copies of alerts and updates written (one per
recipient; revocations are counted apart, as they end in ``alert.revoked``, not
``alert.received``) and ``received`` counts copies accepted, so on a route the two differ by
what was rejected on arrival, still in flight, or lost. Memory grows with the number
of countries, rules and routes, never with the number of lines.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from intelshare.logs.model import route_of
from intelshare.logs.sketch import DEFAULT_EXACT_LIMIT, LatencySketch

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from intelshare.logs.model import LogEvent

UNKNOWN: Final = "?"
"""Stands for a country an event did not name."""
PERCENTILES: Final = (0.5, 0.95, 0.99)
"""The latency percentiles reported per route."""
MAX_REASONS: Final = 20
"""Distinct reasons kept per kind of refusal (a reason names countries, so few differ)."""

Route = tuple[str, str]
"""``(from, to)`` country codes, in the alert's direction."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RouteLatency:
    """Latency of alerts accepted on one route (from ``alert.received``'s ``latency_ms``)."""

    route: Route
    """Originator and recipient."""
    count: int
    """How many latencies were seen."""
    p50: float
    """Median, in milliseconds."""
    p95: float
    """95th percentile, in milliseconds."""
    p99: float
    """99th percentile, in milliseconds."""
    max: float
    """Largest, in milliseconds (always exact)."""
    mean: float
    """Arithmetic mean, in milliseconds (always exact)."""
    exact: bool
    """True when the percentiles are exact; else within the sketch's 1 % relative error."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Refusal:
    """One kind of refusal: where it happened, which rule, on which route.

    Attributes:
        event: ``alert.refused`` (at sending) or ``alert.rejected`` (on arrival).
        rule: The policy rule id.
        route: From which country to which.
    """

    event: str
    rule: str
    route: Route


@dataclass(frozen=True, kw_only=True, slots=True)
class LogStats:
    """Everything ``intelshare logs stats`` shows."""

    events: Mapping[str, int]
    """Events seen, by name."""
    countries: tuple[str, ...]
    """Every country that appears, sorted."""
    sent: Mapping[Route, int]
    """``alert.sent`` copies of alerts and updates per route (revocations not included)."""
    revocations_sent: Mapping[Route, int]
    """``alert.sent`` copies whose ``message_type`` is ``REVOCATION``, per route."""
    sent_by_tlp: Mapping[tuple[Route, str], int]
    """``sent`` split by TLP level (``?`` when none was logged)."""
    received: Mapping[Route, int]
    """``alert.received`` per route."""
    received_by_tlp: Mapping[tuple[Route, str], int]
    """``received`` split by TLP level (``?`` when none was logged)."""
    onward: Mapping[Route, int]
    """``alert.shared_onward`` per hop (sharing recipient to new recipient)."""
    refusals: Mapping[Refusal, int]
    """Refusals and rejections by rule and route."""
    reasons: Mapping[str, str]
    """One example reason per rule (the first seen)."""
    refusal_reasons: Mapping[Refusal, Mapping[str, int]]
    """The reasons logged for each kind of refusal, with counts (the first 20 distinct)."""
    dead_letters: Mapping[str, int]
    """Dead-lettered messages per country that dead-lettered them."""
    dead_letter_types: Mapping[str, int]
    """Dead letters by ``error_type``."""
    duplicates: Mapping[str, int]
    """Redeliveries suppressed, per receiving country."""
    revoked: Mapping[str, int]
    """Revocations applied, per receiving country."""
    overdue: Mapping[Route, int]
    """Overdue receipts per route (originator to the recipient that did not answer)."""
    receipts: Mapping[str, int]
    """Receipts received by the originators, by status."""
    latency: tuple[RouteLatency, ...]
    """Latency per route, sorted by route."""
    first: datetime | None
    """Earliest event time (inputs may be out of order)."""
    last: datetime | None
    """Latest event time."""

    def refusals_by_rule(self) -> dict[str, tuple[int, int]]:
        """``rule -> (refused at sending, rejected on arrival)``, sorted by rule."""
        table: dict[str, list[int]] = {}
        for refusal, count in self.refusals.items():
            row = table.setdefault(refusal.rule, [0, 0])
            row[0 if refusal.event == "alert.refused" else 1] += count
        return {rule: (row[0], row[1]) for rule, row in sorted(table.items())}


class StatsCollector:
    """Feed events one by one with :meth:`add`; read the figures with :meth:`result`."""

    def __init__(self, *, exact_limit: int = DEFAULT_EXACT_LIMIT) -> None:
        """Start empty; ``exact_limit`` tunes the latency sketches (see ``sketch``)."""
        self._exact_limit = exact_limit
        self.events: Counter[str] = Counter()
        self.countries: set[str] = set()
        self.sent: Counter[Route] = Counter()
        self.sent_by_tlp: Counter[tuple[Route, str]] = Counter()
        self.received: Counter[Route] = Counter()
        self.received_by_tlp: Counter[tuple[Route, str]] = Counter()
        self.onward: Counter[Route] = Counter()
        self.refusals: Counter[Refusal] = Counter()
        self.reasons: dict[str, str] = {}
        self.refusal_reasons: dict[Refusal, Counter[str]] = {}
        self.dead_letters: Counter[str] = Counter()
        self.dead_letter_types: Counter[str] = Counter()
        self.duplicates: Counter[str] = Counter()
        self.revoked: Counter[str] = Counter()
        self.overdue: Counter[Route] = Counter()
        self.receipts: Counter[str] = Counter()
        self.sketches: dict[Route, LatencySketch] = {}
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.revocations_sent: Counter[Route] = Counter()
        self._by_route = {
            "alert.received": self.received,
            "alert.shared_onward": self.onward,
            "receipt.overdue": self.overdue,
        }

    def add(self, event: LogEvent) -> None:
        """Count one event."""
        name = event.event
        self.events[name] += 1
        stamp = event.timestamp
        if self.first is None or stamp < self.first:
            self.first = stamp
        if self.last is None or stamp > self.last:
            self.last = stamp
        source, target = route_of(event)
        route = (source or UNKNOWN, target or UNKNOWN)
        self.countries.add(event.country)
        self.countries.add(route[0])
        self.countries.add(route[1])
        counter = self._by_route.get(name)
        if counter is not None:
            counter[route] += 1
        if name == "alert.sent":
            if event.text("message_type") == "REVOCATION":
                self.revocations_sent[route] += 1
            else:
                self.sent[route] += 1
                self.sent_by_tlp[route, event.text("tlp") or UNKNOWN] += 1
        elif name == "alert.received":
            self.received_by_tlp[route, event.text("tlp") or UNKNOWN] += 1
            self._latency(route, event)
        elif name in {"alert.refused", "alert.rejected"}:
            rule = event.text("rule") or UNKNOWN
            refusal = Refusal(event=name, rule=rule, route=route)
            self.refusals[refusal] += 1
            reason = event.text("reason") or ""
            self.reasons.setdefault(rule, reason)
            reasons = self.refusal_reasons.setdefault(refusal, Counter())
            if reason in reasons or len(reasons) < MAX_REASONS:
                reasons[reason] += 1
        else:
            self._per_country(event)

    def _per_country(self, event: LogEvent) -> None:
        name = event.event
        if name == "message.deadlettered":
            self.dead_letters[event.country] += 1
            self.dead_letter_types[event.text("error_type") or UNKNOWN] += 1
        elif name == "alert.duplicate":
            self.duplicates[event.country] += 1
        elif name == "alert.revoked":
            self.revoked[event.country] += 1
        elif name == "receipt.received":
            self.receipts[event.text("status") or UNKNOWN] += 1

    def _latency(self, route: Route, event: LogEvent) -> None:
        latency = event.latency_ms
        if latency is None:
            return
        sketch = self.sketches.get(route)
        if sketch is None:
            sketch = LatencySketch(exact_limit=self._exact_limit)
            self.sketches[route] = sketch
        sketch.add(latency)

    def add_all(self, events: Iterable[LogEvent]) -> StatsCollector:
        """Count every event of a stream; returns ``self`` for chaining."""
        for event in events:
            self.add(event)
        return self

    def result(self) -> LogStats:
        """The figures so far, as an immutable value."""
        latency = []
        for route in sorted(self.sketches):
            sketch = self.sketches[route]
            p50, p95, p99 = (value or 0.0 for value in sketch.quantiles(PERCENTILES))
            latency.append(
                RouteLatency(
                    route=route,
                    count=sketch.count,
                    p50=p50,
                    p95=p95,
                    p99=p99,
                    max=sketch.max,
                    mean=sketch.total / sketch.count,
                    exact=sketch.exact,
                )
            )
        return LogStats(
            events=dict(self.events),
            countries=tuple(sorted(self.countries - {UNKNOWN})),
            sent=dict(self.sent),
            revocations_sent=dict(self.revocations_sent),
            sent_by_tlp=dict(self.sent_by_tlp),
            received=dict(self.received),
            received_by_tlp=dict(self.received_by_tlp),
            onward=dict(self.onward),
            refusals=dict(self.refusals),
            reasons=dict(self.reasons),
            refusal_reasons={key: dict(value) for key, value in self.refusal_reasons.items()},
            dead_letters=dict(self.dead_letters),
            dead_letter_types=dict(self.dead_letter_types),
            duplicates=dict(self.duplicates),
            revoked=dict(self.revoked),
            overdue=dict(self.overdue),
            receipts=dict(self.receipts),
            latency=tuple(latency),
            first=self.first,
            last=self.last,
        )


def compute_stats(events: Iterable[LogEvent]) -> LogStats:
    """Count a whole stream of events."""
    return StatsCollector().add_all(events).result()
