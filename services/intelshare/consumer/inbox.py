"""What a recipient does with an arriving alert: a pure decision over state, network and time.

An alert revision already handled is a duplicate (suppressed, never a second
``alert.received``); otherwise the policy is checked again on arrival (defence in depth)
and the alert is received, revoked or rejected. "Already handled" is known from the
country's state topic and, when the consumer logs to a file, from that file itself: the
log line is written before anything else happens to a message, so after a crash the file
says exactly which alerts were logged, even those whose state entry never reached Kafka.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from intelshare.contract import events
from intelshare.network.model import alerts_topic, receipts_topic
from intelshare.network.policy import DEFAULT_CLOCK_SKEW, check_receive

if TYPE_CHECKING:
    from datetime import datetime, timedelta
    from pathlib import Path

    from intelshare.contract.alerts import AlertHeader
    from intelshare.network.model import Network
    from intelshare.state.entries import AlertId, CountryState


class Verdict(StrEnum):
    """What happens to an arriving alert."""

    RECEIVED = "received"
    """Accepted and in use (an ALERT or an UPDATE)."""
    REVOKED = "revoked"
    """A revocation: the recipient stops using the alert."""
    REJECTED = "rejected"
    """The policy re-check on arrival refused it."""
    DUPLICATE = "duplicate"
    """This revision (or a newer one) was handled before."""


RECEIPT_STATUS = {
    Verdict.RECEIVED: "RECEIVED",
    Verdict.REVOKED: "RECEIVED",
    Verdict.REJECTED: "REJECTED_BY_POLICY",
}
"""The receipt status a recipient answers each verdict with."""


@dataclass(kw_only=True, slots=True)
class LogHistory:
    """What a consumer's own log file says it already did (empty without a file)."""

    handled: dict[AlertId, int] = field(default_factory=dict)
    """Newest revision logged as received, revoked or rejected, per alert (originator, id)."""
    receipted: set[tuple[str, str, int]] = field(default_factory=set)
    """Originator, alert id and revision logged as ``receipt.sent``."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Arrival:
    """The decision about one arriving alert."""

    verdict: Verdict
    """What happens to it."""
    sender: str
    """The country that wrote this copy (the originator, or the last onward hop)."""
    rule: str | None = None
    """The refusing rule, when rejected."""
    reason: str = ""
    """Why it was rejected, or which agreement allows it."""
    resend_receipt: bool = False
    """A duplicate whose receipt may never have been sent (the previous run crashed)."""
    remember: bool = True
    """Whether the state keeps this revision (not when it names no valid revision)."""


def sender_of(header: AlertHeader, receiver: str) -> str:
    """Who wrote this copy: the hop before ``receiver`` when shared onward, else the originator."""
    path = header.hop_path
    if len(path) > 1 and path[-1] == receiver:
        return path[-2]
    return header.originator


def decide(
    network: Network,
    state: CountryState,
    history: LogHistory,
    header: AlertHeader,
    *,
    receiver: str,
    now: datetime,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> Arrival:
    """Decide what ``receiver`` does with an arriving alert revision.

    An alert is known by (originator, alert id); a revision below 1 is never a duplicate of
    anything (it is refused as invalid, and not remembered).
    """
    sender = sender_of(header, receiver)
    identity = (header.originator, header.alert_id)
    valid = header.revision >= 1
    known = state.handled(*identity, header.revision) if valid else None
    logged = valid and history.handled.get(identity, 0) >= header.revision
    if known is not None or logged:
        receipted = (known is not None and known.receipt_sent) or (
            (*identity, header.revision) in history.receipted
        )
        return Arrival(verdict=Verdict.DUPLICATE, sender=sender, resend_receipt=not receipted)
    decision = check_receive(network, header, receiver, now, sender=sender, clock_skew=clock_skew)
    if not decision.allowed:
        return Arrival(
            verdict=Verdict.REJECTED,
            sender=sender,
            rule=str(decision.rule),
            reason=decision.reason,
            remember=valid,
        )
    verdict = Verdict.REVOKED if header.message_type == "REVOCATION" else Verdict.RECEIVED
    return Arrival(verdict=verdict, sender=sender, reason=decision.reason)


_HANDLED_EVENTS = frozenset({events.ALERT_RECEIVED, events.ALERT_REVOKED, events.ALERT_REJECTED})


def read_history(path: Path | None, country: str, prefix: str = "") -> LogHistory:
    """What ``country``'s consumer logged in ``path`` about its topics under ``prefix``.

    Lines that are not this consumer's events (other services, other topic prefixes, torn
    last lines) are skipped; a missing file is an empty history.
    """
    history = LogHistory()
    if path is None or not path.exists():
        return history
    inbox = alerts_topic(country, prefix)
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if '"alert.' not in line and '"receipt.sent"' not in line:
                continue  # cheap pre-filter: most lines are other events
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if not isinstance(event, dict) or event.get("country") != country:
                continue
            alert_id, revision = event.get("alert_id"), event.get("revision")
            if event.get("service") != "consumer" or not isinstance(alert_id, str):
                continue
            if not isinstance(revision, int):
                continue
            name, topic = event.get("event"), event.get("topic")
            # The same file may hold another exercise's events (another prefix): skip those.
            originator = str(event.get("originator"))
            if name in _HANDLED_EVENTS and topic == inbox:
                key = (originator, alert_id)
                history.handled[key] = max(history.handled.get(key, 0), revision)
            elif name == events.RECEIPT_SENT and topic == receipts_topic(originator, prefix):
                history.receipted.add((originator, alert_id, revision))
    return history
