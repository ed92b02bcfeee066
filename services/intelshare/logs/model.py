"""The typed log event and how one JSON object becomes one (or is told apart as not ours)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, Self, overload

from intelshare.contract import events as ev
from intelshare.contract.events import LOGGED_EVENTS

if TYPE_CHECKING:
    from collections.abc import Mapping

OPTIONAL_TEXT_FIELDS: Final = (
    "alert_id",
    "message_type",
    "case_id",
    "originator",
    "recipient",
    "category",
    "priority",
    "tlp",
    "uk_handling",
    "rule",
    "reason",
    "status",
    "receipt_from",
    "error",
    "error_type",
    "consent_id",
    "trace_id",
    "topic",
    "due",
    "scenario",
)
"""Fields of events.py that hold text; exported in this order by the CSV writer."""

COPY_EVENTS: Final = frozenset(
    {
        ev.ALERT_SENT,
        ev.ALERT_REFUSED,
        ev.ALERT_SHARED_ONWARD,
        ev.ALERT_RECEIVED,
        ev.ALERT_REJECTED,
        ev.ALERT_REVOKED,
        ev.ALERT_DUPLICATE,
        ev.RECEIPT_OVERDUE,
    }
)
"""Events about one addressed copy of an alert (they name its recipient or receiver)."""


class _TextField:
    """A text field of the logged object, read as an attribute (``event.alert_id``)."""

    def __set_name__(self, owner: type[LogEvent], name: str) -> None:
        self.key = name

    @overload
    def __get__(self, event: None, owner: type[LogEvent]) -> Self: ...
    @overload
    def __get__(self, event: LogEvent, owner: type[LogEvent]) -> str | None: ...
    def __get__(self, event: LogEvent | None, owner: type[LogEvent]) -> Self | str | None:
        return self if event is None else event.text(self.key)


@dataclass(frozen=True, kw_only=True, slots=True)
class LogEvent:
    """One intelshare log event, as logged by one country's producer or consumer."""

    timestamp: datetime
    """When the service logged it (aware, UTC)."""
    event: str
    """The event name, one of ``intelshare.contract.events.LOGGED_EVENTS``."""
    country: str
    """The country whose service logged the event."""
    service: str
    """``producer`` or ``consumer`` (empty when the line did not say)."""
    level: str
    """``info`` / ``warning`` / ``error`` (empty when the line did not say)."""
    raw: Mapping[str, object]
    """The whole JSON object as read, for fields this type does not lift out."""
    source: str
    """Where the line came from: a path, or ``-`` for standard input."""
    line: int
    """The 1-based line number within ``source``."""

    def text(self, key: str) -> str | None:
        """Return field ``key`` when it is a non-empty string (numbers are turned into text)."""
        value = self.raw.get(key)
        if isinstance(value, str):
            return value or None
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int | float):
            return str(value)
        return None

    def number(self, key: str) -> float | None:
        """Return field ``key`` as a float when it is a number (or numeric text)."""
        value = self.raw.get(key)
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return None
        return None

    def texts(self, key: str) -> tuple[str, ...]:
        """Return field ``key`` as a tuple of strings (a list field, or one string)."""
        value = self.raw.get(key)
        if isinstance(value, str):
            return (value,) if value else ()
        if isinstance(value, list):
            return tuple(str(item) for item in value if isinstance(item, str | int))
        return ()

    alert_id = _TextField()
    """The alert this event is about, if any."""
    case_id = _TextField()
    """The case the alert belongs to, if any."""
    originator = _TextField()
    """The country that originated the alert, if known."""
    recipient = _TextField()
    """The country an alert was addressed to (sent, refused, overdue, onward), if any."""

    @property
    def latency_ms(self) -> float | None:
        """End-to-end latency in milliseconds, when the event carries one."""
        return self.number("latency_ms")


def utc_instant(value: str) -> datetime | None:
    """Read an ISO-8601 time (``Z`` or an offset; naive means UTC) as an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def is_intelshare(obj: object) -> bool:
    """Tell whether a decoded JSON value claims to be an intelshare event (by its name)."""
    if not isinstance(obj, dict):
        return False
    name = obj.get("event")
    return isinstance(name, str) and name in LOGGED_EVENTS


def to_event(obj: Mapping[str, object], *, source: str, line: int) -> LogEvent | None:
    """Build the typed event from a JSON object named like an intelshare event.

    Returns ``None`` when a field every event must carry (``timestamp``, ``country``) is
    missing or unreadable: such a line is counted as invalid, never fatal.
    """
    stamp = obj.get("timestamp")
    country = obj.get("country")
    event = obj.get("event")
    if not isinstance(stamp, str) or not isinstance(country, str) or not country:
        return None
    if not isinstance(event, str):
        return None
    timestamp = utc_instant(stamp)
    if timestamp is None:
        return None
    service = obj.get("service")
    level = obj.get("level")
    return LogEvent(
        timestamp=timestamp,
        event=event,
        country=country,
        service=service if isinstance(service, str) else "",
        level=level if isinstance(level, str) else "",
        raw=obj,
        source=source,
        line=line,
    )


_TO_FIELD: Final = {
    "alert.sent": "recipient",
    "alert.refused": "recipient",
    "receipt.overdue": "recipient",
    "alert.shared_onward": "recipient",
    "consent.requested": "recipient",
    "consent.granted": "recipient",
    "receipt.received": "receipt_from",
}
"""Events logged on the sending side name the receiving country in this field."""
_FROM_FIELD: Final = {
    "consent.requested": "receipt_from",
    "consent.granted": "receipt_from",
}
"""Consent is asked for a hop that starts at the recipient asking, not at the logger."""


def route_of(event: LogEvent) -> tuple[str | None, str | None]:
    """The hop an event is about, in the alert's direction: ``(from, to)`` countries.

    Sending-side events (sent, refused, shared onward, overdue, receipt received) go from the
    logging country (the sender: the originator, or a recipient sharing onward) to the named
    recipient; receiving-side events (received, rejected, revoked, duplicate, receipt sent,
    dead letter) go from the originator to the logging country; consent events go from the
    recipient asking to the country it would share with. Either end may be unknown.
    """
    to_field = _TO_FIELD.get(event.event)
    if to_field is None:
        return event.originator, event.country
    from_field = _FROM_FIELD.get(event.event)
    source = event.country if from_field is None else event.text(from_field)
    return source, event.text(to_field)
