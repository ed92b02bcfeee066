"""Country services on a real broker: delivery, receipts, need-to-know, refusals, dead letters."""

from __future__ import annotations

import asyncio
import json
import math
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from servicekit import (
    make_topics,
    produce_raw,
    read_topic,
    records_with,
    services,
)

from intelshare.contract import codec
from intelshare.contract.alerts import new_alert
from intelshare.contract.schemas import default_registry
from intelshare.network.model import (
    alerts_topic,
    audit_topic,
    deadletter_topic,
    default_network,
    receipts_topic,
    state_topic,
)
from intelshare.producer.consent import request_consent, share_onward
from intelshare.runtime.audit import audit_events

pytestmark = pytest.mark.kafka


def alert(originator: str, recipients: list[str], **fields) -> dict:
    """A plausible alert; fields override the defaults."""
    values = {
        "category": "MODUS_OPERANDI",
        "case_id": f"{originator}-CASE-1",
        "summary": "People hidden among pallets in a lorry at Tabanovce.",
        "tlp": "TLP_GREEN",
        **fields,
    }
    return new_alert(originator=originator, recipients=recipients, **values)


@pytest.fixture
async def topics(kafka_bootstrap: str, topic_prefix: str, create_topics) -> str:
    """Every topic of the default network under the test's prefix (deleted afterwards)."""
    await make_topics(kafka_bootstrap, topic_prefix)
    return topic_prefix


async def test_gb_alert_reaches_rs_is_logged_and_answered(kafka_bootstrap, topics, tmp_path):
    """An alert GB sends to RS arrives, is logged with its fields, and GB logs RS's receipt."""
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        await net.consumer("RS")
        await net.consumer("GB")
        gb = await net.publisher("GB")
        record = alert("GB", ["RS"], category="DISCREET_CHECK", tlp="TLP_AMBER")
        result = await gb.publish(record)
        (received,) = await net.events.wait("alert.received", country="RS")
        (receipt,) = await net.events.wait("receipt.received", country="GB")

    assert result.sent_to == ("RS",)
    assert received["alert_id"] == record["alert_id"]
    assert received["case_id"] == "GB-CASE-1"
    assert received["originator"] == "GB"
    assert received["topic"] == alerts_topic("RS", topics)
    assert {"partition", "offset", "latency_ms", "trace_id"} <= received.keys()
    assert received["trace_id"] == result.trace_id
    assert net.events.named("receipt.sent", country="RS", alert_id=record["alert_id"])
    assert receipt["receipt_from"] == "RS"
    assert receipt["status"] == "RECEIVED"
    assert receipt["topic"] == receipts_topic("GB", topics)


async def test_multi_recipient_alert_reaches_each_once_and_no_one_else(
    kafka_bootstrap, topics, tmp_path
):
    """A copy lands in each addressed inbox exactly once and in no other country's inbox."""
    addressed = ["RS", "MK", "AL"]
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        for country in (*addressed, "XK", "TR"):
            await net.consumer(country)
        gb = await net.publisher("GB")
        record = alert("GB", addressed, category="WANTED_FOR_ARREST", tlp="TLP_AMBER")
        result = await gb.publish(record)
        await net.events.wait("alert.received", 3, alert_id=record["alert_id"])

    assert set(result.sent_to) == set(addressed)
    logged = net.events.named("alert.received", alert_id=record["alert_id"])
    assert sorted(e["country"] for e in logged) == sorted(addressed)
    needle = record["alert_id"].encode()
    for country in default_network().codes:
        copies = records_with(
            await read_topic(kafka_bootstrap, alerts_topic(country, topics)), needle
        )
        assert len(copies) == (1 if country in addressed else 0), country


async def test_xk_never_receives_what_gb_sends_only_to_rs(kafka_bootstrap, topics, tmp_path):
    """XK's consumer logs nothing and XK's inbox stays empty when GB addresses only RS."""
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        await net.consumer("XK")
        await net.consumer("RS")
        gb = await net.publisher("GB")
        record = alert("GB", ["RS"])
        await gb.publish(record)
        await net.events.wait("alert.received", country="RS")

    assert not [e for e in net.events.items if e["country"] == "XK" and "alert_id" in e]
    assert await read_topic(kafka_bootstrap, alerts_topic("XK", topics)) == []


