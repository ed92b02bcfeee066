"""Build Alert records with sensible defaults, and read the few fields policy and logs need.

Records stay plain dicts in fastavro's form (that is what the codec writes); :class:`AlertHeader`
is the small typed view other modules reason about, so no module digs through dict keys.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from intelshare.contract.markings import Handling
from intelshare.valuetype import value_type

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

_ID_NAMESPACE: Final = uuid.UUID("6f4c1c0e-4f0b-5b8e-9a53-0c1e2d3a4b5c")

RESPONSE_WINDOWS: Final = {
    "URGENT": timedelta(hours=8),
    "HIGH": timedelta(days=3),
    "NORMAL": timedelta(days=7),
    "LOW": timedelta(days=7),
}
"""Directive (EU) 2023/977: urgent requests within 8 hours, other urgent ones 3 days, else 7."""
DEFAULT_VALIDITY: Final = timedelta(days=30)
"""How long a new alert stays valid unless told otherwise."""
SUBJECT_FIELDS: Final = (
    "persons",
    "vehicles",
    "vessels",
    "equipment",
    "documents",
    "locations",
    "payments",
    "organisations",
    "related_alert_ids",
)
"""The Alert's list fields new_alert() takes as keyword arguments (empty by default)."""
DEFAULT_GRADING: Final = {"reliability": "B", "credibility": 2}
"""Admiralty B2: usually reliable source, probably true."""


def alert_id_for(originator: str, seed: object) -> str:
    """A deterministic alert id for ``originator`` from any seed (same seed, same id)."""
    digest = uuid.uuid5(_ID_NAMESPACE, f"{originator}:{seed!r}").hex[:12].upper()
    return f"{originator}-{digest}"


def to_millis(moment: datetime) -> datetime:
    """An aware UTC datetime cut to milliseconds, as timestamp-millis keeps it."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment.isoformat()} has no time zone; use an aware UTC datetime")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def new_alert(
    *,
    originator: str,
    recipients: Sequence[str],
    category: str,
    case_id: str,
    summary: str,
    agency: str = "National contact point",
    alert_id: str | None = None,
    seed: object = None,
    revision: int = 1,
    message_type: str = "ALERT",
    priority: str = "NORMAL",
    tlp: str = "TLP_AMBER",
    eu_handling: Sequence[str] = ("H0",),
    eu_restrictions: str | None = None,
    uk_handling: str = "P",
    uk_conditions: str | None = None,
    grading: Mapping[str, Any] | None = None,
    created_at: datetime | None = None,
    valid_until: datetime | None = None,
    response_due: datetime | None = None,
    expect_response: bool = True,
    route_countries: Sequence[str] = (),
    hop_path: Sequence[str] | None = None,
    **subjects: Sequence[Mapping[str, Any]] | Sequence[str],
) -> dict[str, Any]:
    """A valid Alert record (newest schema) with defaults for everything not given.

    ``alert_id`` wins over ``seed``; with neither the id is random. ``created_at`` defaults to
    now; ``valid_until`` to 30 days later; ``response_due`` to the directive's window for the
    priority (None when ``expect_response`` is false). ``subjects`` are the list fields by name:
    persons, vehicles, vessels, equipment, documents, locations, payments, organisations,
    related_alert_ids.
    """
    created = to_millis(created_at or datetime.now(UTC))
    if response_due is None and expect_response:
        response_due = created + RESPONSE_WINDOWS.get(priority, RESPONSE_WINDOWS["NORMAL"])
    if alert_id is None:
        alert_id = alert_id_for(originator, seed) if seed is not None else _random_id(originator)
    record: dict[str, Any] = {
        "alert_id": alert_id,
        "revision": revision,
        "message_type": message_type,
        "case_id": case_id,
        "originator": {"country": originator, "agency": agency, "unit": None},
        "recipients": list(recipients),
        "category": category,
        "priority": priority,
        "tlp": tlp,
        "eu_handling": list(eu_handling),
        "eu_restrictions": eu_restrictions,
        "uk_handling": uk_handling,
        "uk_conditions": uk_conditions,
        "grading": dict(grading or DEFAULT_GRADING),
        "route_countries": list(route_countries),
        "summary": summary,
        "created_at": created,
        "valid_until": to_millis(valid_until or created + DEFAULT_VALIDITY),
        "response_due": to_millis(response_due) if response_due else None,
        "hop_path": list(hop_path) if hop_path is not None else [originator],
    }
    unknown = set(subjects) - set(SUBJECT_FIELDS)
    if unknown:
        raise TypeError(f"new_alert() got unknown list fields {sorted(unknown)}")
    for name in SUBJECT_FIELDS:
        record[name] = []
    for name, items in subjects.items():
        record[name] = [item if isinstance(item, str) else dict(item) for item in items]
    return record


def _random_id(originator: str) -> str:
    return f"{originator}-{uuid.uuid4().hex[:12].upper()}"


def revise(
    record: Mapping[str, Any],
    *,
    message_type: str = "UPDATE",
    created_at: datetime | None = None,
    **changes: Any,  # noqa: ANN401 - any Alert field may change
) -> dict[str, Any]:
    """The next revision of an alert (an UPDATE, or a REVOCATION), same id, revision + 1."""
    revised = dict(record)
    revised.update(changes)
    revised["revision"] = int(record["revision"]) + 1
    revised["message_type"] = message_type
    revised["created_at"] = to_millis(created_at or datetime.now(UTC))
    return revised


def revoke(record: Mapping[str, Any], *, created_at: datetime | None = None) -> dict[str, Any]:
    """A revocation of an alert: recipients stop using it."""
    return revise(record, message_type="REVOCATION", created_at=created_at)


@value_type
class Grading:
    """How far to trust an alert, in one of two schemes."""

    scheme: str
    """``ADMIRALTY`` or ``UK_3X5X2``."""
    source: str
    """Source evaluation: Admiralty A-F, or 3x5x2 1-3."""
    information: str
    """Information assessment: Admiralty 1-6, or 3x5x2 A-E."""

    @property
    def code(self) -> str:
        """Compact code as analysts write it: ``B2`` (Admiralty) or ``1A`` (3x5x2)."""
        return f"{self.source}{self.information}"

    @property
    def valid(self) -> bool:
        """Whether both parts are within their scheme's scale."""
        if self.scheme == "ADMIRALTY":
            return self.source in "ABCDEF" and self.information in "123456"
        return self.source in "123" and self.information in "ABCDE"

    @classmethod
    def from_record(cls, grading: Mapping[str, Any]) -> Grading:
        """Read either grading record (the union carries no tag in fastavro's dict form)."""
        if "reliability" in grading:
            return cls(
                scheme="ADMIRALTY",
                source=str(grading["reliability"]),
                information=str(grading["credibility"]),
            )
        return cls(
            scheme="UK_3X5X2",
            source=str(grading["source"]),
            information=str(grading["intelligence"]),
        )


