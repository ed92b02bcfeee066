"""The values a scenario file reads into: header, steps and the alert fields they carry.

All frozen; steps refer to each other by the short local names the file gives them, never by
generated ids (those are made by :mod:`.timeline`, deterministically from the seed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from intelshare.contract.alerts import Grading
    from intelshare.network.model import Network
    from intelshare.scenario.expectations import Expectation
    from intelshare.yamlpos import Where


@dataclass(frozen=True, kw_only=True, slots=True)
class TimeValue:
    """A time written in an alert: an offset from the step's time, or an absolute moment."""

    offset: timedelta | None = None
    """``7d``: this long after the step happens."""
    moment: datetime | None = None
    """``2026-11-28T09:00:00Z``: an absolute time in the scenario's calendar (aware, UTC)."""

    def resolve(self, step_time: datetime) -> datetime:
        """The moment this value stands for when the step happens at ``step_time``."""
        if self.moment is not None:
            return self.moment
        assert self.offset is not None
        return step_time + self.offset


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertFields:
    """Alert fields as a step writes them; None means "not given" (a default or unchanged)."""

    recipients: tuple[str, ...] | None = None
    """``to``: addressed countries."""
    category: str | None = None
    """Category symbol."""
    priority: str | None = None
    """Priority symbol."""
    tlp: str | None = None
    """TLP symbol."""
    eu_handling: tuple[str, ...] | None = None
    """EU handling codes."""
    eu_restrictions: str | None = None
    """The restrictions H3 stands for."""
    uk_handling: str | None = None
    """``P`` or ``C``."""
    uk_conditions: str | None = None
    """Conditions when UK handling is ``C``."""
    grading: Grading | None = None
    """Admiralty ``B2`` or UK 3x5x2 ``1A``."""
    summary: str | None = None
    """Short sanitised summary."""
    case: str | None = None
    """Case id (the Kafka key); defaults to the alert's local name."""
    agency: str | None = None
    """Originating agency id from the network file (e.g. ``GB-NCA``)."""
    unit: str | None = None
    """Originating unit inside the agency."""
    valid_until: TimeValue | None = None
    """Until when the alert is valid."""
    response_due: TimeValue | None = None
    """When a response is due."""
    expect_response: bool | None = None
    """False when the file says ``response_due: none``."""
    route: tuple[str, ...] | None = None
    """Route countries."""
    related: tuple[str, ...] | None = None
    """Local names of related alerts (their ids go into ``related_alert_ids``)."""
    subjects: Mapping[str, tuple[Mapping[str, Any], ...]] | None = None
    """Subject lists by Alert field name (persons, vehicles, ...), as Avro records."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Step:
    """What every step has: when it happens and where it is written.

    Attributes:
        at: Offset from the scenario start (``at:``, or the previous step's time when omitted).
        where: Position of the step in the file.
        index: 0-based position in the steps list.
    """

    at: timedelta
    where: Where
    index: int


@dataclass(frozen=True, kw_only=True, slots=True)
class NamedStep(Step):
    """A step about one alert, which it names by its local name in the file.

    Attributes:
        name: The alert's local name: an alert step gives it, later steps and expectations
            use it.
    """

    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertStep(NamedStep):
    """A country sends a new alert to recipients.

    Attributes:
        originator: The sending country (``from``).
        fields: What the file says about the alert.
        expect_refused: ``expect: refused``: the scenario means some recipients to be refused.
    """

    originator: str
    fields: AlertFields
    expect_refused: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class UpdateStep(NamedStep):
    """The originator sends the next revision of an earlier alert.

    Attributes:
        fields: Fields that change.
        expect_refused: The scenario means some recipients to be refused.
    """

    fields: AlertFields
    expect_refused: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class RevocationStep(NamedStep):
    """The originator revokes an earlier alert; every recipient stops using it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ReceiptStep(NamedStep):
    """A recipient answers an alert (hit, no hit, actioned ...) to its originator.

    Attributes:
        by: The answering recipient.
        status: ReceiptStatus symbol.
        note: Free-text note.
    """

    by: str
    status: str
    note: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsentRequestStep(NamedStep):
    """A recipient asks the originator for consent to share an alert onward.

    The originator's service decides by policy and answers with a grant; the requester's
    service then shares the alert onward under it. Both follow by themselves.

    Attributes:
        by: The requesting recipient.
        onward_to: Countries it wants to share with.
        reason: Why.
        expect_refused: The scenario means the originator to refuse some of the onward countries.
    """

    by: str
    onward_to: tuple[str, ...]
    reason: str
    expect_refused: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class ShareOnwardStep(NamedStep):
    """A recipient shares an alert onward without asking (where the handling allows it).

    Attributes:
        by: The recipient sharing it.
        to: The onward countries.
        expect_refused: The scenario means some onward copies to be refused.
    """

    by: str
    to: tuple[str, ...]
    expect_refused: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class PauseStep(Step):
    """Time passes with nothing sent; later steps without ``at`` follow the pause.

    Attributes:
        duration: How long.
    """

    duration: timedelta


AnyStep = (
    AlertStep
    | UpdateStep
    | RevocationStep
    | ReceiptStep
    | ConsentRequestStep
    | ShareOnwardStep
    | PauseStep
)
"""Every kind of step."""


def end_of(step: AnyStep) -> timedelta:
    """The offset at which a step is over (a pause lasts; everything else is instant)."""
    return step.at + (step.duration if isinstance(step, PauseStep) else timedelta(0))


@dataclass(frozen=True, kw_only=True, slots=True)
class Scenario:
    """A scenario file's header and expectations; its steps are read lazily (iter_steps)."""

    source: str
    """The file as named on the command line."""
    name: str
    """Short name."""
    description: str
    """What the story is."""
    seed: str
    """Seed for generated ids (the file's ``seed``, or a command-line override)."""
    network: Network
    """The network the scenario plays in."""
    start: datetime
    """The scenario clock's origin: the moment ``at: 0s`` stands for."""
    defaults: AlertFields
    """Defaults for every alert step (``defaults:``)."""
    expectations: tuple[Expectation, ...]
    """What must hold after the replay."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Outline:
    """What a full pass over the steps learnt, so a replay can stream without looking back."""

    steps: int
    """Number of steps."""
    alerts: int
    """Number of alert steps."""
    messages: int
    """Messages the timeline will publish (alerts, updates, revocations, receipts, consent)."""
    duration: timedelta
    """Offset of the last moment in the timeline (after the last pause)."""
    referenced: frozenset[str]
    """Alert names some later step refers to (their records are kept while streaming)."""
    countries: frozenset[str]
    """Every country that sends or is addressed (whose services a replay needs running)."""
    senders: frozenset[str]
    """Every country that publishes something in the timeline."""
    first_message: timedelta | None = None
    """Offset of the first step that publishes something (None: the steps publish nothing)."""
    last_message: timedelta | None = None
    """Offset of the last step that publishes something."""