async def test_policy_refused_alert_is_on_no_topic(kafka_bootstrap, topics, tmp_path):
    """RS may not send to XK (no agreement): refused with its rule, and no topic holds the alert."""
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        rs = await net.publisher("RS")
        record = alert("RS", ["XK"])
        result = await rs.publish(record)
        await net.events.wait("alert.refused", alert_id=record["alert_id"])

    assert result.sent_to == ()
    assert [(c.recipient, c.rule) for c in result.refused] == [("XK", "no-agreement")]
    (refused,) = net.events.named("alert.refused")
    assert refused["rule"] == "no-agreement"
    assert refused["recipient"] == "XK"
    needle = record["alert_id"].encode()
    network = default_network()
    for name in network.all_topics(topics):
        if name == audit_topic(topics):
            continue  # the refusal event itself is audited; the alert is not
        assert records_with(await read_topic(kafka_bootstrap, name), needle) == [], name
    for country in network.codes:
        assert await read_topic(kafka_bootstrap, state_topic(country, topics)) == []
    audited = [
        event
        for record in await read_topic(kafka_bootstrap, audit_topic(topics))
        for event in audit_events(record.value)
        if needle in event
    ]
    assert [b'"event":"alert.refused"' in event for event in audited] == [True]


async def test_corrupt_message_is_dead_lettered_and_the_next_is_handled(
    kafka_bootstrap, topics, tmp_path
):
    """Garbage on RS's inbox goes to RS's dead letters with the bytes; the next alert arrives."""
    garbage = b"\xc3\x01not an avro message at all"
    await produce_raw(kafka_bootstrap, alerts_topic("RS", topics), garbage, signer="GB")
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        await net.consumer("RS")
        gb = await net.publisher("GB")
        record = alert("GB", ["RS"])
        await gb.publish(record)
        (dead,) = await net.events.wait("message.deadlettered", country="RS")
        await net.events.wait("alert.received", country="RS", alert_id=record["alert_id"])

    assert dead["error_type"] == "UnknownFingerprint"
    assert dead["topic"] == alerts_topic("RS", topics)
    (letter,) = await read_topic(kafka_bootstrap, deadletter_topic("RS", topics))
    decoded = codec.decode(default_registry(), letter.value)
    assert decoded.name == "DeadLetter"
    assert decoded.record["payload"] == garbage
    assert decoded.record["error_type"] == "UnknownFingerprint"
    assert decoded.record["offset"] == dead["offset"]


async def test_revocation_reaches_the_recipient_which_stops_using_it(
    kafka_bootstrap, topics, tmp_path
):
    """GB revokes an alert: RS logs alert.revoked for revision 2 and holds it as revoked."""
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        rs = await net.consumer("RS")
        gb = await net.publisher("GB")
        record = alert("GB", ["RS"])
        await gb.publish(record)
        await gb.revoke(record)
        (revoked,) = await net.events.wait("alert.revoked", country="RS")

    assert revoked["revision"] == 2
    assert revoked["message_type"] == "REVOCATION"
    assert rs.state.inbox["GB", record["alert_id"]].status == "revoked"


async def test_only_the_originator_may_revoke(kafka_bootstrap, topics, tmp_path):
    """RS cannot revoke GB's alert: refused (not-originator) before anything is written."""
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        rs = await net.publisher("RS")
        result = await rs.revoke(alert("GB", ["RS", "MK"]))

    rules = {c.recipient: c.rule for c in result.refused}
    assert rules == {"RS": "self-addressed", "MK": "not-originator"}
    assert result.sent_to == ()


async def test_a_resent_alert_is_suppressed_after_a_restart(kafka_bootstrap, topics, tmp_path):
    """The same alert revision sent again after RS restarted is a duplicate, not a new receipt."""
    record = alert("GB", ["RS"])
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        await net.consumer("RS")
        gb = await net.publisher("GB")
        await gb.publish(record)
        await net.events.wait("receipt.sent", country="RS")
    async with services(kafka_bootstrap, topics, tmp_path / "again") as net:
        await net.consumer("RS")
        gb = await net.publisher("GB")
        await gb.publish(record)
        (duplicate,) = await net.events.wait("alert.duplicate", country="RS")

    assert duplicate["alert_id"] == record["alert_id"]
    assert not net.events.named("alert.received")
    assert not net.events.named("receipt.sent")


async def test_overdue_receipt_is_logged_once(kafka_bootstrap, topics, tmp_path):
    """When RS does not answer by the due time, GB's consumer logs receipt.overdue once."""
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        gb_consumer = await net.consumer("GB")
        gb = await net.publisher("GB")
        due = datetime.now(UTC) + timedelta(seconds=1)
        record = alert("GB", ["RS"], response_due=due)
        await gb.publish(record)
        (overdue,) = await net.events.wait("receipt.overdue", country="GB")
        del gb_consumer

    assert overdue["recipient"] == "RS"
    assert overdue["alert_id"] == record["alert_id"]
    assert overdue["due"].endswith("Z")
    assert len(net.events.named("receipt.overdue")) == 1


