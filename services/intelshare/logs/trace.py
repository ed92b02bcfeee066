"""One alert's (or one case's) journey across every country, as a timeline.

The reader streams the whole input once and keeps only the events that name the id, as
``alert_id`` or as ``case_id``; those are then put in time order (inputs from several
countries interleave and may be out of order). Each step gets its offset from the first
step; the per-recipient lanes sum up what became of each copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from intelshare.contract import events as ev
from intelshare.logs.model import COPY_EVENTS, route_of

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from intelshare.logs.model import LogEvent


@dataclass(frozen=True, kw_only=True, slots=True)
class TraceStep:
    """One event on the timeline."""

    event: LogEvent
    """The event as logged."""
    offset_ms: float
    """Milliseconds since the first step of the trace."""


@dataclass(kw_only=True, slots=True)
class Lane:
    """What became of one alert at one recipient.

    Mutable: the trace fills it in event by event (:meth:`add`), in time order.
    """

    alert_id: str
    """The alert."""
    originator: str
    """Who sent it."""
    recipient: str
    """Who it was addressed to (or shared onward to)."""
    sent: datetime | None = None
    """When the first copy was sent (or shared onward), if logged."""
    received: datetime | None = None
    """When the recipient accepted it first, if it did."""
    latency_ms: float | None = None
    """The latency logged with that first acceptance."""
    receipt: str | None = None
    """The last receipt status the recipient gave, if any."""
    refused: str | None = None
    """The rule that refused sending to this recipient, or rejected it on arrival (kept when
    a later attempt got through, e.g. onward sharing once consent was granted)."""
    revoked: datetime | None = None
    """When the recipient stopped using it after a revocation."""
    duplicates: int = 0
    """Redeliveries suppressed at the recipient."""
    overdue: bool = False
    """Whether the originator logged this recipient's receipt as overdue."""
    onward: bool = False
    """True when the recipient got it by onward sharing, not from the originator."""

    def outcome(self) -> str:
        """What became of this copy, in a few words (empty when nothing went wrong)."""
        parts = []
        if self.refused and self.received:
            parts.append(f"refused at first ({self.refused}), then accepted")
        elif self.refused:
            parts.append(f"refused: {self.refused}")
        if self.revoked:
            parts.append("revoked")
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicate(s) suppressed")
        if self.overdue:
            parts.append("receipt overdue")
        return ", ".join(parts)

    def add(self, event: LogEvent) -> None:
        """Take one of the lane's events into account (in time order)."""
        name = event.event
        if name in {"alert.sent", "alert.shared_onward"}:
            self.sent = self.sent or event.timestamp
            self.onward = self.onward or name == "alert.shared_onward"
        elif name == "alert.received" and self.received is None:
            self.received, self.latency_ms = event.timestamp, event.latency_ms
        elif name in {"alert.refused", "alert.rejected"}:
            self.refused = event.text("rule") or "?"
        elif name == "alert.revoked":
            self.revoked = self.revoked or event.timestamp
        elif name == "alert.duplicate":
            self.duplicates += 1
        elif name in {"receipt.sent", "receipt.received"}:
            self.receipt = event.text("status") or "?"
        elif name == "receipt.overdue":
            self.overdue = True


@dataclass(frozen=True, kw_only=True, slots=True)
class Trace:
    """The timeline of every event naming an alert id or a case id."""

    ident: str
    """What was asked for."""
    steps: tuple[TraceStep, ...]
    """Matching events in time order (ties keep input order)."""
    alerts: tuple[str, ...]
    """Alert ids seen, in order of first appearance on the timeline."""
    lanes: tuple[Lane, ...]
    """One per (alert, recipient), in order of first appearance."""

    @property
    def found(self) -> bool:
        """Whether any event named the id."""
        return bool(self.steps)


def mentions(event: LogEvent, ident: str) -> bool:
    """Whether an event names ``ident`` as its alert id or its case id."""
    return ident in (event.alert_id, event.case_id)


def trace(events: Iterable[LogEvent], ident: str) -> Trace:
    """Collect and order the events naming ``ident`` (the input is streamed once)."""
    return build_trace(ident, [event for event in events if mentions(event, ident)])


def build_trace(ident: str, matched: list[LogEvent]) -> Trace:
    """Order already collected events into a trace."""
    ordered = sorted(enumerate(matched), key=lambda pair: (pair[1].timestamp, pair[0]))
    if not ordered:
        return Trace(ident=ident, steps=(), alerts=(), lanes=())
    start = ordered[0][1].timestamp
    steps = tuple(
        TraceStep(event=event, offset_ms=(event.timestamp - start).total_seconds() * 1000)
        for _, event in ordered
    )
    alerts = tuple(dict.fromkeys(step.event.alert_id for step in steps if step.event.alert_id))
    return Trace(ident=ident, steps=steps, alerts=alerts, lanes=_lanes(steps))


_LANE_EVENTS: Final = COPY_EVENTS | {ev.RECEIPT_SENT, ev.RECEIPT_RECEIVED}
"""Events drawn in a copy's lane: the copy's own, and the receipts answering it."""


def _lanes(steps: tuple[TraceStep, ...]) -> tuple[Lane, ...]:
    lanes: dict[tuple[str, str], Lane] = {}
    for step in steps:
        event = step.event
        if event.event not in _LANE_EVENTS or event.alert_id is None:
            continue
        source, target = route_of(event)
        if target is None:
            continue
        key = (event.alert_id, target)
        if key not in lanes:
            originator = event.originator or source or "?"
            lanes[key] = Lane(alert_id=event.alert_id, originator=originator, recipient=target)
        lanes[key].add(event)
    return tuple(lanes.values())
