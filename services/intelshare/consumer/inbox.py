"""What a recipient does with an arriving alert: a pure decision over state, network and time.

An alert revision already handled is a duplicate (suppressed, never a second
``alert.received``); otherwise the policy is checked again on arrival (defence in depth)
and the alert is received, revoked or rejected. "Already handled" is known only from the
country's state topic: the consumer writes a batch's state entries, receipts and consumed
offsets in one Kafka transaction and logs only after it commits (see
:mod:`intelshare.consumer.loop`), so the state never lags behind what was logged.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from intelshare.network.policy import DEFAULT_CLOCK_SKEW, check_receive
from intelshare.valuetype import value_type

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from intelshare.contract.alerts import AlertHeader
    from intelshare.network.model import Network
    from intelshare.state.entries import CountryState


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


@value_type
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
    """A duplicate whose state says no receipt was acknowledged (an answer is owed)."""
    keep_in_state: bool = True
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
    header: AlertHeader,
    *,
    receiver: str,
    now: datetime,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> Arrival:
    """Decide what ``receiver`` does with an arriving alert revision.

    An alert is known by (originator, alert id); a revision below 1 is never a duplicate of
    anything (it is refused as invalid, and not kept in the state).
    """
    sender = sender_of(header, receiver)
    identity = (header.originator, header.alert_id)
    valid = header.revision >= 1
    known = state.handled(*identity, header.revision) if valid else None
    if known is not None:
        return Arrival(
            verdict=Verdict.DUPLICATE, sender=sender, resend_receipt=not known.receipt_sent
        )
    decision = check_receive(network, header, receiver, now, sender=sender, clock_skew=clock_skew)
    if not decision.allowed:
        return Arrival(
            verdict=Verdict.REJECTED,
            sender=sender,
            rule=str(decision.rule),
            reason=decision.reason,
            keep_in_state=valid,
        )
    verdict = Verdict.REVOKED if header.message_type == "REVOCATION" else Verdict.RECEIVED
    return Arrival(verdict=verdict, sender=sender, reason=decision.reason)
