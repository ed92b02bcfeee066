from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from intelshare.contract.alerts import AlertHeader, new_alert
from intelshare.errors import PolicyViolation
from intelshare.network.model import default_network, parse_network
from intelshare.network.policy import Decision, Rule, check_receive, check_send, check_send_all

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
NETWORK = default_network()


def alert(**changes: Any) -> AlertHeader:
    """A GB alert to RS that every rule allows, with some fields changed."""
    fields: dict[str, Any] = {
        "originator": "GB",
        "recipients": ["RS"],
        "category": "MODUS_OPERANDI",
        "case_id": "CASE-7",
        "summary": "Lorries with hidden compartments at the RS-MK border.",
        "seed": 1,
        "tlp": "TLP_AMBER",
        "eu_handling": ["H0"],
        "created_at": NOW - timedelta(hours=1),
    }
    fields.update(changes)
    return AlertHeader.from_record(new_alert(**fields))


SEND_CASES = [
    pytest.param(alert(), "RS", {}, None, id="gb-to-rs-allowed"),
    pytest.param(alert(revision=0), "RS", {}, Rule.INVALID_REVISION, id="revision-zero"),
    pytest.param(
        alert(originator="XK", recipients=["RS"]),
        "RS",
        {},
        Rule.NO_AGREEMENT,
        id="xk-cannot-send-to-rs",
    ),
    pytest.param(
        alert(originator="RS", recipients=["XK"]),
        "XK",
        {},
        Rule.NO_AGREEMENT,
        id="rs-cannot-send-to-xk",
    ),
    pytest.param(
        alert(tlp="TLP_RED"), "RS", {}, Rule.HANDLING_ABOVE_CAP, id="tlp-red-above-amber-cap"
    ),
    pytest.param(
        alert(tlp="TLP_AMBER_STRICT"),
        "RS",
        {},
        Rule.HANDLING_ABOVE_CAP,
        id="amber-strict-above-amber-cap",
    ),
    pytest.param(alert(tlp="TLP_AMBER"), "RS", {}, None, id="amber-within-amber-cap"),
    pytest.param(
        alert(recipients=["AL"], tlp="TLP_RED"), "AL", {}, None, id="tlp-red-within-red-cap"
    ),
    pytest.param(
        alert(valid_until=NOW - timedelta(seconds=1)), "RS", {}, Rule.EXPIRED, id="expired"
    ),
    pytest.param(alert(valid_until=NOW), "RS", {}, Rule.EXPIRED, id="expires-now"),
    pytest.param(alert(category="UNKNOWN"), "RS", {}, Rule.UNKNOWN_CATEGORY, id="unknown-category"),
    pytest.param(
        alert(category="SMUGGLING"), "RS", {}, Rule.UNKNOWN_CATEGORY, id="made-up-category"
    ),
    pytest.param(
        alert(category="DISCREET_CHECK", recipients=["XK"]),
        "XK",
        {},
        Rule.CATEGORY_NOT_COVERED,
        id="category-not-covered",
    ),
    pytest.param(alert(recipients=[]), "RS", {}, Rule.NO_RECIPIENT, id="no-recipient"),
    pytest.param(
        alert(grading={"reliability": "B", "credibility": 9}),
        "RS",
        {},
        Rule.INVALID_GRADING,
        id="grading-out-of-scale",
    ),
    pytest.param(alert(recipients=["GB"]), "GB", {}, Rule.SELF_ADDRESSED, id="self-addressed"),
    pytest.param(alert(), "MK", {}, Rule.NOT_ADDRESSED, id="recipient-not-addressed"),
    pytest.param(
        alert(recipients=["US"]), "US", {}, Rule.UNKNOWN_COUNTRY, id="country-not-in-network"
    ),
    pytest.param(
        alert(message_type="UPDATE"),
        "HU",
        {"sender": "RS"},
        Rule.NOT_ORIGINATOR,
        id="only-originator-updates",
    ),
    pytest.param(
        alert(message_type="REVOCATION"),
        "HU",
        {"sender": "RS"},
        Rule.NOT_ORIGINATOR,
        id="only-originator-revokes",
    ),
    pytest.param(
        alert(eu_handling=["H0", "H2"]),
        "HU",
        {"sender": "RS"},
        Rule.ONWARD_NEEDS_CONSENT,
        id="onward-h2-needs-consent",
    ),
    pytest.param(
        alert(uk_handling="C", uk_conditions="no judicial use"),
        "HU",
        {"sender": "RS"},
        Rule.ONWARD_NEEDS_CONSENT,
        id="onward-uk-c-needs-consent",
    ),
    pytest.param(
        alert(eu_handling=["H0", "H2"], tlp="TLP_GREEN"),
        "HU",
        {"sender": "RS", "consent": True},
        None,
        id="onward-with-consent-allowed",
    ),
    pytest.param(
        alert(eu_handling=["H0"], tlp="TLP_GREEN"),
        "HU",
        {"sender": "RS"},
        None,
        id="onward-unrestricted-allowed",
    ),
    pytest.param(
        alert(tlp="TLP_AMBER"),
        "HU",
        {"sender": "RS", "consent": True},
        Rule.HANDLING_ABOVE_CAP,
        id="onward-still-capped-by-route-group",
    ),
    pytest.param(
        alert(tlp="TLP_GREEN"),
        "HU",
        {"sender": "MK"},
        Rule.NOT_ADDRESSED,
        id="onward-by-country-never-addressed",
    ),
    pytest.param(
        alert(message_type="REVOCATION", valid_until=NOW - timedelta(days=1)),
        "RS",
        {},
        None,
        id="revocation-of-expired-alert-still-goes",
    ),
]


