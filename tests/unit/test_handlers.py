"""The consumer's handlers and consent logic without a broker, through a fake outbox."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from fake_outbox import NOW, encode, fake_country, rs_receipt, signed_headers

from intelshare.contract import codec
from intelshare.contract.alerts import new_alert, revoke, to_millis
from intelshare.contract.headers import HEADER_ORIGINATOR
from intelshare.contract.schemas import default_registry
from intelshare.contract.signing import (
    HEADER_ORIGIN_SIGNATURE,
    HEADER_ORIGIN_VALUE,
    HEADER_SIGNATURE,
    HEADER_SIGNER,
    demo_key,
)
from intelshare.state.entries import ConsentEntry, InboxEntry


def alert(originator: str = "GB", alert_id: str = "GB-1", **fields: Any) -> dict[str, Any]:
    """A GB alert to RS, created a minute before the fake clock."""
    values: dict[str, Any] = {
        "category": "MODUS_OPERANDI",
        "case_id": "C1",
        "summary": "s",
        "created_at": NOW - timedelta(minutes=1),
        "recipients": ["RS"],
    }
    values.update(fields)
    return new_alert(originator=originator, alert_id=alert_id, **values)


async def test_the_dispatch_table_names_one_handler_per_schema_and_topic() -> None:
    """Inbox takes Alert and ConsentGrant; receipts takes Receipt and ConsentRequest."""
    rs = fake_country()

    assert {k: set(v) for k, v in rs.handlers.dispatch.items()} == {
        "inbox": {"Alert", "ConsentGrant"},
        "receipts": {"Receipt", "ConsentRequest"},
    }


async def test_an_alert_is_received_answered_and_remembered() -> None:
    """One alert.received, one RECEIVED receipt to GB, then the state entry with receipt_sent."""
    rs = fake_country()

    await rs.deliver(encode("Alert", alert()))

    assert len(rs.named("alert.received")) == 1
    (receipt,) = rs.producer.to("intel.receipts.GB")
    decoded = codec.decode(default_registry(), receipt.value).record
    assert (decoded["status"], decoded["revision"]) == ("RECEIVED", 1)
    assert rs.named("receipt.sent")[0]["status"] == "RECEIVED"
    (entry,) = rs.state_entries()
    assert entry.key == "inbox/GB/GB-1"
    assert entry.receipt_sent


async def test_a_redelivered_alert_is_a_duplicate_and_not_answered_again() -> None:
    """The same revision twice: one alert.received, one alert.duplicate, one receipt."""
    rs = fake_country()
    value = encode("Alert", alert())

    await rs.deliver(value)
    await rs.deliver(value)

    assert len(rs.named("alert.received")) == 1
    assert len(rs.named("alert.duplicate")) == 1
    assert len(rs.producer.to("intel.receipts.GB")) == 1


async def test_another_originators_id_never_suppresses_the_genuine_alert() -> None:
    """XK's rejected GB-1 at revision 50 first; GB's GB-1 r1 is still received and answered."""
    rs = fake_country()

    await rs.deliver(encode("Alert", alert("XK", revision=50)))
    await rs.deliver(encode("Alert", alert()))

    assert [e["originator"] for e in rs.named("alert.rejected")] == ["XK"]
    assert [e["originator"] for e in rs.named("alert.received")] == ["GB"]
    (receipt,) = rs.producer.to("intel.receipts.GB")
    assert codec.decode(default_registry(), receipt.value).record["status"] == "RECEIVED"


@pytest.mark.parametrize("revision", [0, -3])
async def test_revision_below_one_gets_a_rejected_receipt(revision: int) -> None:
    """Revision 0 after r1: alert.rejected invalid-revision, a REJECTED receipt, no state."""
    rs = fake_country()
    await rs.deliver(encode("Alert", alert()))

    await rs.deliver(encode("Alert", alert(revision=revision)))

    (rejected,) = rs.named("alert.rejected")
    assert rejected["rule"] == "invalid-revision"
    receipts = [
        codec.decode(default_registry(), r.value).record
        for r in rs.producer.to("intel.receipts.GB")
    ]
    assert [(r["status"], r["rule"]) for r in receipts] == [
        ("RECEIVED", None),
        ("REJECTED_BY_POLICY", "invalid-revision"),
    ]
    assert all(e.revision == 1 for e in rs.state_entries())
    assert not rs.named("alert.duplicate")


async def test_an_alert_from_the_future_is_rejected_with_rule_and_reason() -> None:
    """created_at ten years ahead: alert.rejected created-in-future, never alert.received."""
    rs = fake_country()
    future = NOW + timedelta(days=3650)

    await rs.deliver(
        encode("Alert", alert(created_at=future, valid_until=future + timedelta(days=1)))
    )

    (rejected,) = rs.named("alert.rejected")
    assert rejected["rule"] == "created-in-future"
    assert "2036" in rejected["reason"]
    assert not rs.named("alert.received")


async def test_a_revocation_is_applied_per_originator() -> None:
    """GB's revocation of GB-1 revokes GB's alert; the state says revoked."""
    rs = fake_country()
    original = alert()
    await rs.deliver(encode("Alert", original))

    await rs.deliver(encode("Alert", revoke(original, created_at=NOW)))

    assert len(rs.named("alert.revoked")) == 1
    assert rs.handlers.state.inbox["GB", "GB-1"].status == "revoked"


@pytest.mark.parametrize(
    ("value", "kind", "error_type", "says"),
    [
        pytest.param(None, "inbox", "DecodeError", "no value", id="no-value"),
        pytest.param(b"\x00\x01junk-junk", "inbox", "BadMarker", "marker", id="bad-marker"),
        pytest.param(
            encode("Alert", alert())[:40], "inbox", "CorruptBody", "EOFError", id="truncated"
        ),
        pytest.param(
            encode("Alert", alert()), "receipts", "InvalidMessage", "does not belong", id="wrong"
        ),
    ],
)
async def test_what_cannot_be_handled_is_dead_lettered_saying_what_failed(
    value: bytes | None, kind: str, error_type: str, says: str
) -> None:
    """Each bad message becomes a dead letter whose error names what failed (never empty)."""
    rs = fake_country()

    await rs.deliver(value, kind=kind)

    (letter,) = rs.producer.to("intel.deadletter.RS")
    record = codec.decode(default_registry(), letter.value).record
    assert record["error_type"] == error_type
    assert says in record["error"]
    assert not record["error"].rstrip().endswith(":")
    (event,) = rs.named("message.deadlettered")
    assert event["error_type"] == error_type


async def test_a_receipt_is_logged_once_and_remembered() -> None:
    """GB takes RS's receipt: one receipt.received; its redelivery is silent."""
    gb = fake_country("GB")
    value = encode("Receipt", rs_receipt())

    await gb.deliver(value, kind="receipts")
    await gb.deliver(value, kind="receipts")

    assert len(gb.named("receipt.received")) == 1
    assert gb.handlers.state.receipts["GB-1", 1, "RS"] == "RECEIVED"


