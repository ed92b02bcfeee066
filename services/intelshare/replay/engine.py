"""Play a checked scenario's timeline into the network and judge the outcome.

Each step is handed to a :class:`Sender` (in production, the originating country's own
Publisher) at its time on the scenario clock, scaled by the speed factor, or at once with
``as_fast_as_possible``. What happens is learnt from audit events, fed to :class:`Outcome`
by an observer (in production, a reader of the audit topic), which keeps only counters and
what the expectations need. The replay ends when every expectation is decided and the sent
copies are accounted for, or when the settle time runs out. Clock, sender and observer are
injected, so the whole engine runs in tests without Kafka and without sleeping.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol

from intelshare.contract import events as ev
from intelshare.contract.alerts import to_millis
from intelshare.scenario.expectations import Evaluator, Result, Status
from intelshare.scenario.files import PauseStep, iter_steps
from intelshare.scenario.model import end_of
from intelshare.scenario.timeline import StepMessage, TimelineBuilder, TimelineEntry

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
    from datetime import datetime

    from intelshare.replay.clock import Clock
    from intelshare.scenario.files import CheckReport

_TIMES: Final = {
    "alert": ("created_at", "valid_until", "response_due"),
    "share_onward": ("created_at", "valid_until", "response_due"),
    "receipt": ("sent_at",),
    "consent_request": ("requested_at",),
}
# Consumers' verdicts on an arriving copy; each settles one alert.sent or shared_onward.
_ARRIVALS: Final = frozenset(
    {ev.ALERT_RECEIVED, ev.ALERT_REVOKED, ev.ALERT_REJECTED, ev.ALERT_DUPLICATE}
)
_POLL: Final = 0.05


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplayOptions:
    """How a scenario is played."""

    speed: float = 1.0
    """Scenario seconds per real second (2: twice as fast)."""
    as_fast_as_possible: bool = False
    """Ignore the schedule: publish every step as soon as the previous ones are sent."""
    start: timedelta = timedelta(0)
    """``--from``: skip steps before this offset (their alerts are never published)."""
    end: timedelta | None = None
    """``--to``: stop after this offset."""
    settle: float = 30.0
    """Seconds to wait for the outcome after the last step, at most."""
    quiet: float = 1.0
    """Seconds without news after which negative expectations count as held."""
    idle: float = 10.0
    """Seconds without any news after which the replay ends with what it has: copies still
    unaccounted for count as lost, expectations still undecided as failed."""
    window: int = 1024
    """Sends in flight at once (a step about an earlier alert waits for that alert's). Twelve
    producers share it: 1,024 lets each gather hundreds of records per request (256 cost a
    fifth more CPU per message; 4,096 only memory)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Outgoing:
    """One timeline message ready to publish."""

    message: StepMessage
    """What the timeline says is sent, by whom, to whom."""
    record: Mapping[str, Any]
    """The record as published: restamped to the real clock."""
    alert: Mapping[str, Any] | None
    """For consent requests and onward sharing: the alert as it was published."""
    context: Mapping[str, Any]
    """Fields for every log event of the send (scenario, step)."""


class Sender(Protocol):
    """Publishes one timeline message as its sending country."""

    async def send(self, outgoing: Outgoing) -> None:
        """Publish ``outgoing.record`` as ``outgoing.message``'s sender."""
        ...


@dataclass(kw_only=True, slots=True)
class Outcome:
    """What the audit events say about this replay, kept small: counters and first times."""

    evaluator: Evaluator
    """The expectations, checked as events come."""
    clock: Clock
    """For the time of the latest news."""
    ours: set[str] = field(default_factory=set)
    """Alert ids this replay published; other traffic on the audit topic is ignored."""
    counts: Counter[str] = field(default_factory=Counter)
    """Events of this replay by name."""
    in_flight: int = 0
    """Copies and receipts sent and not yet seen arriving."""
    last_news: float = 0.0
    """Monotonic time of the latest relevant event."""
    duplicates: Counter[str] = field(default_factory=Counter)
    """Countries that suppressed this replay's alerts as already handled."""
    addressed: Counter[str] = field(default_factory=Counter)
    """Copies and receipts sent, by the country they were sent to."""
    answered: Counter[str] = field(default_factory=Counter)
    """Arrivals (received, revoked, rejected, duplicate, receipt), by the country logging them."""

    def observe(self, event: Mapping[str, Any]) -> None:
        """Take one audit event (from any service) into account, if it is about this replay."""
        name = str(event.get("event"))
        if event.get("alert_id") not in self.ours and name != ev.MESSAGE_DEADLETTERED:
            return
        self.counts[name] += 1
        self.last_news = self.clock.monotonic()
        if name in (ev.ALERT_SENT, ev.ALERT_SHARED_ONWARD, ev.RECEIPT_SENT):
            self.in_flight += 1
            # A receipt goes back to the alert's originator; a copy to its recipient.
            to = event.get("originator" if name == ev.RECEIPT_SENT else "recipient")
            if to is not None:
                self.addressed[str(to)] += 1
        elif name in _ARRIVALS or name == ev.RECEIPT_RECEIVED:
            self.in_flight -= 1
            self.answered[str(event.get("country"))] += 1
        if name == ev.ALERT_DUPLICATE:
            self.duplicates[str(event.get("country"))] += 1
        self.evaluator.observe(event)


@dataclass(frozen=True, kw_only=True, slots=True)
class ReplayReport:
    """How a replay went."""

    results: tuple[Result, ...]
    """Every expectation's final result, in file order."""
    published: int
    """Messages published."""
    publish_seconds: float
    """From the first publish to the last acknowledgement."""
    total_seconds: float
    """From the start to the verdict."""
    started_at: datetime
    """Wall-clock time the replay started (observed times are shown from here)."""
    counts: Mapping[str, int]
    """Audit events of this replay by name."""
    duplicates: Mapping[str, int]
    """Countries that had already handled this replay's alerts (the same seed replayed)."""
    addressed: Mapping[str, int] = field(default_factory=dict)
    """Copies and receipts sent, by the country they were sent to."""
    answered: Mapping[str, int] = field(default_factory=dict)
    """Arrivals logged, by country (a country with none had no consumer answering)."""

    @property
    def unanswered(self) -> tuple[str, ...]:
        """Countries sent something that logged no arrival at all, sorted."""
        return tuple(sorted(c for c in self.addressed if not self.answered.get(c)))

    @property
    def failed(self) -> tuple[Result, ...]:
        """The expectations that did not hold."""
        return tuple(r for r in self.results if r.status is not Status.MET)

    @property
    def throughput(self) -> float:
        """Messages published per second."""
        return self.published / self.publish_seconds if self.publish_seconds > 0 else 0.0


def restamp(record: Mapping[str, Any], kind: str, shift: timedelta) -> dict[str, Any]:
    """A record of a ``kind`` of message with its times moved by ``shift``.

    The timeline is written on the scenario's clock; a replay publishes on the real one.
    Moving every time of a message by the same shift keeps the durations it carries
    (valid for 7 days, response due in 8 hours) exactly as the scenario wrote them.
    """
    moved = dict(record)
    for name in _TIMES[kind]:
        value = moved.get(name)
        if value is not None:
            moved[name] = to_millis(value + shift)
    return moved


def timeline(report: CheckReport) -> Iterator[TimelineEntry]:
    """The entries of a checked scenario: those built while checking, else from its file."""
    if report.timeline is not None:
        return report.timeline.entries()
    assert report.scenario is not None
    assert report.outline is not None
    builder = TimelineBuilder(report.scenario, keep=report.outline.referenced)
    return builder.entries(iter_steps(report))


async def _played(entries: Iterable[TimelineEntry]) -> AsyncIterator[TimelineEntry]:
    """A timeline built as it is played."""
    for entry in entries:
        yield entry


class Replay:
    """One run of a scenario: schedule, send, observe, judge."""

    def __init__(
        self,
        report: CheckReport,
        *,
        sender: Sender,
        clock: Clock,
        options: ReplayOptions,
        progress: Callable[[int], None] | None = None,
        health: Callable[[], None] | None = None,
    ) -> None:
        """Play ``report`` (a checked scenario) through ``sender`` on ``clock``.

        ``progress`` hears how many messages are published so far; ``health`` is called
        now and then and raises when something the replay relies on has stopped.
        """
        assert report.scenario is not None
        self.report = report
        self.scenario = report.scenario
        self.sender = sender
        self.clock = clock
        self.options = options
        self.progress = progress
        self.health = health or (lambda: None)
        self.outcome = Outcome(
            evaluator=Evaluator(self.scenario.expectations, report.ids), clock=clock
        )
        self._shifts: dict[str, timedelta] = {}
        assert report.outline is not None
        self._referenced = report.outline.referenced
        self._in_flight: set[asyncio.Task[None]] = set()
        self._last: dict[str, asyncio.Task[None]] = {}
        """The latest send in flight per alert name and per case id."""
        self._held: set[asyncio.Task[None]] = set()
        """Sends in flight that wait for earlier ones before going out."""
        self._slots = asyncio.Semaphore(options.window)
        self.published = 0

    def _due(self, at: timedelta) -> float:
        """Seconds after the start at which a step at offset ``at`` is due."""
        return (at - self.options.start).total_seconds() / self.options.speed

    async def run(self) -> ReplayReport:
        """Publish the timeline, wait for the outcome, and report."""
        options = self.options
        started = self.clock.monotonic()
        started_at = self.clock.now()
        first_send: float | None = None
        paused = 0.0  # time spent waiting in pauses, not publishing
        last_end = options.start
        async for entry in _played(timeline(self.report)):
            at = entry.step.at
            if at < options.start:
                continue
            if options.end is not None and at > options.end:
                break
            last_end = end_of(entry.step)
            if not options.as_fast_as_possible:
                await self.clock.sleep(started + self._due(at) - self.clock.monotonic())
            if isinstance(entry.step, PauseStep):
                if options.as_fast_as_possible:
                    # Without a schedule, a pause is where the network catches up: what was
                    # sent so far lands and is answered before the next step goes out.
                    waited = self.clock.monotonic()
                    await self._drain()
                    await self._settle(waiting_for_expectations=False)
                    paused += self.clock.monotonic() - waited
                continue
            if first_send is None:
                first_send = self.clock.monotonic()
            await self._send(entry)
            if self.published % 1000 == 0:
                self.health()
        await self._drain()
        publish_end = self.clock.monotonic()
        if not options.as_fast_as_possible:
            end = min(last_end, options.end) if options.end is not None else last_end
            await self.clock.sleep(started + self._due(end) - self.clock.monotonic())
        await self._settle()
        outcome = self.outcome
        return ReplayReport(
            results=outcome.evaluator.results(final=True),
            published=self.published,
            publish_seconds=publish_end - (first_send or publish_end) - paused,
            total_seconds=self.clock.monotonic() - started,
            started_at=started_at,
            counts=dict(outcome.counts),
            duplicates=dict(outcome.duplicates),
            addressed=dict(outcome.addressed),
            answered=dict(outcome.answered),
        )

    async def _send(self, entry: TimelineEntry) -> None:
        message = entry.message
        assert message is not None
        shift = self.clock.now() - entry.time
        alert = None
        if message.kind == "alert":
            if message.name in self._referenced:
                self._shifts[message.name] = shift
        elif message.alert is not None:
            # The alert as its originator published it, not as the scenario clock wrote it.
            alert = restamp(message.alert, "alert", self._shifts.get(message.name, shift))
        if message.kind == "share_onward":
            shift = self._shifts.get(message.name, shift)
        record = restamp(message.record, message.kind, shift)
        context = {"scenario": self.scenario.name, "step": entry.step.index}
        self.outcome.ours.add(message.alert_id)
        await self._slots.acquire()
        outgoing = Outgoing(message=message, record=record, alert=alert, context=context)
        keys = (f"alert {message.name}", f"case {record.get('case_id')}")
        before = self._before(message, keys)
        task = asyncio.create_task(self._publish(outgoing, before))
        if before:
            self._held.add(task)
        for key in keys:
            self._last[key] = task
        self._in_flight.add(task)
        task.add_done_callback(lambda done: self._done(done, keys))

    def _before(self, message: StepMessage, keys: tuple[str, ...]) -> list[asyncio.Task[None]]:
        """The sends in flight that ``message`` must wait for before it goes out.

        Updates, receipts and consent follow the alert they are about: they wait until its
        sends (and its case's) are acknowledged, since they may go out through another
        country's producer. A new alert waits only for those of its case's sends that are
        themselves waiting, so it cannot overtake them; anything else goes out in file order
        at once, and the idempotent producer keeps that order on each partition. Steps
        about other alerts are not held up meanwhile, so the window stays full.
        """
        about_earlier = message.kind != "alert" or message.record.get("revision", 1) > 1
        before = [self._last[k] for k in keys if k in self._last]
        if not about_earlier:
            before = [t for t in before if t in self._held]
        return list(dict.fromkeys(before))

    def _done(self, task: asyncio.Task[None], keys: tuple[str, ...]) -> None:
        self._in_flight.discard(task)
        self._held.discard(task)
        for key in keys:
            if self._last.get(key) is task:
                del self._last[key]

    async def _publish(self, outgoing: Outgoing, before: list[asyncio.Task[None]]) -> None:
        try:
            for task in before:
                await task  # an earlier send that failed fails this one too: nothing follows it
            await self.sender.send(outgoing)
            self.published += 1
            if self.progress is not None:
                self.progress(self.published)
        finally:
            self._slots.release()

    async def _drain(self) -> None:
        """Wait until every send in flight is acknowledged; the first failure is raised."""
        while self._in_flight:
            done, _ = await asyncio.wait(set(self._in_flight))
            for task in done:
                task.result()

    async def _settle(self, *, waiting_for_expectations: bool = True) -> None:
        """Wait until nothing is on its way (and, at the end, every expectation is decided).

        Ends at the latest after ``settle`` seconds, and sooner once the network has said
        nothing about this replay for ``idle`` seconds: an expectation still undecided then
        waits for an event that is not coming, so the replay fails without waiting the rest.
        """
        began = self.clock.monotonic()
        deadline = began + self.options.settle
        while self.clock.monotonic() < deadline:
            self.health()
            now = self.clock.monotonic()
            silence = now - self.outcome.last_news
            decided = not waiting_for_expectations or self.outcome.evaluator.undecided() == 0
            landed = self.outcome.in_flight <= 0 and silence >= self.options.quiet
            # A copy whose arrival nobody logs (a country without a running consumer, a
            # message a service drops) must not hold the verdict up until the settle time.
            if decided and (landed or silence >= self.options.idle):
                return
            if now - max(self.outcome.last_news, began) >= self.options.idle:
                return
            await self.clock.sleep(_POLL)
