"""A country's state: what it received and sent, as entries of its compacted state topic.

A restarted consumer must still know which alerts (id and revision) it already handled, so
a redelivery is suppressed instead of logged twice; and an originator must know what it
sent, so it can tell when a receipt is overdue. Both live in ``intel.state.<CC>``, a
compacted topic only that country reads and writes: one key per fact, the latest value
wins, and reading it from the start rebuilds :class:`CountryState`. Each key has exactly one
writer (the producer writes ``sent`` and ``record``, the consumer the rest), so two
services of one country never overwrite each other's facts. Everything here is pure.
"""

from __future__ import annotations

import base64
import operator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

import orjson

from intelshare.valuetype import value_type

if TYPE_CHECKING:
    from collections.abc import Iterator

InboxStatus = Literal["received", "revoked", "rejected"]
"""What the recipient did with the newest revision it handled."""

_SEP: Final = "/"

AlertId = tuple[str, str]
"""An alert's identity: its originator's country code and the originator's alert id."""


@value_type
class InboxEntry:
    """The newest revision of one alert a country handled (key ``inbox/<originator>/<id>``).

    An alert is known by its originator and id together: one country's message never
    stands for another country's alert of the same id. (Entries written before the key
    named the originator, ``inbox/<id>``, still read: the value names the originator.)
    """

    alert_id: str
    """The alert."""
    revision: int
    """The newest revision handled; anything at or below it is a duplicate."""
    status: InboxStatus
    """Received (in use), revoked (stopped using) or rejected on arrival."""
    originator: str
    """The alert's originator."""
    case_id: str
    """The alert's case."""
    receipt_sent: bool = False
    """Whether the receipt for this revision was acknowledged by the broker."""
    record: bytes | None = None
    """The alert as received (single-object Avro), kept for onward sharing."""
    signature: bytes | None = None
    """The originator's signature of ``record``, which onward copies carry as its proof."""

    @property
    def key(self) -> str:
        """The state topic key."""
        return _SEP.join(("inbox", self.originator, self.alert_id))

    @property
    def identity(self) -> AlertId:
        """The alert: its originator and id."""
        return (self.originator, self.alert_id)


@value_type
class SentCopy:
    """One copy an originator wrote to a recipient (key ``sent/<id>/<revision>/<CC>``)."""

    alert_id: str
    """The alert."""
    revision: int
    """The revision sent."""
    recipient: str
    """The inbox it went to."""
    case_id: str
    """The alert's case."""
    created_at: datetime
    """When the revision was created."""
    response_due: datetime | None = None
    """When the recipient's answer is due, if one is asked for."""
    trace_id: str | None = None
    """The publication's trace id."""

    @property
    def key(self) -> str:
        """The state topic key."""
        return _SEP.join(("sent", self.alert_id, str(self.revision), self.recipient))

    @property
    def copy(self) -> tuple[str, int, str]:
        """Which copy: alert id, revision, recipient."""
        return (self.alert_id, self.revision, self.recipient)


@value_type
class SentRecord:
    """A revision an originator sent, kept to decide consent requests (``record/<id>/<rev>``)."""

    alert_id: str
    """The alert."""
    revision: int
    """The revision."""
    record: bytes
    """The alert as sent (single-object Avro)."""

    @property
    def key(self) -> str:
        """The state topic key."""
        return _SEP.join(("record", self.alert_id, str(self.revision)))


@value_type
class ReceiptMark:
    """An originator got one receipt (key ``receipt/<alert id>/<revision>/<CC>/<receipt id>``).

    A recipient may answer one copy several times (RECEIVED at once, HIT or NO_HIT later), so
    each receipt id is a fact of its own.
    """

    alert_id: str
    """The alert."""
    revision: int
    """The revision answered."""
    recipient: str
    """Who answered."""
    status: str
    """The receipt's status."""
    receipt_id: str = ""
    """The receipt's own id (a redelivery repeats it)."""

    @property
    def key(self) -> str:
        """The state topic key."""
        parts = ("receipt", self.alert_id, str(self.revision), self.recipient, self.receipt_id)
        return _SEP.join(parts)


@value_type
class OverdueMark:
    """An originator reported a copy's receipt overdue (key ``overdue/<id>/<rev>/<CC>``)."""

    alert_id: str
    """The alert."""
    revision: int
    """The revision."""
    recipient: str
    """Who has not answered."""

    @property
    def key(self) -> str:
        """The state topic key."""
        return _SEP.join(("overdue", self.alert_id, str(self.revision), self.recipient))


@value_type
class ConsentEntry:
    """A consent this country asked for, as a requester (key ``consent/<consent id>``)."""

    consent_id: str
    """The request's id."""
    alert_id: str
    """The alert to share onward."""
    revision: int
    """Its revision."""
    originator: str
    """Who decides."""
    onward_to: tuple[str, ...]
    """Countries asked for."""
    status: Literal["requested", "granted", "refused", "shared"] = "requested"
    """Where the request stands."""

    @property
    def key(self) -> str:
        """The state topic key."""
        return f"consent{_SEP}{self.consent_id}"