def consent_request(alert_id: str = "GB-1", onward: tuple[str, ...] = ("RS",)) -> dict[str, Any]:
    """MK asks GB to share GB-1 r1 onward."""
    return {
        "consent_id": "MK-C-1",
        "alert_id": alert_id,
        "revision": 1,
        "case_id": "C1",
        "originator": "GB",
        "requester": "MK",
        "onward_to": list(onward),
        "hop_path": ["GB"],
        "reason": "route",
        "requested_at": to_millis(NOW),
    }


async def test_a_consent_request_for_an_unknown_alert_is_refused() -> None:
    """GB has no record of GB-9: the grant goes to MK with granted false, and nothing onward."""
    gb = fake_country("GB")

    await gb.deliver(encode("ConsentRequest", consent_request("GB-9")), kind="receipts")

    (grant,) = gb.producer.to("intel.alerts.MK")
    record = codec.decode(default_registry(), grant.value).record
    assert (record["granted"], record["onward_to"]) == (False, [])
    assert gb.named("alert.refused")[0]["rule"] == "unknown-alert"
    assert gb.handlers.state.consents["MK-C-1"].status == "refused"


async def test_a_consent_request_for_a_sent_alert_is_granted_where_policy_allows() -> None:
    """GB sent GB-1 (H2) to MK; MK asks for RS (WB-ROUTE): granted, consent.granted logged."""
    gb = fake_country("GB")
    sent = alert(recipients=["MK"], eu_handling=["H2"], tlp="TLP_GREEN")
    gb.handlers.state.records["GB-1", 1] = encode("Alert", sent)

    await gb.deliver(encode("ConsentRequest", consent_request()), kind="receipts")

    (grant,) = gb.producer.to("intel.alerts.MK")
    record = codec.decode(default_registry(), grant.value).record
    assert (record["granted"], record["onward_to"]) == (True, ["RS"])
    assert [e["recipient"] for e in gb.named("consent.granted")] == ["RS"]


