"""What a recipient does with an arriving alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from intelshare.consumer.inbox import Verdict, decide, sender_of
from intelshare.contract.alerts import AlertHeader, new_alert, revoke
from intelshare.network.model import default_network
from intelshare.state.entries import CountryState, InboxEntry

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def header(originator: str = "GB", recipients=("RS",), **fields) -> AlertHeader:
    """The typed view of a fresh alert."""
    values: dict[str, Any] = {
        "category": "MODUS_OPERANDI",
        "case_id": "C1",
        "summary": "s",
        "created_at": NOW,
    }
    values.update(fields)
    return AlertHeader.from_record(
        new_alert(originator=originator, recipients=list(recipients), alert_id="GB-1", **values)
    )


def judge(alert: AlertHeader, receiver: str = "RS", state=None):
    """decide() with the default network at NOW."""
    return decide(
        default_network(),
        state or CountryState(),
        alert,
        receiver=receiver,
        now=NOW,
    )


def test_an_addressed_alert_under_an_agreement_is_received() -> None:
    """GB to RS under GB-RS: received, sent by GB."""
    arrival = judge(header())

    assert arrival.verdict is Verdict.RECEIVED
    assert arrival.sender == "GB"


@pytest.mark.parametrize(
    ("alert", "receiver", "rule"),
    [
        pytest.param(header("RS", ("XK",)), "XK", "no-agreement", id="rs-to-xk"),
        pytest.param(header(recipients=("MK",)), "RS", "not-addressed", id="not-addressed"),
        pytest.param(
            header(valid_until=NOW - timedelta(seconds=1), created_at=NOW - timedelta(days=1)),
            "RS",
            "expired",
            id="expired",
        ),
        pytest.param(header(tlp="TLP_RED"), "RS", "handling-above-cap", id="red-to-rs"),
    ],
)
def test_policy_is_checked_again_on_arrival(alert, receiver: str, rule: str) -> None:
    """A copy the policy would refuse is rejected on arrival, naming the rule."""
    arrival = judge(alert, receiver)

    assert arrival.verdict is Verdict.REJECTED
    assert arrival.rule == rule


def test_a_revocation_is_applied_even_after_expiry() -> None:
    """A REVOCATION of an expired alert still makes the recipient stop."""
    record = new_alert(
        originator="GB",
        recipients=["RS"],
        category="MODUS_OPERANDI",
        case_id="C1",
        summary="s",
        alert_id="GB-1",
        created_at=NOW - timedelta(days=40),
    )
    arrival = judge(AlertHeader.from_record(revoke(record, created_at=NOW)))

    assert arrival.verdict is Verdict.REVOKED


def test_a_handled_revision_is_a_duplicate() -> None:
    """A revision in the state is a duplicate; its receipt is resent only if never sent."""
    state = CountryState()
    state.apply(
        InboxEntry(
            alert_id="GB-1",
            revision=1,
            status="received",
            originator="GB",
            case_id="C1",
            receipt_sent=True,
        )
    )

    arrival = judge(header(), state=state)

    assert arrival.verdict is Verdict.DUPLICATE
    assert not arrival.resend_receipt


def test_onward_copy_names_the_last_hop_as_sender() -> None:
    """For hop path GB, RS, HU the copy HU holds was written by RS."""
    alert = header(hop_path=["GB", "RS", "HU"])

    assert sender_of(alert, "HU") == "RS"
    assert sender_of(alert, "RS") == "GB"


def test_another_originators_alert_of_the_same_id_never_suppresses_this_one() -> None:
    """XK's GB-1 at revision 50 (rejected) does not make GB's GB-1 r1 a duplicate."""
    state = CountryState()
    state.apply(
        InboxEntry(alert_id="GB-1", revision=50, status="rejected", originator="XK", case_id="C1")
    )

    arrival = judge(header(), state=state)

    assert arrival.verdict is Verdict.RECEIVED


@pytest.mark.parametrize("revision", [0, -1, -(2**31)])
def test_a_revision_below_one_is_rejected_not_a_duplicate(revision: int) -> None:
    """Revision 0 or below is refused as invalid-revision and not remembered, even beside r1."""
    state = CountryState()
    state.apply(
        InboxEntry(alert_id="GB-1", revision=1, status="received", originator="GB", case_id="C1")
    )

    arrival = judge(header(revision=revision), state=state)

    assert arrival.verdict is Verdict.REJECTED
    assert arrival.rule == "invalid-revision"
    assert not arrival.keep_in_state


@pytest.mark.parametrize(
    ("ahead", "verdict"),
    [
        pytest.param(timedelta(minutes=5), Verdict.RECEIVED, id="at-the-tolerance"),
        pytest.param(timedelta(minutes=5, milliseconds=1), Verdict.REJECTED, id="just-beyond"),
        pytest.param(timedelta(days=3650), Verdict.REJECTED, id="ten-years"),
    ],
)
def test_an_alert_from_the_future_beyond_the_skew_is_rejected(ahead, verdict) -> None:
    """created_at more than the clock skew (default 5 min) ahead is created-in-future."""
    alert = header(created_at=NOW + ahead, valid_until=NOW + ahead + timedelta(days=1))

    arrival = judge(alert)

    assert arrival.verdict is verdict
    if verdict is Verdict.REJECTED:
        assert arrival.rule == "created-in-future"
        assert "after this receiver's clock" in arrival.reason


def test_the_clock_skew_is_configurable() -> None:
    """With a 1 s tolerance an alert 2 s ahead is refused."""
    alert = header(created_at=NOW + timedelta(seconds=2))

    arrival = decide(
        default_network(),
        CountryState(),
        alert,
        receiver="RS",
        now=NOW,
        clock_skew=timedelta(seconds=1),
    )

    assert arrival.rule == "created-in-future"