Entry = InboxEntry | SentCopy | SentRecord | ReceiptMark | OverdueMark | ConsentEntry
"""Any fact the state topic holds."""

_KINDS: Final[dict[str, type[Entry]]] = {
    "inbox": InboxEntry,
    "sent": SentCopy,
    "record": SentRecord,
    "receipt": ReceiptMark,
    "overdue": OverdueMark,
    "consent": ConsentEntry,
}


_KIND_OF: Final[dict[type[Entry], tuple[str, tuple[str, ...], operator.attrgetter[Any]]]] = {
    kind: (name, names, operator.attrgetter(*names))
    for name, kind in _KINDS.items()
    for names in [tuple(f.name for f in fields(kind))]
}
"""Each entry class's kind, field names and their getter, worked out once (a producer writes
one per copy)."""


def encode_entry(entry: Entry) -> tuple[bytes, bytes]:
    """Key and value bytes for the state topic (JSON: times ISO-8601, bytes base64)."""
    kind, names, values = _KIND_OF[type(entry)]
    # Entries are flat: their fields as they are give what asdict() gives, without its deep
    # copies; orjson writes text, numbers and tuples itself and asks _to_json for the rest.
    value: dict[str, object] = {"kind": kind, **dict(zip(names, values(entry), strict=True))}
    return entry.key.encode(), orjson.dumps(
        value, default=_to_json, option=orjson.OPT_PASSTHROUGH_DATETIME
    )


def decode_entry(value: bytes) -> Entry | None:
    """The entry a state topic value holds; None for a value this version does not know."""
    try:
        raw = orjson.loads(value)
        kind = _KINDS[raw.pop("kind")]
        names = set(kind.__dataclass_fields__)
        values: dict[str, Any] = {k: _from_json(k, v) for k, v in raw.items() if k in names}
        return kind(**values)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _to_json(value: object) -> object:
    # Times as UTC whatever their zone (orjson's own form would keep the zone).
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"{type(value).__name__} is not a state entry field type")


def _from_json(name: str, value: Any) -> object:  # noqa: ANN401 - JSON values
    if value is None:
        return None
    if name in ("created_at", "response_due"):
        return datetime.fromisoformat(value)
    if name in ("record", "signature"):
        return base64.b64decode(value)
    if name == "onward_to":
        return tuple(value)
    return value


Copy = tuple[str, int, str]
"""One sent copy: alert id, revision, recipient."""


@dataclass(kw_only=True, slots=True)
class CountryState:
    """Everything a country's state topic says, indexed for its consumer."""

    inbox: dict[AlertId, InboxEntry] = field(default_factory=dict)
    """Newest handled revision per alert (originator, id) (recipient side)."""
    sent: dict[Copy, SentCopy] = field(default_factory=dict)
    """Copies sent (originator side)."""
    records: dict[tuple[str, int], bytes] = field(default_factory=dict)
    """Alerts as sent, by id and revision."""
    receipts: dict[Copy, str] = field(default_factory=dict)
    """The latest receipt status per copy answered."""
    receipt_ids: set[str] = field(default_factory=set)
    """Every receipt id taken in (a redelivered receipt repeats its id)."""
    overdue: set[Copy] = field(default_factory=set)
    """Copies already reported overdue."""
    consents: dict[str, ConsentEntry] = field(default_factory=dict)
    """Consents asked for, by consent id."""

    def apply(self, entry: Entry) -> None:
        """Take in one fact; an older inbox revision never replaces a newer one."""
        match entry:
            case InboxEntry():
                known = self.inbox.get(entry.identity)
                if known is None or (entry.revision, entry.receipt_sent) >= (
                    known.revision,
                    known.receipt_sent,
                ):
                    self.inbox[entry.identity] = entry
            case SentCopy():
                self.sent[entry.copy] = entry
            case SentRecord():
                self.records[(entry.alert_id, entry.revision)] = entry.record
            case ReceiptMark():
                self.receipts[(entry.alert_id, entry.revision, entry.recipient)] = entry.status
                self.receipt_ids.add(entry.receipt_id)
            case OverdueMark():
                self.overdue.add((entry.alert_id, entry.revision, entry.recipient))
            case ConsentEntry():
                self.consents[entry.consent_id] = entry

    def handled(self, originator: str, alert_id: str, revision: int) -> InboxEntry | None:
        """The inbox entry when this revision (or a newer one) was already handled."""
        known = self.inbox.get((originator, alert_id))
        return known if known is not None and known.revision >= revision else None

    def due(self, now: datetime) -> Iterator[SentCopy]:
        """Copies whose response is due by ``now``, unanswered and not yet reported."""
        for copy, sent in self.sent.items():
            if (
                sent.response_due is not None
                and sent.response_due <= now
                and copy not in self.receipts
                and copy not in self.overdue
            ):
                yield sent
