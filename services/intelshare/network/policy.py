"""The sharing rules as pure functions: may this alert go from A to B, may B accept it?

Every refusal names a stable rule id (:class:`Rule`), so logs, receipts and tests can count
refusals by rule. The network and the clock are arguments; nothing here touches Kafka.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from intelshare.contract.markings import tlp_label, tlp_rank, tlp_within
from intelshare.contract.schemas import known_categories
from intelshare.errors import PolicyViolation
from intelshare.valuetype import value_type

if TYPE_CHECKING:
    from datetime import datetime

    from intelshare.contract.alerts import AlertHeader
    from intelshare.network.model import Agreement, Network


class Rule(StrEnum):
    """Stable ids of the rules that can refuse an alert."""

    UNKNOWN_CATEGORY = "unknown-category"
    """The category is not one the contract knows (or the reader read the UNKNOWN default)."""
    NO_RECIPIENT = "no-recipient"
    """The alert addresses nobody."""
    INVALID_GRADING = "invalid-grading"
    """The grading is outside its scheme's scale."""
    UNKNOWN_COUNTRY = "unknown-country"
    """A country involved is not in the network."""
    SELF_ADDRESSED = "self-addressed"
    """A country would send the alert to itself."""
    NOT_ADDRESSED = "not-addressed"
    """The country is not among the alert's recipients (nor its onward hop)."""
    NOT_ORIGINATOR = "not-originator"
    """Only the originator may update or revoke an alert."""
    EXPIRED = "expired"
    """The alert is past its valid-until time (revocations still go through)."""
    NO_AGREEMENT = "no-agreement"
    """No agreement binds both countries."""
    CATEGORY_NOT_COVERED = "category-not-covered"
    """No agreement between the two covers the alert's category."""
    HANDLING_ABOVE_CAP = "handling-above-cap"
    """The alert's TLP is more restrictive than every covering agreement allows."""
    ONWARD_NEEDS_CONSENT = "onward-needs-consent"
    """Onward sharing of restricted handling (H2, RED, AMBER+STRICT, UK C) needs consent."""
    INVALID_REVISION = "invalid-revision"
    """Revisions count from 1; zero or below names no revision of any alert."""
    CREATED_IN_FUTURE = "created-in-future"
    """The alert says it was created further in the future than the clock skew allows."""


DEFAULT_CLOCK_SKEW: Final = timedelta(minutes=5)
"""How far ahead of the receiver's clock an alert's ``created_at`` may be."""


_CHANGES: Final = frozenset({"UPDATE", "REVOCATION"})


@value_type
class Decision:
    """The outcome of one policy check for one sender-recipient pair."""

    allowed: bool
    """Whether the alert may go (or be accepted)."""
    sender: str
    """The country sending this copy."""
    recipient: str
    """The country receiving this copy."""
    rule: Rule | None = None
    """The rule that refused it; None when allowed."""
    reason: str = ""
    """One line for people: why it was refused, or under which agreement it may go."""
    agreement: str | None = None
    """The agreement that allows it, when allowed."""

    def require(self) -> None:
        """Raise :class:`PolicyViolation` when refused; do nothing when allowed."""
        if self.rule is not None:
            raise PolicyViolation(self.rule, self.reason)


def _validation(alert: AlertHeader) -> tuple[Rule, str] | None:
    # Rule 5, validate before publishing. The schema already enforces one TLP and a grading.
    if alert.revision < 1:
        return Rule.INVALID_REVISION, f"revision {alert.revision} of {alert.alert_id} is below 1"
    if alert.category not in known_categories():
        return Rule.UNKNOWN_CATEGORY, f"category {alert.category} is not a known category"
    if not alert.recipients:
        return Rule.NO_RECIPIENT, f"alert {alert.alert_id} addresses no recipient"
    if not alert.grading.valid:
        grading = alert.grading
        return Rule.INVALID_GRADING, f"{grading.scheme} grading {grading.code} is out of scale"
    return None


def _agreement_rules(
    network: Network, alert: AlertHeader, sender: str, recipient: str
) -> tuple[Rule, str] | Agreement:
    between = network.agreements_between(sender, recipient)
    if not between:
        return Rule.NO_AGREEMENT, f"no agreement between {sender} and {recipient}"
    covering = [a for a in between if alert.category in a.categories]
    if not covering:
        if len(between) == 1:
            reason = f"the {between[0].id} agreement does not cover {alert.category}"
        else:
            ids = ", ".join(a.id for a in between)
            reason = f"none of the {ids} agreements covers {alert.category}"
        return Rule.CATEGORY_NOT_COVERED, reason
    for agreement in covering:
        if tlp_within(alert.tlp, agreement.max_tlp):
            return agreement
    best = max(covering, key=lambda a: tlp_rank(a.max_tlp))
    return (
        Rule.HANDLING_ABOVE_CAP,
        f"{tlp_label(alert.tlp)} is above the {best.id} agreement's cap {tlp_label(best.max_tlp)}",
    )


