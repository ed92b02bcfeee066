"""Checks across steps: names, time order, who may send what to whom, expectations' names.

:class:`Checker` sees the steps one at a time, in file order, and keeps per alert only the
small typed header that policy reasons about, so a long scenario checks in bounded memory.
Refusals are found by the same policy functions the producers run, at the step's time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import yaml

from intelshare.contract import codec
from intelshare.contract.alerts import AlertHeader
from intelshare.contract.schemas import default_registry
from intelshare.durations import LONGEST, format_duration
from intelshare.errors import EncodeError
from intelshare.network.policy import Decision, check_send, check_send_all
from intelshare.scenario.model import (
    AlertStep,
    AnyStep,
    ConsentRequestStep,
    Outline,
    PauseStep,
    ReceiptStep,
    RevocationStep,
    ShareOnwardStep,
    UpdateStep,
    end_of,
)
from intelshare.scenario.timeline import (
    TimelineBuilder,
    build_alert,
    scenario_alert_id,
)
from intelshare.yamlpos import Position, Reader, Where, suggest

if TYPE_CHECKING:
    from datetime import datetime

    from intelshare.scenario.model import AlertFields, Scenario

_SUGGEST_LIMIT = 2000  # fuzzy matching against more names costs more than it helps


@dataclass(kw_only=True, slots=True)
class _Known:
    header: AlertHeader
    where: Where
    allowed: tuple[str, ...]
    revoked: Where | None = None


def value_node(node: yaml.Node, key: str) -> yaml.Node:
    """The value node under ``key`` in a step mapping (the step itself when absent)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            if getattr(key_node, "value", None) == key:
                return value  # type: ignore[no-any-return]
    return node