@value_type
class AlertHeader:
    """The fields of an Alert that routing, policy and logs need, typed."""

    alert_id: str
    """Originator's id for the alert, stable across revisions."""
    revision: int
    """1 for the first version, +1 per update or revocation."""
    message_type: str
    """``ALERT``, ``UPDATE`` or ``REVOCATION``."""
    case_id: str
    """The case; the Kafka message key."""
    originator: str
    """Originating country code."""
    agency: str
    """Originating agency."""
    recipients: tuple[str, ...]
    """Addressed recipient country codes."""
    category: str
    """Category symbol (``UNKNOWN`` when the reader did not know the writer's symbol)."""
    priority: str
    """Priority symbol."""
    tlp: str
    """TLP symbol."""
    eu_handling: tuple[str, ...]
    """EU handling codes."""
    uk_handling: str
    """UK handling code, ``P`` or ``C``."""
    uk_conditions: str | None
    """UK conditions when ``uk_handling`` is ``C``."""
    grading: Grading
    """Source and information grading."""
    created_at: datetime
    """When this revision was created (aware, UTC)."""
    valid_until: datetime
    """After this the alert is no longer acted on (aware, UTC)."""
    response_due: datetime | None
    """When a response is due, if one is requested."""
    hop_path: tuple[str, ...]
    """Countries the alert passed through, originator first."""

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> AlertHeader:
        """The typed view of an Alert record (any schema version)."""
        originator = record["originator"]
        return cls(
            alert_id=record["alert_id"],
            revision=record["revision"],
            message_type=record["message_type"],
            case_id=record["case_id"],
            originator=originator["country"],
            agency=originator["agency"],
            recipients=tuple(record["recipients"]),
            category=record["category"],
            priority=record["priority"],
            tlp=record["tlp"],
            eu_handling=tuple(record.get("eu_handling", ())),
            uk_handling=record["uk_handling"],
            uk_conditions=record.get("uk_conditions"),
            grading=Grading.from_record(record["grading"]),
            created_at=record["created_at"],
            valid_until=record["valid_until"],
            response_due=record.get("response_due"),
            hop_path=tuple(record.get("hop_path", ())),
        )

    @property
    def handling(self) -> Handling:
        """The alert's handling codes as one value."""
        return Handling(
            tlp=self.tlp,
            eu=frozenset(self.eu_handling),
            uk=self.uk_handling,
            uk_conditions=self.uk_conditions,
        )

    def log_fields(self) -> dict[str, Any]:
        """The alert fields audit events carry (see :mod:`intelshare.contract.events`)."""
        return {
            "alert_id": self.alert_id,
            "revision": self.revision,
            "message_type": self.message_type,
            "case_id": self.case_id,
            "originator": self.originator,
            "category": self.category,
            "priority": self.priority,
            "tlp": self.tlp,
            "eu_handling": list(self.eu_handling),
            "uk_handling": self.uk_handling,
        }