async def test_onward_sharing_with_consent_records_the_hops(kafka_bootstrap, topics, tmp_path):
    """RS asks GB to share an H2 alert with HU; GB grants; HU receives it via GB, RS."""
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        for country in ("GB", "RS", "HU"):
            await net.consumer(country)
        gb = await net.publisher("GB")
        rs = await net.publisher("RS")
        record = alert("GB", ["RS"], eu_handling=["H0", "H2"])
        await gb.publish(record)
        await net.events.wait("alert.received", country="RS")
        refused = await share_onward(rs.outbox, record, onward_to=["HU"], consent_id=None)
        asked = await request_consent(rs.outbox, record, onward_to=["HU"], reason="to Röszke")
        (granted,) = await net.events.wait("consent.granted", country="GB")
        (onward,) = await net.events.wait("alert.shared_onward", country="RS")
        (arrived,) = await net.events.wait("alert.received", country="HU")
        await net.events.wait("receipt.received", country="GB", receipt_from="HU")

    assert [c.rule for c in refused.refused] == ["onward-needs-consent"]
    assert granted["consent_id"] == asked.consent_id
    assert granted["recipient"] == "HU"
    assert onward["hop_path"] == ["GB", "RS", "HU"]
    assert arrived["hop_path"] == ["GB", "RS", "HU"]
    assert arrived["sender"] == "RS"


async def test_every_event_is_mirrored_to_the_audit_topic(kafka_bootstrap, topics, tmp_path):
    """The audit topic holds the same JSON events the services logged."""
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        await net.consumer("RS")
        gb = await net.publisher("GB")
        await gb.publish(alert("GB", ["RS"]))
        await net.events.wait("receipt.sent", country="RS")

    records = await read_topic(kafka_bootstrap, audit_topic(topics))
    audited = [json.loads(event) for r in records for event in audit_events(r.value)]
    names = [e["event"] for e in net.events.items if e["event"].startswith(("alert.", "receipt."))]
    assert sorted(names) == sorted(e["event"] for e in audited)


async def test_a_later_answer_is_logged_but_a_repeated_receipt_is_not(
    kafka_bootstrap, topics, tmp_path
):
    """RS's automatic RECEIVED, then its HIT, both reach GB's log; the HIT sent twice, once."""
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        await net.consumer("RS")
        await net.consumer("GB")
        gb = await net.publisher("GB")
        record = alert("GB", ["RS"])
        await gb.publish(record)
        await net.events.wait("receipt.received", country="GB")
        hit = {
            "receipt_id": "RS-HIT-1",
            "alert_id": record["alert_id"],
            "revision": 1,
            "case_id": record["case_id"],
            "originator": "GB",
            "recipient": "RS",
            "status": "HIT",
            "rule": None,
            "note": "lorry stopped at Preševo",
            "sent_at": datetime.now(UTC),
        }
        value = codec.encode(default_registry(), "Receipt", hit)
        signed = {"signer": "RS", "originator": "GB"}
        for _ in range(2):
            await produce_raw(
                kafka_bootstrap, receipts_topic("GB", topics), value, b"GB-CASE-1", **signed
            )
        await net.events.wait("receipt.received", 2, country="GB")
        await produce_raw(
            kafka_bootstrap, receipts_topic("GB", topics), value, b"GB-CASE-1", **signed
        )
        await gb.publish(alert("GB", ["RS"], case_id="GB-CASE-1"))
        await net.events.wait("receipt.received", 3, country="GB")

    statuses = [e["status"] for e in net.events.named("receipt.received")]
    assert statuses == ["RECEIVED", "HIT", "RECEIVED"]


async def test_a_commit_interval_gathers_a_trickle_into_few_transactions(
    kafka_bootstrap, topics, tmp_path
):
    """With a 1 s commit interval, alerts trickling in over ~1 s commit in a few transactions."""
    interval, count = 1.0, 20
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        await net.consumer("RS", commit_interval=interval)
        gb = await net.publisher("GB")
        began = time.monotonic()
        for n in range(count):
            await gb.publish(alert("GB", ["RS"], case_id=f"GB-CASE-{n}"))
            await asyncio.sleep(0.04)
        span = time.monotonic() - began
        await net.events.wait("alert.received", count, country="RS")

    # Every transaction of RS's consumer ends with a commit marker on GB's receipts partition,
    # which takes an offset of its own: the receipts' offsets run in one stretch per transaction.
    offsets = sorted(
        r.offset for r in await read_topic(kafka_bootstrap, receipts_topic("GB", topics))
    )
    assert len(offsets) == count
    transactions = 1 + sum(b - a > 1 for a, b in pairwise(offsets))
    # The first alert commits at once; the rest gather, one transaction per interval.
    assert transactions <= 2 + math.ceil(span / interval), (transactions, span, offsets)
    received = net.events.named("alert.received", country="RS")
    assert len({e["alert_id"] for e in received}) == count
