"""What a scenario expects to happen, and checking it against the audit events.

An expectation is one line of the file's ``expect:`` list, e.g.
``- receives: {country: RS, alert: van-sighting, within: 10s}``. Checking is a pure fold over
the events of :mod:`~.contract.events` (plain dicts as logged): :class:`Evaluator` takes them
one at a time and keeps only counters and the few times it needs, so a replay of any length
can be checked as it streams. :func:`evaluate` runs it over a recorded list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from intelshare.contract import events as ev
from intelshare.durations import format_duration

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from intelshare.yamlpos import Where


class Status(StrEnum):
    """Where an expectation stands."""

    PENDING = "pending"
    """Not seen yet; may still come."""
    HOLDING = "holding"
    """True so far; a later event could still break it (never, at most, no dead letters)."""
    MET = "met"
    """Held, final."""
    FAILED = "failed"
    """Did not hold, final."""


KINDS: Final = (
    "receives",
    "never_receives",
    "receipt",
    "refused",
    "rejected",
    "revoked",
    "count",
    "no_dead_letters",
)
"""The expectation kinds a scenario may write."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Expectation:
    """One expectation: which events it is about, and what must hold of them."""

    kind: str
    """One of :data:`KINDS`."""
    where: Where
    """Position in the scenario file."""
    event: str
    """The event name it counts (e.g. ``alert.received``)."""
    match: Mapping[str, str] = field(default_factory=dict)
    """Event fields that must equal these values (country, recipient, receipt_from, ...)."""
    alert: str | None = None
    """Local name of the alert it is about (matched through its generated id)."""
    at_least: int | None = None
    """Met once this many events match."""
    at_most: int | None = None
    """Fails once more than this many events match."""
    within: timedelta | None = None
    """The first match must come this soon after its message was sent.

    Measured by the event's own ``latency_ms`` (from the alert's or receipt's creation,
    which a replay sets to the moment it publishes); for events without one, from the
    ``alert.sent`` of the alert to ``sent_to``.
    """
    sent_to: str | None = None
    """For ``within`` without ``latency_ms``: whose ``alert.sent`` starts the clock."""
    text: str = ""
    """How the table names it, e.g. ``RS receives van-sighting within 10s``."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Result:
    """An expectation's outcome."""

    expectation: Expectation
    """What was expected."""
    status: Status
    """Met, failed, or (before the end) pending or holding."""
    count: int
    """How many events matched."""
    first_at: datetime | None
    """Timestamp of the first matching event."""
    latency: timedelta | None
    """For ``within``: from the alert's send to the first match."""
    detail: str
    """Why it failed, or what was observed, in a few words."""

    @property
    def observed(self) -> str:
        """The table's observed column: latency after send, else the first event's time."""
        if self.latency is not None:
            return f"{self.latency.total_seconds():.3f}s after sending"
        if self.first_at is not None:
            return self.first_at.strftime("%H:%M:%S.%f")[:-3]
        return "-"


def parse_timestamp(text: str) -> datetime:
    """An event's ISO-8601 ``timestamp`` (``...Z``) as an aware datetime."""
    return datetime.fromisoformat(text)


@dataclass(kw_only=True, slots=True)
class _State:
    count: int = 0
    first_at: datetime | None = None
    sent_at: datetime | None = None
    latency: timedelta | None = None
    last_refusal: str | None = None


class Evaluator:
    """Checks expectations event by event, keeping only counters and first times."""

    def __init__(self, expectations: Iterable[Expectation], ids: Mapping[str, str]) -> None:
        """``ids``: the generated alert id of each local name the expectations use."""
        self.expectations = tuple(expectations)
        self._ids = dict(ids)
        self._states = [_State() for _ in self.expectations]

    def _alert_id(self, expectation: Expectation) -> str | None:
        return None if expectation.alert is None else self._ids.get(expectation.alert, "?")

    def observe(self, event: Mapping[str, Any]) -> None:
        """Take one audit event into account."""
        name = event.get("event")
        for expectation, state in zip(self.expectations, self._states, strict=True):
            alert_id = self._alert_id(expectation)
            if alert_id is not None and event.get("alert_id") != alert_id:
                continue
            if name != expectation.event:
                _aside(expectation, state, event)
                continue
            if any(str(event.get(k)) != v for k, v in expectation.match.items()):
                continue
            state.count += 1
            if state.first_at is None:
                state.first_at = parse_timestamp(event["timestamp"])
                if isinstance(event.get("latency_ms"), int | float):
                    state.latency = timedelta(milliseconds=event["latency_ms"])

    def results(self, *, final: bool = False) -> tuple[Result, ...]:
        """Every expectation's standing; ``final`` turns pending into failed, holding into met."""
        return tuple(
            _result(expectation, state, final=final)
            for expectation, state in zip(self.expectations, self._states, strict=True)
        )

    def undecided(self) -> int:
        """How many expectations still wait for an event (holding ones do not wait)."""
        return sum(r.status is Status.PENDING for r in self.results())