async def test_a_grant_makes_the_requester_share_onward_once() -> None:
    """MK holds GB-1 (H2); GB's grant for RS makes MK write one onward copy with hop path."""
    mk = fake_country("MK")
    held = alert(recipients=["MK"], eu_handling=["H2"], tlp="TLP_GREEN")
    mk.handlers.state.apply(
        InboxEntry(
            alert_id="GB-1",
            revision=1,
            status="received",
            originator="GB",
            case_id="C1",
            record=encode("Alert", held),
        )
    )
    mk.handlers.state.apply(
        ConsentEntry(
            consent_id="MK-C-1", alert_id="GB-1", revision=1, originator="GB", onward_to=("RS",)
        )
    )
    grant = {
        "consent_id": "MK-C-1",
        "alert_id": "GB-1",
        "revision": 1,
        "case_id": "C1",
        "originator": "GB",
        "requester": "MK",
        "onward_to": ["RS"],
        "granted": True,
        "conditions": None,
        "decided_at": to_millis(NOW),
        "valid_until": None,
    }

    await mk.deliver(encode("ConsentGrant", grant))
    await mk.deliver(encode("ConsentGrant", grant))

    (copy,) = mk.producer.to("intel.alerts.RS")
    assert codec.decode(default_registry(), copy.value).record["hop_path"] == ["GB", "MK", "RS"]
    assert mk.handlers.state.consents["MK-C-1"].status == "shared"


@pytest.mark.parametrize("extra", [-1, 0, 1, 5000])
async def test_a_message_of_any_size_becomes_a_letter_that_fits(extra: int) -> None:
    """A junk value around the record limit: the letter fits, says length, SHA-256 and cut."""
    rs = fake_country()
    rs.handlers.record_limit = 20_000
    value = b"\x00junk" + bytes(range(256)) * 80
    value = value[: 20_000 + extra] if extra <= 0 else value + b"x" * extra

    await rs.deliver(value)

    (letter,) = rs.producer.to("intel.deadletter.RS")
    assert len(letter.value) + len(letter.key or b"") + 1024 <= 20_000
    record = codec.decode(default_registry(), letter.value).record
    assert record["original_length"] == len(value)
    assert record["sha256"] == hashlib.sha256(value).hexdigest()
    assert record["truncated"]
    assert value.startswith(record["payload"])
    assert len(record["payload"]) > 15_000


async def test_a_small_message_is_kept_whole_in_its_letter() -> None:
    """Below the limit nothing is cut: the payload is the value, truncated is false."""
    rs = fake_country()
    value = b"\x00junk-junk-junk"

    await rs.deliver(value)

    record = codec.decode(default_registry(), rs.producer.to("intel.deadletter.")[0].value).record
    assert (record["payload"], record["truncated"]) == (value, False)
    assert record["original_length"] == len(value)


async def test_an_oversized_id_is_dead_lettered_before_it_reaches_a_receipt() -> None:
    """An alert id of 5000 characters is refused as the message's fault; nothing else is written."""
    rs = fake_country()

    await rs.deliver(encode("Alert", alert(alert_id="G" * 5000)))

    assert [s.topic for s in rs.producer.sent] == ["intel.deadletter.RS"]
    assert "alert_id of 5000 characters" in rs.named("message.deadlettered")[0]["error"]


def forged(value: bytes, *, signer: str, originator: str = "GB") -> dict[str, bytes]:
    """Headers of a copy signed by ``signer`` while claiming ``originator``."""
    return {
        HEADER_ORIGINATOR: originator.encode(),
        HEADER_SIGNER: signer.encode(),
        HEADER_SIGNATURE: demo_key(signer).sign(value),
    }


def refused(country: Any) -> list[tuple[str, str]]:
    """(error_type, rule) of each dead letter the country wrote."""
    letters = [
        codec.decode(default_registry(), s.value).record
        for s in country.producer.to("intel.deadletter.")
    ]
    return [(r["error_type"], r["rule"]) for r in letters]


async def test_an_alert_in_gbs_name_signed_by_mk_is_refused() -> None:
    """MK signs an alert naming GB as originator: wrong-signer, dead-lettered, no receipt."""
    rs = fake_country()
    value = encode("Alert", alert())

    await rs.deliver(value, headers=forged(value, signer="MK"))

    assert refused(rs) == [("ProofError", "wrong-signer")]
    assert not rs.named("alert.received")
    assert not rs.producer.to("intel.receipts.")
    assert rs.named("message.deadlettered")[0]["rule"] == "wrong-signer"


