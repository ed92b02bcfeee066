"""Whether a run of the network kept the rules, judged from its log events alone.

The checks are the demo's done-criterion: every ``alert.received`` was addressed to that
country (an ``alert.sent`` names it) under an agreement covering the alert; every sent copy
got a receipt back at the originator; nothing was dead-lettered; and no country logged the
same alert revision as received twice. Pure functions over event dicts, so a test, the demo
and ``scripts/check-demo`` on a log folder all judge the same way.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from intelshare.contract import events
from intelshare.contract.markings import tlp_within
from intelshare.logs.reader import read_events

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path

    from intelshare.network.model import Network
    from intelshare.state.entries import Copy


@dataclass(frozen=True, kw_only=True, slots=True)
class DemoReport:
    """What the check found."""

    sent: int
    """Copies logged ``alert.sent`` (or ``alert.shared_onward``)."""
    received: int
    """Copies logged ``alert.received`` (alerts and updates in use)."""
    revoked: int
    """Revocations applied (``alert.revoked``)."""
    receipts: int
    """Receipts the originators logged (``receipt.received``)."""
    refused: int
    """Copies refused before sending (``alert.refused``)."""
    problems: tuple[str, ...] = field(default_factory=tuple)
    """Each broken rule, one line each; empty when the run kept every rule."""

    @property
    def ok(self) -> bool:
        """Whether every rule held."""
        return not self.problems


def check_events(network: Network, logged: Iterable[dict[str, Any]]) -> DemoReport:
    """Judge a run from its events (any order, any mix of countries and services)."""
    sent: dict[Copy, dict[str, Any]] = {}
    received: Counter[Copy] = Counter()
    receipts: set[Copy] = set()
    problems: list[str] = []
    counts: Counter[str] = Counter()
    arrivals: list[dict[str, Any]] = []
    for event in logged:
        name = event.get("event")
        counts[str(name)] += 1
        if name in (events.ALERT_SENT, events.ALERT_SHARED_ONWARD):
            sent[copy_of(event, "recipient")] = event
        elif name in (events.ALERT_RECEIVED, events.ALERT_REVOKED):
            received[copy_of(event, "country")] += 1
            arrivals.append(event)
        elif name == events.RECEIPT_RECEIVED:
            receipts.add(copy_of(event, "receipt_from"))
        elif name == events.MESSAGE_DEADLETTERED:
            problems.append(
                f"{event.get('country')}: dead letter from {event.get('topic')}"
                f"[{event.get('partition')}]@{event.get('offset')}: {event.get('error')}"
            )
    for event in arrivals:
        copy = copy_of(event, "country")
        if copy not in sent:
            problems.append(f"{copy[2]} logged {copy[0]} r{copy[1]} but no alert.sent names it")
        elif not _covered(network, event):
            problems.append(f"{copy[2]} got {copy[0]} r{copy[1]} without a covering agreement")
    problems += [
        f"{c[2]} logged {c[0]} r{c[1]} as received {n} times" for c, n in received.items() if n > 1
    ]
    problems += [
        f"{c[0]} r{c[1]} sent to {c[2]}: no receipt came back" for c in sent if c not in receipts
    ]
    return DemoReport(
        sent=len(sent),
        received=counts[events.ALERT_RECEIVED],
        revoked=counts[events.ALERT_REVOKED],
        receipts=len(receipts),
        refused=counts[events.ALERT_REFUSED],
        problems=tuple(problems),
    )


def copy_of(event: dict[str, Any], who: str) -> Copy:
    """The copy an event is about: alert id, revision, and the country named by ``who``."""
    return (str(event.get("alert_id")), int(event.get("revision") or 0), str(event.get(who)))


def _covered(network: Network, event: dict[str, Any]) -> bool:
    # The copy came from its sender: the originator, or the last hop when shared onward.
    sender = str(event.get("sender") or event.get("originator"))
    recipient = str(event.get("country"))
    return any(
        event.get("category") in agreement.categories
        and tlp_within(str(event.get("tlp")), agreement.max_tlp)
        for agreement in network.agreements_between(sender, recipient)
    )


def folder_events(folder: Path) -> Iterator[dict[str, Any]]:
    """Every audit event in a log folder, as read by ``intelshare logs`` (other lines skipped).

    The one log reader (:mod:`intelshare.logs.reader`) does the reading, so the check sees
    what the log tools see: rotated and compressed files, compose prefixes, and a byte-order
    mark alike.
    """
    for event in read_events([str(folder)]):
        if event.event in events.ALL_EVENTS:
            yield dict(event.raw)