def _finish(
    network: Network, alert: AlertHeader, sender: str, recipient: str, now: datetime
) -> Decision:
    """The checks send and receive share: expiry, then the agreements."""
    if now >= alert.valid_until and alert.message_type != "REVOCATION":
        # A revocation of an expired alert still goes: it can only make recipients stop.
        return _refuse(
            sender,
            recipient,
            Rule.EXPIRED,
            f"alert {alert.alert_id} expired at {alert.valid_until.isoformat()}",
        )
    outcome = _agreement_rules(network, alert, sender, recipient)
    if isinstance(outcome, tuple):
        return _refuse(sender, recipient, *outcome)
    return Decision(
        allowed=True,
        sender=sender,
        recipient=recipient,
        agreement=outcome.id,
        reason=f"allowed under {outcome.id}",
    )


def _refuse(sender: str, recipient: str, rule: Rule, reason: str) -> Decision:
    return Decision(allowed=False, sender=sender, recipient=recipient, rule=rule, reason=reason)


def _countries(
    network: Network, alert: AlertHeader, sender: str, recipient: str
) -> tuple[Rule, str] | None:
    for code in (alert.originator, sender, recipient):
        if network.country(code) is None:
            return Rule.UNKNOWN_COUNTRY, f"{code or 'no country'} is not in the network"
    if recipient == sender:
        return Rule.SELF_ADDRESSED, f"{sender} cannot send to itself"
    return None


def _onward(
    alert: AlertHeader, sender: str, recipient: str, *, consent: bool
) -> tuple[Rule, str] | None:
    if alert.message_type in _CHANGES:
        return (
            Rule.NOT_ORIGINATOR,
            f"only {alert.originator} may send a {alert.message_type} of {alert.alert_id}",
        )
    if sender not in alert.recipients and sender not in alert.hop_path:
        return (
            Rule.NOT_ADDRESSED,
            f"{sender} was not addressed by {alert.alert_id}, so cannot share it onward",
        )
    if alert.handling.needs_consent_for_onward and not consent:
        return (
            Rule.ONWARD_NEEDS_CONSENT,
            f"sharing {alert.alert_id} onward to {recipient} needs {alert.originator}'s consent",
        )
    return None


def check_send(
    network: Network,
    alert: AlertHeader,
    recipient: str,
    now: datetime,
    *,
    sender: str | None = None,
    consent: bool = False,
) -> Decision:
    """May ``sender`` (default: the originator) send this alert to ``recipient`` now?

    A sender other than the originator is sharing onward: it must itself have been
    addressed, may not change the alert, and needs ``consent`` when the handling says so.
    """
    sender = sender or alert.originator
    refusal = _validation(alert) or _countries(network, alert, sender, recipient)
    if refusal is None and sender != alert.originator:
        refusal = _onward(alert, sender, recipient, consent=consent)
    elif refusal is None and recipient not in alert.recipients:
        refusal = Rule.NOT_ADDRESSED, f"{alert.alert_id} does not address {recipient}"
    if refusal is not None:
        return _refuse(sender, recipient, *refusal)
    return _finish(network, alert, sender, recipient, now)


def check_send_all(network: Network, alert: AlertHeader, now: datetime) -> tuple[Decision, ...]:
    """The originator's decision for each addressed recipient, in address order."""
    if not alert.recipients:
        return (check_send(network, alert, "", now),)
    return tuple(check_send(network, alert, r, now) for r in dict.fromkeys(alert.recipients))


def check_receive(
    network: Network,
    alert: AlertHeader,
    receiver: str,
    now: datetime,
    *,
    sender: str | None = None,
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
) -> Decision:
    """May ``receiver`` accept this alert, written by ``sender`` (default: the originator)?

    The consumer's re-check on arrival: the same agreement rules as sending, plus that the
    receiver is addressed (or is the last onward hop), that only the originator changes it,
    and that it was not created more than ``clock_skew`` ahead of ``now``.
    """
    sender = sender or alert.originator
    refusal = _validation(alert)
    if refusal is not None and refusal[0] is Rule.NO_RECIPIENT:
        refusal = None  # reported below as not-addressed, which says more to the receiver
    if refusal is None and alert.created_at > now + clock_skew:
        refusal = (
            Rule.CREATED_IN_FUTURE,
            (
                f"{alert.alert_id} was created at {alert.created_at.isoformat()}, more than "
                f"{clock_skew.total_seconds():g} s after this receiver's clock"
            ),
        )
    refusal = refusal or _countries(network, alert, sender, receiver)
    if refusal is None and alert.message_type in _CHANGES and sender != alert.originator:
        change = f"a {alert.message_type} of {alert.alert_id}"
        refusal = Rule.NOT_ORIGINATOR, f"only {alert.originator} may send {change}, not {sender}"
    onward_hop = len(alert.hop_path) > 1 and alert.hop_path[-1] == receiver
    if refusal is None and receiver not in alert.recipients and not onward_hop:
        refusal = Rule.NOT_ADDRESSED, f"{alert.alert_id} does not address {receiver}"
    if refusal is not None:
        return _refuse(sender, receiver, *refusal)
    return _finish(network, alert, sender, receiver, now)
