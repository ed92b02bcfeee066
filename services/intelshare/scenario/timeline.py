"""The timeline a scenario plays: each step turned into the message one country publishes.

Pure and deterministic: the same scenario, seed and start give the same ids and the same
records, byte for byte. Ids are derived from the seed and the local names, never drawn at
random. Steps stream in and entries stream out; only alerts that a later step refers to are
remembered (the scan before a replay says which), so a long scenario never sits in memory.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from intelshare.contract.alerts import alert_id_for, new_alert, revise, revoke, to_millis
from intelshare.scenario.model import (
    AlertFields,
    AlertStep,
    ConsentRequestStep,
    PauseStep,
    ReceiptStep,
    RevocationStep,
    ShareOnwardStep,
    UpdateStep,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from datetime import datetime

    from intelshare.contract.alerts import Grading
    from intelshare.network.model import Network
    from intelshare.scenario.model import AnyStep, Scenario

_NAMESPACE: Final = uuid.UUID("2b6f0f5e-7f5c-5d43-8a8e-5c3f1e0b9d21")
_NO_FIELDS: Final = AlertFields()

MessageKind = Literal["alert", "receipt", "consent_request", "share_onward"]
"""What a timeline message is; it says which schema and topic it goes to."""

SCHEMA_OF: Final[dict[str, str]] = {
    "alert": "Alert",
    "receipt": "Receipt",
    "consent_request": "ConsentRequest",
    "share_onward": "Alert",
}
"""The schema name of each message kind."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StepMessage:
    """One message a country publishes at a step."""

    kind: MessageKind
    """Alert (new, update, revocation), receipt, consent request or consent grant."""
    sender: str
    """The country whose identity publishes it."""
    to: tuple[str, ...]
    """Countries it is addressed to (an alert's recipients; the originator for a receipt)."""
    record: Mapping[str, Any]
    """The Avro record (fastavro's dict form); for onward sharing, the alert as shared."""
    name: str
    """The alert's local name in the scenario."""
    alert_id: str
    """The generated id of the alert it concerns."""
    alert: Mapping[str, Any] | None = None
    """The alert's latest revision, for consent and onward sharing (the sender holds it)."""
    consent_id: str | None = None
    """The consent a request asks for."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TimelineEntry:
    """One step placed on the timeline."""

    step: AnyStep
    """The step as the file wrote it."""
    time: datetime
    """When it happens in the scenario's calendar (start + offset)."""
    message: StepMessage | None
    """What it publishes; None for a pause."""


def derived_id(seed: str, *parts: object) -> str:
    """A stable UUID text for anything the timeline names (receipts, consents)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join([seed, *map(str, parts)])))


def scenario_alert_id(seed: str, originator: str, name: str) -> str:
    """The alert id a scenario alert gets: stable for the same seed and local name."""
    return alert_id_for(originator, f"{seed}/{name}")


def _set_fields(defaults: AlertFields, fields: AlertFields) -> dict[str, Any]:
    """The given fields, step first then defaults, as a dict of the set ones."""
    merged: dict[str, Any] = {}
    for source in (defaults, fields):
        for key in source.__slots__:
            value = getattr(source, key)
            if value is not None:
                merged[key] = value
    return merged


def _agency(network: Network, originator: str, agency_id: str | None) -> str:
    country = network.country(originator)
    agencies = country.agencies if country is not None else ()
    for agency in agencies:
        if agency.id == agency_id:
            return agency.name
    return agencies[0].name if agencies else "National contact point"


def grading_record(grading: Grading) -> dict[str, Any]:
    """The Alert's grading union member for a typed grading."""
    if grading.scheme == "ADMIRALTY":
        return {"reliability": grading.source, "credibility": int(grading.information)}
    return {"source": int(grading.source), "intelligence": grading.information}


def _alert_times(given: Mapping[str, Any], when: datetime) -> dict[str, Any]:
    times: dict[str, Any] = {}
    if "valid_until" in given:
        times["valid_until"] = to_millis(given["valid_until"].resolve(when))
    if given.get("expect_response") is False:
        times["response_due"] = None
    elif "response_due" in given:
        times["response_due"] = to_millis(given["response_due"].resolve(when))
    return times


def _changes(given: Mapping[str, Any], when: datetime, ids: Mapping[str, str]) -> dict[str, Any]:
    """Alert record fields from the merged step fields (times resolved against ``when``)."""
    record: dict[str, Any] = {}
    plain = (
        "category",
        "priority",
        "tlp",
        "eu_restrictions",
        "uk_handling",
        "uk_conditions",
        "summary",
    )
    for key in plain:
        if key in given:
            record[key] = given[key]
    renamed = {"recipients": "recipients", "eu_handling": "eu_handling", "route": "route_countries"}
    for key, field in renamed.items():
        if key in given:
            record[field] = list(given[key])
    if "grading" in given:
        record["grading"] = grading_record(given["grading"])
    record.update(_alert_times(given, when))
    if "related" in given:
        record["related_alert_ids"] = [ids[name] for name in given["related"] if name in ids]
    for name, items in (given.get("subjects") or {}).items():
        record[name] = [dict(item) for item in items]
    return record