class Checker:
    """Checks a scenario's steps in order and learns what a replay needs to stream them."""

    def __init__(
        self,
        reader: Reader,
        scenario: Scenario,
        keep: frozenset[str] | None = None,
        builder: TimelineBuilder | None = None,
    ) -> None:
        """Problems go to ``reader``; ``scenario`` gives network, seed and start.

        ``keep``: the alerts later steps or expectations refer to (None: all of them). Only
        their headers are kept; of every other alert, only the line that names it.
        ``builder``: the timeline built beside the check, whose alert records it checks
        (each is then built once).
        """
        self._keep = keep
        self._builder = builder
        self._lines: dict[str, int] = {}
        self.reader = reader
        self.scenario = scenario
        self.cursor = timedelta(0)
        self._cursor_where: Where | None = None
        self._alerts: dict[str, _Known] = {}
        self._referenced: set[str] = set()
        self._countries: set[str] = set()
        self._senders: set[str] = set()
        self._steps = 0
        self._messages = 0
        self._first_message: timedelta | None = None
        self._last_message: timedelta | None = None

    def step(self, step: AnyStep | None, node: Position) -> None:
        """Check one step (None when it could not be read: only counted).

        ``node``: the step's node, or for a step read ahead where it starts (each problem is
        then placed there; the caller checks such a file again when one is found).
        """
        self._steps += 1
        if step is None:
            return
        self._time(step, node)
        if isinstance(step, PauseStep):
            return
        self._messages += 1
        if self._first_message is None:
            self._first_message = step.at
        self._last_message = step.at
        if isinstance(step, AlertStep):
            self._senders.add(step.originator)
            self._alert(step, node)
            return
        known = self._known(step.name, value_node(node, _KEY[type(step)]))
        if known is None:
            return
        if isinstance(step, UpdateStep):
            self._update(step, node, known)
        elif isinstance(step, RevocationStep):
            if known.revoked is not None:
                line = known.revoked.line
                self.reader.error(node, f"{step.name} is already revoked (line {line})")
            known.revoked = step.where
        elif isinstance(step, ReceiptStep):
            self._senders.add(step.by)
            self._answer(step.by, value_node(node, "by"), step.name, known)
        else:
            self._consent(step, node, known)

    def _consent(
        self,
        step: ConsentRequestStep | ShareOnwardStep,
        node: yaml.Node,
        known: _Known,
    ) -> None:
        self._senders.add(step.by)
        self._answer(step.by, value_node(node, "by"), step.name, known)
        onward = step.onward_to if isinstance(step, ConsentRequestStep) else step.to
        self._countries.update(onward)
        where = value_node(node, "onward_to" if isinstance(step, ConsentRequestStep) else "to")
        for country in onward:
            if country in (known.header.originator, step.by):
                self.reader.error(where, f"{country} already has {step.name}")
        # The originator's service grants what the requester could then share with consent.
        consent = isinstance(step, ConsentRequestStep)
        when = self.scenario.start + step.at
        decisions = [
            check_send(
                self.scenario.network, known.header, c, when, sender=step.by, consent=consent
            )
            for c in onward
            if c not in (known.header.originator, step.by)
        ]
        self._report(decisions, where, node, expect_refused=step.expect_refused)

    def _time(self, step: AnyStep, node: yaml.Node) -> None:
        if step.at >= self.cursor:
            if end_of(step) > LONGEST:
                # Pauses add up; past this the scenario's times would overflow the calendar.
                self.reader.error(
                    node,
                    f"the scenario clock runs past {format_duration(LONGEST)} (100 years) "
                    f"here: {format_duration(end_of(step))}",
                )
                return
            self.cursor = end_of(step)
            self._cursor_where = step.where
            return
        line = f" (line {self._cursor_where.line})" if self._cursor_where else ""
        self.reader.error(
            value_node(node, "at"),
            f"time goes backwards: at {format_duration(step.at)} is before "
            f"{format_duration(self.cursor)}, when the previous step{line} ends",
        )

    def _known(self, name: str, node: yaml.Node) -> _Known | None:
        self._referenced.add(name)
        known = self._alerts.get(name)
        if known is None and name not in self._lines:
            hint = suggest(name, self._lines) if len(self._lines) < _SUGGEST_LIMIT else ""
            hint = hint if hint.startswith("; did") else ""
            self.reader.error(
                node, f"unknown alert {name!r}: no alert step before this one names it{hint}"
            )
        return known

    def _answer(self, by: str, node: yaml.Node, name: str, known: _Known) -> None:
        if by not in known.header.recipients:
            self.reader.error(node, f"{by} is not a recipient of {name}")
        elif by not in known.allowed:
            self.reader.warn(node, f"{by} never gets {name} (policy refuses it), yet answers it")

    def _alert(self, step: AlertStep, node: yaml.Node) -> None:
        if step.name in self._lines:
            first = self._lines[step.name]
            self.reader.error(
                value_node(node, "alert"),
                f"alert name {step.name!r} is already used at line {first}",
            )
            return
        self._lines[step.name] = step.where.line
        ids = {}
        for name in step.fields.related or ():
            related = self._known(name, value_node(node, "related"))
            if related is not None:
                ids[name] = scenario_alert_id(self.scenario.seed, related.header.originator, name)
        if not (step.fields.recipients or self.scenario.defaults.recipients):
            self.reader.error(value_node(node, "to"), "an alert needs at least one recipient")
            return
        agency = step.fields.agency
        country = self.scenario.network.country(step.originator)
        if (
            agency is not None
            and country is not None
            and agency not in {a.id for a in country.agencies}
        ):
            known = ", ".join(a.id for a in country.agencies) or "none"
            self.reader.error(
                value_node(node, "agency"),
                f"{agency!r} is not an agency of {step.originator} ({known})",
            )
        if self._builder is not None:
            record = self._builder.alert_record(step)
        else:
            record = build_alert(self.scenario, step, ids)
        try:
            codec.encode(default_registry(), "Alert", record)
        except EncodeError as error:
            self.reader.error(node, f"the alert does not fit the schema: {error}")
            return
        header = AlertHeader.from_record(record)
        allowed = self._policy(header, node, step.expect_refused, self.scenario.start + step.at)
        if self._keep is None or step.name in self._keep:
            self._alerts[step.name] = _Known(header=header, where=step.where, allowed=allowed)

    def _update(self, step: UpdateStep, node: yaml.Node, known: _Known) -> None:
        if known.revoked is not None:
            self.reader.error(
                node, f"{step.name} was revoked at line {known.revoked.line}; it cannot change"
            )
            return
        when = self.scenario.start + step.at
        header = dataclasses.replace(
            known.header,
            revision=known.header.revision + 1,
            message_type="UPDATE",
            created_at=when,
            **_header_changes(step.fields, when),
        )
        known.header = header
        before = known.allowed
        known.allowed = self._policy(header, node, step.expect_refused, when, already=before)

    def _policy(
        self,
        header: AlertHeader,
        node: yaml.Node,
        expect_refused: bool,
        when: datetime,
        already: tuple[str, ...] | None = None,
    ) -> tuple[str, ...]:
        """Recipients policy allows; refusals are errors unless the step expects them.

        ``already``: for an update, who got the previous revision; recipients refused then
        as well are not reported again.
        """
        self._countries.update((header.originator, *header.recipients))
        decisions = list(check_send_all(self.scenario.network, header, when))
        # For an update, a recipient refused the previous revision too is no news.
        news = [d for d in decisions if already is None or d.allowed or d.recipient in already]
        self._report(
            news,
            value_node(node, "to"),
            node,
            expect_refused=expect_refused,
            any_refused=any(not d.allowed for d in decisions),
        )
        return tuple(d.recipient for d in decisions if d.allowed)

    def _report(
        self,
        decisions: list[Decision],
        where: yaml.Node,
        node: yaml.Node,
        *,
        expect_refused: bool,
        any_refused: bool | None = None,
    ) -> None:
        """Refusals are errors, or warnings where the step expects them."""
        refused = [d for d in decisions if not d.allowed]
        any_refused = bool(refused) if any_refused is None else any_refused
        for decision in refused:
            route = f"{decision.sender} -> {decision.recipient or '?'}"
            message = f"{route} is refused ({decision.rule}): {decision.reason}"
            if expect_refused:
                self.reader.warn(where, f"{message} (expected)")
            else:
                self.reader.error(
                    where, f"{message}; add 'expect: refused' if the scenario means it"
                )
        if expect_refused and not any_refused:
            self.reader.warn(
                value_node(node, "expect"), "expects a refusal, but policy allows every recipient"
            )

    def finish(self) -> tuple[Outline, dict[str, str]]:
        """Check the expectations' names; the outline and the ids the expectations use."""
        ids: dict[str, str] = {}
        for expectation in self.scenario.expectations:
            name = expectation.alert
            if name is None:
                continue
            known = self._alerts.get(name)
            if known is None and name not in self._lines:
                hint = suggest(name, self._lines) if len(self._lines) < _SUGGEST_LIMIT else ""
                hint = hint if hint.startswith("; did") else ""
                self.reader.error(
                    expectation.where, f"{expectation.kind}: unknown alert {name!r}{hint}"
                )
            if known is not None:
                ids[name] = known.header.alert_id
        outline = Outline(
            steps=self._steps,
            alerts=len(self._lines),
            messages=self._messages,
            duration=self.cursor,
            referenced=frozenset(self._referenced),
            countries=frozenset(self._countries),
            senders=frozenset(self._senders),
            first_message=self._first_message,
            last_message=self._last_message,
        )
        return outline, ids


_KEY = {
    UpdateStep: "update",
    RevocationStep: "revoke",
    ReceiptStep: "receipt",
    ConsentRequestStep: "consent_request",
    ShareOnwardStep: "share_onward",
}


def _header_changes(fields: AlertFields, when: datetime) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key in ("category", "priority", "tlp", "uk_handling", "uk_conditions", "grading"):
        if getattr(fields, key) is not None:
            changes[key] = getattr(fields, key)
    if fields.recipients is not None:
        changes["recipients"] = fields.recipients
    if fields.eu_handling is not None:
        changes["eu_handling"] = fields.eu_handling
    if fields.valid_until is not None:
        changes["valid_until"] = fields.valid_until.resolve(when)
    return changes