@pytest.mark.parametrize(("header", "recipient", "kwargs", "rule"), SEND_CASES)
def test_send_rules(
    header: AlertHeader, recipient: str, kwargs: dict[str, Any], rule: Rule | None
) -> None:
    """Each sending rule refuses exactly the case it names, and allows the cases it should."""
    decision = check_send(NETWORK, header, recipient, NOW, **kwargs)
    assert decision.rule == rule, decision.reason
    assert decision.allowed is (rule is None)
    assert decision.recipient == recipient
    assert decision.reason


RECEIVE_CASES = [
    pytest.param(alert(), "RS", None, None, id="addressed-receiver-accepts"),
    pytest.param(alert(revision=0), "RS", None, Rule.INVALID_REVISION, id="revision-zero"),
    pytest.param(
        alert(created_at=NOW + timedelta(minutes=6), valid_until=NOW + timedelta(days=1)),
        "RS",
        None,
        Rule.CREATED_IN_FUTURE,
        id="from-the-future",
    ),
    pytest.param(alert(), "MK", None, Rule.NOT_ADDRESSED, id="not-addressed"),
    pytest.param(
        alert(originator="XK", recipients=["RS"]),
        "RS",
        None,
        Rule.NO_AGREEMENT,
        id="rs-refuses-from-xk",
    ),
    pytest.param(
        alert(message_type="REVOCATION"), "RS", "MK", Rule.NOT_ORIGINATOR, id="forged-revocation"
    ),
    pytest.param(
        alert(valid_until=NOW - timedelta(minutes=1)), "RS", None, Rule.EXPIRED, id="expired"
    ),
    pytest.param(
        alert(category="UNKNOWN"),
        "RS",
        None,
        Rule.UNKNOWN_CATEGORY,
        id="newer-category-read-as-unknown",
    ),
    pytest.param(alert(tlp="TLP_RED"), "RS", None, Rule.HANDLING_ABOVE_CAP, id="above-cap"),
    pytest.param(
        alert(tlp="TLP_GREEN", hop_path=["GB", "RS", "HU"]),
        "HU",
        "RS",
        None,
        id="onward-hop-accepts",
    ),
    pytest.param(alert(recipients=[]), "RS", None, Rule.NOT_ADDRESSED, id="no-recipients"),
    pytest.param(
        alert(category="DISCREET_CHECK", recipients=["XK"]),
        "XK",
        None,
        Rule.CATEGORY_NOT_COVERED,
        id="category-not-covered",
    ),
    pytest.param(
        alert(grading={"source": 4, "intelligence": "A"}),
        "RS",
        None,
        Rule.INVALID_GRADING,
        id="grading-out-of-scale",
    ),
    pytest.param(alert(), "RS", "RS", Rule.SELF_ADDRESSED, id="written-by-itself"),
    pytest.param(alert(recipients=["ZZ"]), "ZZ", None, Rule.UNKNOWN_COUNTRY, id="unknown-receiver"),
]