_EXPLAINING: Final = frozenset({ev.ALERT_REJECTED, ev.ALERT_REFUSED, ev.ALERT_DUPLICATE})


def _aside(expectation: Expectation, state: _State, event: Mapping[str, Any]) -> None:
    """Events that are not the expected one but time it or explain its absence."""
    name = str(event.get("event"))
    if name == ev.ALERT_SENT and expectation.within is not None:
        if state.sent_at is None and event.get("recipient") == expectation.sent_to:
            state.sent_at = parse_timestamp(event["timestamp"])
    elif name in _EXPLAINING:
        # Kept to explain a failure: "alert.rejected by RS (expired)".
        country = expectation.match.get("country")
        if country in (event.get("country"), event.get("recipient")):
            rule = f" ({event['rule']})" if event.get("rule") else ""
            state.last_refusal = f"{name} by {event.get('country')}{rule}"


def _result(expectation: Expectation, state: _State, *, final: bool) -> Result:  # noqa: C901 - one rule per bound
    latency = state.latency
    if latency is None and state.first_at is not None and state.sent_at is not None:
        latency = state.first_at - state.sent_at
    status = Status.PENDING
    detail = f"{state.count} seen"
    if expectation.at_most is not None and state.count > expectation.at_most:
        status = Status.FAILED
        detail = f"{state.count} seen, {_bound(expectation)} expected"
    elif expectation.at_least is not None and state.count >= expectation.at_least:
        status = Status.MET if expectation.at_most is None else Status.HOLDING
    elif expectation.at_least is None:
        status = Status.HOLDING
    if status is Status.MET and expectation.within is not None:
        if latency is None:
            status = Status.PENDING  # the matching alert.sent is still on its way
        elif latency > expectation.within:
            status = Status.FAILED
            detail = (
                f"took {format_duration(latency)}, more than {format_duration(expectation.within)}"
            )
    if final:
        if status is Status.PENDING:
            status = Status.FAILED
            detail = _missing(expectation, state)
        elif status is Status.HOLDING:
            status = Status.MET
    return Result(
        expectation=expectation,
        status=status,
        count=state.count,
        first_at=state.first_at,
        latency=latency,
        detail=detail,
    )


def _missing(expectation: Expectation, state: _State) -> str:
    if expectation.within is not None and state.count and state.sent_at is None:
        return "the alert.sent it is timed from was never seen"
    if expectation.at_least is not None and expectation.at_least > 1:
        return f"{state.count} seen, {_bound(expectation)} expected"
    if state.last_refusal:
        return f"never seen; {state.last_refusal}"
    return "never seen"


def _bound(expectation: Expectation) -> str:
    """``exactly 3``, ``at least 3``, ``at most 2`` or ``3 to 5``: what a count asked for."""
    low, high = expectation.at_least, expectation.at_most
    if not low and high == 0:
        return "none"
    if low is not None and low == high:
        return f"exactly {low}"
    if low is not None and high is not None:
        return f"{low} to {high}"
    if low is not None:
        return f"at least {low}"
    return f"at most {high}"


def evaluate(
    expectations: Iterable[Expectation], ids: Mapping[str, str], events: Iterable[Mapping[str, Any]]
) -> tuple[Result, ...]:
    """Final results of ``expectations`` over a recorded sequence of audit events."""
    evaluator = Evaluator(expectations, ids)
    for event in events:
        evaluator.observe(event)
    return evaluator.results(final=True)