def build_alert(scenario: Scenario, step: AlertStep, ids: Mapping[str, str]) -> dict[str, Any]:
    """The Alert record of a new-alert step (``ids``: alert ids of earlier local names)."""
    when = scenario.start + step.at
    given = _set_fields(scenario.defaults, step.fields)
    changes = _changes(given, when, ids)
    record = new_alert(
        originator=step.originator,
        recipients=changes.pop("recipients", []),
        category=changes.pop("category", "REQUEST_FOR_INFORMATION"),
        priority=changes.pop("priority", "NORMAL"),
        case_id=given.get("case", step.name),
        summary=changes.pop("summary", step.name.replace("-", " ")),
        agency=_agency(scenario.network, step.originator, given.get("agency")),
        alert_id=scenario_alert_id(scenario.seed, step.originator, step.name),
        created_at=when,
        expect_response=given.get("expect_response", True),
        response_due=changes.pop("response_due", None),
    )
    record["originator"]["unit"] = given.get("unit")
    record.update(changes)
    return record


def build_update(
    scenario: Scenario, step: UpdateStep, previous: Mapping[str, Any], ids: Mapping[str, str]
) -> dict[str, Any]:
    """The next revision of ``previous`` with the step's changes."""
    when = scenario.start + step.at
    changes = _changes(_set_fields(_NO_FIELDS, step.fields), when, ids)
    if "case" in _set_fields(_NO_FIELDS, step.fields):
        changes["case_id"] = step.fields.case
    return revise(previous, created_at=when, **changes)


class TimelineBuilder:
    """Turns steps into entries, remembering only the alerts later steps refer to."""

    def __init__(self, scenario: Scenario, keep: Iterable[str] | None = None) -> None:
        """``keep``: local names to remember (None: every alert, for short scenarios)."""
        self.scenario = scenario
        self._keep = None if keep is None else frozenset(keep)
        self._records: dict[str, dict[str, Any]] = {}
        self._ids: dict[str, str] = {}
        self._built: tuple[AlertStep, dict[str, Any]] | None = None

    def _remember(self, name: str, record: dict[str, Any]) -> None:
        if self._keep is None or name in self._keep:
            self._records[name] = record
            self._ids[name] = record["alert_id"]

    def alert_record(self, step: AlertStep) -> dict[str, Any]:
        """The record of a new-alert step, built once however often it is asked for.

        A check that keeps the timeline asks first, to check the record, then :meth:`entry`.
        """
        if self._built is None or self._built[0] is not step:
            self._built = (step, build_alert(self.scenario, step, self._ids))
        return self._built[1]

    def entry(self, step: AnyStep) -> TimelineEntry:
        """The entry for one step (steps must come in file order)."""
        time = self.scenario.start + step.at
        return TimelineEntry(step=step, time=time, message=self._message(step, to_millis(time)))

    def _message(self, step: AnyStep, when: datetime) -> StepMessage | None:
        if isinstance(step, PauseStep):
            return None
        if isinstance(step, AlertStep):
            record = self.alert_record(step)
            self._built = None
            self._remember(step.name, record)
            return _alert_message(step.name, record)
        previous = self._records[step.name]
        if isinstance(step, UpdateStep):
            record = build_update(self.scenario, step, previous, self._ids)
            self._remember(step.name, record)
            return _alert_message(step.name, record)
        if isinstance(step, RevocationStep):
            record = revoke(previous, created_at=when)
            self._remember(step.name, record)
            return _alert_message(step.name, record)
        return self._exchange(step, previous, when)

    def _exchange(self, step: AnyStep, alert: dict[str, Any], when: datetime) -> StepMessage:
        """Receipts, consent and onward sharing about an earlier alert."""
        seed = self.scenario.seed
        originator = alert["originator"]["country"]
        about = {
            "alert_id": alert["alert_id"],
            "revision": alert["revision"],
            "case_id": alert["case_id"],
            "originator": originator,
        }
        common = {"name": step_name(step), "alert_id": alert["alert_id"], "alert": alert}
        if isinstance(step, ReceiptStep):
            receipt = {
                "receipt_id": derived_id(seed, "receipt", step.index),
                **about,
                "recipient": step.by,
                "status": step.status,
                "rule": None,
                "note": step.note,
                "sent_at": when,
            }
            return StepMessage(
                kind="receipt", sender=step.by, to=(originator,), record=receipt, **common
            )
        if isinstance(step, ConsentRequestStep):
            request = {
                "consent_id": derived_id(seed, "consent", step.name, step.by, step.index),
                **about,
                "requester": step.by,
                "onward_to": list(step.onward_to),
                "hop_path": list(alert.get("hop_path") or [originator]),
                "reason": step.reason,
                "requested_at": when,
            }
            return StepMessage(
                kind="consent_request",
                sender=step.by,
                to=(originator,),
                record=request,
                consent_id=request["consent_id"],
                **common,
            )
        assert isinstance(step, ShareOnwardStep)
        hops = list(alert.get("hop_path") or [originator])
        shared = {**alert, "hop_path": [*hops, step.by]}
        return StepMessage(kind="share_onward", sender=step.by, to=step.to, record=shared, **common)

    def entries(self, steps: Iterable[AnyStep]) -> Iterator[TimelineEntry]:
        """Entries for a stream of steps, lazily."""
        for step in steps:
            yield self.entry(step)


def _alert_message(name: str, record: dict[str, Any]) -> StepMessage:
    return StepMessage(
        kind="alert",
        sender=record["originator"]["country"],
        to=tuple(record["recipients"]),
        record=record,
        name=name,
        alert_id=record["alert_id"],
    )


def step_name(step: AnyStep) -> str:
    """The local name a step is about (a pause's is empty)."""
    return "" if isinstance(step, PauseStep) else step.name