@pytest.mark.parametrize(("header", "receiver", "sender", "rule"), RECEIVE_CASES)
def test_receive_rules(
    header: AlertHeader, receiver: str, sender: str | None, rule: Rule | None
) -> None:
    """The consumer's re-check on arrival refuses by the same named rules."""
    decision = check_receive(NETWORK, header, receiver, NOW, sender=sender)
    assert decision.rule == rule, decision.reason
    assert decision.allowed is (rule is None)


def test_allowed_decision_names_its_agreement() -> None:
    """An allowed decision says which agreement allows it."""
    decision = check_send(NETWORK, alert(), "RS", NOW)
    assert decision == Decision(
        allowed=True, sender="GB", recipient="RS", agreement="GB-RS", reason="allowed under GB-RS"
    )


def test_refusal_reasons_read_well() -> None:
    """Refusals explain themselves in one line naming countries, codes and agreements."""
    xk = check_send(NETWORK, alert(originator="XK", recipients=["RS"]), "RS", NOW)
    assert xk.reason == "no agreement between XK and RS"
    red = check_send(NETWORK, alert(tlp="TLP_RED"), "RS", NOW)
    assert red.reason == "TLP:RED is above the GB-RS agreement's cap TLP:AMBER"
    uncovered = check_send(NETWORK, alert(category="DISCREET_CHECK", recipients=["XK"]), "XK", NOW)
    assert uncovered.reason == "the GB-XK agreement does not cover DISCREET_CHECK"


def test_require_raises_policy_violation_with_the_rule() -> None:
    """Decision.require() raises PolicyViolation carrying the rule id; allowed ones pass."""
    check_send(NETWORK, alert(), "RS", NOW).require()
    with pytest.raises(PolicyViolation) as caught:
        check_send(NETWORK, alert(tlp="TLP_RED"), "RS", NOW).require()
    assert caught.value.rule == "handling-above-cap"
    assert str(caught.value).startswith("refused by rule handling-above-cap: ")


def test_check_send_all_decides_each_recipient() -> None:
    """One decision per addressed recipient, in address order, duplicates once."""
    header = alert(recipients=["RS", "MK", "XK", "RS"], category="DISCREET_CHECK")
    decisions = check_send_all(NETWORK, header, NOW)
    assert [(d.recipient, d.rule) for d in decisions] == [
        ("RS", None),
        ("MK", None),
        ("XK", Rule.CATEGORY_NOT_COVERED),
    ]


def test_check_send_all_without_recipients_refuses_once() -> None:
    """An alert addressing nobody yields one no-recipient refusal."""
    (decision,) = check_send_all(NETWORK, alert(recipients=[]), NOW)
    assert decision.rule is Rule.NO_RECIPIENT


def test_any_covering_agreement_allows() -> None:
    """Between two countries with several agreements, one that covers and caps enough wins."""
    network = parse_network(
        """
countries: [{code: GB, name: UK}, {code: RS, name: Serbia}, {code: HU, name: Hungary}]
agreements:
  - {id: A, parties: [GB, RS], categories: [MODUS_OPERANDI], max_tlp: TLP_GREEN,
     retention_days: 1}
  - {id: B, parties: [GB, RS, HU], categories: [MODUS_OPERANDI], max_tlp: TLP_RED,
     retention_days: 1}
""",
        source="two.yaml",
    )
    decision = check_send(network, alert(tlp="TLP_RED"), "RS", NOW)
    assert decision.agreement == "B"


def test_every_rule_is_exercised() -> None:
    """The send table covers every rule; the receive table every rule a receiver applies."""
    sent = {case.values[3] for case in SEND_CASES}
    received = {case.values[3] for case in RECEIVE_CASES}
    # The clock skew is the receiver's check: a sender's own clock is its "now".
    assert set(Rule) - {Rule.CREATED_IN_FUTURE} <= sent
    # Consent is the sender's to obtain; an empty address list reads as not-addressed.
    assert set(Rule) - {Rule.NO_RECIPIENT, Rule.ONWARD_NEEDS_CONSENT} <= received