async def test_one_changed_byte_or_a_copied_proof_fails_the_signature() -> None:
    """A genuine copy with one body byte changed, and GB's proof on another body: bad-signature."""
    rs = fake_country()
    value = encode("Alert", alert())
    headers = signed_headers(value, "RS")
    changed = value[:-3] + bytes([value[-3] ^ 1]) + value[-2:]
    other = encode("Alert", alert(summary="something else"))

    await rs.deliver(changed, headers=headers)
    await rs.deliver(other, headers=headers)
    await rs.deliver(value, headers=headers)

    assert refused(rs) == [("ProofError", "bad-signature")] * 2
    assert len(rs.named("alert.received")) == 1


async def test_a_revocation_of_gbs_alert_written_by_mk_is_refused() -> None:
    """Only GB's own key proves a revocation of GB's alert."""
    rs = fake_country()
    original = alert()
    await rs.deliver(encode("Alert", original))
    value = encode("Alert", revoke(original, created_at=NOW))

    await rs.deliver(value, headers=forged(value, signer="MK"))

    assert refused(rs) == [("ProofError", "wrong-signer")]
    assert rs.handlers.state.inbox["GB", original["alert_id"]].status == "received"


@pytest.mark.parametrize(
    ("headers", "rule"),
    [
        pytest.param({}, "unsigned", id="unsigned"),
        pytest.param({HEADER_SIGNER: b"ZZ", HEADER_SIGNATURE: b"x" * 64}, "unknown-key", id="zz"),
        pytest.param(
            {HEADER_SIGNER: b"GB", HEADER_SIGNATURE: b"\x00" * 64}, "bad-signature", id="zeros"
        ),
    ],
)
async def test_unsigned_and_unknown_signers_are_refused(headers: dict, rule: str) -> None:
    """No signature, a signer outside the network, a signature of zeros: each its own rule."""
    rs = fake_country()

    await rs.deliver(encode("Alert", alert()), headers=headers)

    assert refused(rs) == [("ProofError", rule)]


async def test_the_originator_header_must_agree_with_the_record() -> None:
    """GB signs honestly but the header names MK: originator-mismatch."""
    rs = fake_country()
    value = encode("Alert", alert())

    await rs.deliver(value, headers=forged(value, signer="GB", originator="MK"))

    assert refused(rs) == [("ProofError", "originator-mismatch")]


async def test_a_receipt_must_be_signed_by_the_recipient_it_names() -> None:
    """A receipt naming RS as recipient, signed by MK, is refused; signed by RS it is taken."""
    gb = fake_country("GB")
    value = encode("Receipt", rs_receipt("HIT"))

    await gb.deliver(value, kind="receipts", signer="MK")
    await gb.deliver(value, kind="receipts")

    assert refused(gb) == [("ProofError", "wrong-signer")]
    assert [e["receipt_from"] for e in gb.named("receipt.received")] == ["RS"]


def onward_copy(original: dict[str, Any], content: dict[str, Any]) -> tuple[bytes, dict]:
    """GB's signed original, and MK's onward copy of ``content`` to RS with GB's proof."""
    origin = encode("Alert", original)
    value = encode("Alert", {**content, "hop_path": ["GB", "MK", "RS"]})
    headers = {
        **forged(value, signer="MK"),
        HEADER_ORIGIN_VALUE: origin,
        HEADER_ORIGIN_SIGNATURE: demo_key("GB").sign(origin),
    }
    return value, headers


async def test_an_onward_copy_carries_both_proofs() -> None:
    """MK's copy of GB's alert: MK's hop signature and GB's proof of the same content verify."""
    rs = fake_country()
    original = alert(recipients=["MK"], tlp="TLP_GREEN")
    value, headers = onward_copy(original, original)

    await rs.deliver(value, headers=headers)

    (received,) = rs.named("alert.received")
    assert (received["originator"], received["sender"]) == ("GB", "MK")


async def test_an_onward_copy_with_altered_content_is_refused() -> None:
    """MK changes the summary of GB's alert on the way: bad-origin-proof."""
    rs = fake_country()
    original = alert(recipients=["MK"], tlp="TLP_GREEN")
    value, headers = onward_copy(original, {**original, "summary": "MK's version"})

    await rs.deliver(value, headers=headers)

    assert refused(rs) == [("ProofError", "bad-origin-proof")]
