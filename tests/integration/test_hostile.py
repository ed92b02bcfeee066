"""Hostile messages on the real broker.

Each test ends with the consumer still running and the genuine alerts received exactly once.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from servicekit import make_topics, read_topic, services
from typer.testing import CliRunner

from intelshare.cli import app
from intelshare.contract import codec
from intelshare.contract.alerts import new_alert
from intelshare.contract.headers import HEADER_ORIGINATOR, HEADER_SCHEMA
from intelshare.contract.schemas import default_registry
from intelshare.contract.signing import HEADER_SIGNATURE, HEADER_SIGNER, demo_key, sign_batch
from intelshare.network.model import alerts_topic, deadletter_topic, default_network_path

REGISTRY = default_registry()


@pytest.fixture
async def topics(kafka_bootstrap: str, topic_prefix: str, create_topics) -> str:
    """Every topic of the default network under the test's prefix."""
    await make_topics(kafka_bootstrap, topic_prefix)
    return topic_prefix


def alert(originator: str = "GB", **fields: Any) -> dict[str, Any]:
    """An alert to RS (TLP:GREEN, modus operandi), created now."""
    values: dict[str, Any] = {
        "recipients": ["RS"],
        "category": "MODUS_OPERANDI",
        "case_id": "CASE-H",
        "summary": "Vans with false floors at Preševo.",
        "tlp": "TLP_GREEN",
        "alert_id": f"GB-{uuid.uuid4().hex[:8].upper()}",
    }
    values.update(fields)
    return new_alert(originator=originator, **values)


async def write_as(
    bootstrap: str,
    topic: str,
    record: dict[str, Any] | bytes,
    *,
    writer: str,
    extra: list[tuple[str, bytes]] = [],  # noqa: B006 - never mutated
    value: bytes | None = None,
    signature: bytes | None = None,
) -> None:
    """Write an Alert to ``topic`` signed by ``writer``'s (demo) key: a hostile producer.

    ``value`` replaces the encoded record's bytes after signing them (a tampered copy);
    ``signature`` replaces the signature header.
    """
    if isinstance(record, bytes):
        signed = record
        record = codec.decode(REGISTRY, record).record
    else:
        signed = codec.encode(REGISTRY, "Alert", record)
    value = value if value is not None else signed
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        headers = [
            (HEADER_SCHEMA, REGISTRY.newest("Alert").full_name.encode()),
            (HEADER_ORIGINATOR, record["originator"]["country"].encode()),
            (HEADER_SIGNER, writer.encode()),
            (HEADER_SIGNATURE, signature or demo_key(writer).sign(signed)),
            *extra,
        ]
        await producer.send_and_wait(topic, value, key=b"CASE-H", headers=headers)
    finally:
        await producer.stop()


def tampered_bytes(record: dict[str, Any]) -> bytes:
    """``record`` encoded, with one bit of its body flipped (its signature no longer holds)."""
    signed = codec.encode(REGISTRY, "Alert", record)
    return signed[:-3] + bytes([signed[-3] ^ 1]) + signed[-2:]


def still_running(net: Any) -> bool:
    """Whether every consumer task of the test is still running."""
    return all(not task.done() for task in net.tasks)


async def test_ids_revisions_and_clocks_that_lie_are_refused(kafka_bootstrap, topics, tmp_path):
    """XK's copy of GB's id at r50, GB r0, GB ten years ahead: refused; GB's alert arrives once."""
    inbox = alerts_topic("RS", topics)
    genuine = alert()
    taken = {**alert("XK"), "alert_id": genuine["alert_id"], "revision": 50}
    future = datetime.now(UTC) + timedelta(days=3650)
    zero = alert(revision=0)
    ahead = alert(created_at=future, valid_until=future + timedelta(days=1))
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        await net.consumer("RS")
        await net.consumer("GB")
        gb = await net.publisher("GB")
        await write_as(kafka_bootstrap, inbox, taken, writer="XK")
        await write_as(kafka_bootstrap, inbox, zero, writer="GB")
        await write_as(kafka_bootstrap, inbox, ahead, writer="GB")
        await gb.publish(genuine)
        await net.events.wait("alert.received", country="RS", alert_id=genuine["alert_id"])
        receipts = await net.events.wait("receipt.received", 3, country="GB")
        rejected = await net.events.wait("alert.rejected", 3, country="RS")
        assert still_running(net)

    assert {(e["originator"], e["rule"]) for e in rejected} == {
        ("XK", "no-agreement"),
        ("GB", "invalid-revision"),
        ("GB", "created-in-future"),
    }
    received = net.events.named("alert.received", country="RS")
    assert [e["alert_id"] for e in received] == [genuine["alert_id"]]
    assert sorted((e["alert_id"], e["status"]) for e in receipts) == sorted(
        [
            (genuine["alert_id"], "RECEIVED"),
            (zero["alert_id"], "REJECTED_BY_POLICY"),
            (ahead["alert_id"], "REJECTED_BY_POLICY"),
        ]
    )
    assert not net.events.named("alert.duplicate")


async def largest_value(bootstrap: str, prefix: str) -> int:
    """The largest value a record can have on a fresh topic: its batch is max.message.bytes.

    Probed with headers of the same sizes as a signed record's (a signature is 64 bytes).
    """
    shape = [(HEADER_SIGNER, b"GB"), (HEADER_SIGNATURE, bytes(64))]
    topic = f"{prefix}probe"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=4 << 20)
    await producer.start()
    try:
        low, high = 1_048_588 - 400, 1_048_588  # low is accepted, high is refused
        while high - low > 1:
            middle = (low + high) // 2
            try:
                await producer.send_and_wait(topic, b"x" * middle, key=b"k", headers=shape)
                low = middle
            except KafkaError:
                high = middle
        return low
    finally:
        await producer.stop()


@pytest.mark.timeout(240)
async def test_messages_at_the_size_limit_are_cut_to_fit_and_passed(
    kafka_bootstrap, topics, tmp_path
):
    """Junk at max.message.bytes and one byte under: letters cut to fit, offsets committed."""
    inbox = alerts_topic("RS", topics)
    size = await largest_value(kafka_bootstrap, topics)
    hostile = [b"\x00" + bytes([n]) * (size - 2) + b"!" for n in (1, 2)]
    hostile[1] = hostile[1][:-1]  # one byte under the limit
    before, after = alert(), alert()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, max_request_size=4 << 20)
    await producer.start()
    try:
        async with services(kafka_bootstrap, topics, tmp_path) as net:
            await net.consumer("RS")
            gb = await net.publisher("GB")
            await gb.publish(before)
            for value in hostile:
                # Signed by GB: a genuine writer's garbage, so it gets past the proof to decoding.
                proof = [(HEADER_SIGNER, b"GB"), (HEADER_SIGNATURE, demo_key("GB").sign(value))]
                await producer.send_and_wait(inbox, value, key=b"k", headers=proof)
            await gb.publish(after)
            await net.events.wait("alert.received", country="RS", alert_id=after["alert_id"])
            dead = await net.events.wait("message.deadlettered", 2, country="RS")
            assert still_running(net)
    finally:
        await producer.stop()

    assert [e["alert_id"] for e in net.events.named("alert.received")] == [
        before["alert_id"],
        after["alert_id"],
    ]
    assert [(e["error_type"], e["truncated"]) for e in dead] == [("BadMarker", True)] * 2
    letters = [
        codec.decode(REGISTRY, r.value).record
        for r in await read_topic(kafka_bootstrap, deadletter_topic("RS", topics))
    ]
    assert [len(v) for v in hostile] == [size, size - 1]
    for letter, value in zip(letters, hostile, strict=True):
        assert letter["original_length"] == len(value)
        assert letter["sha256"] == hashlib.sha256(value).hexdigest()
        assert letter["truncated"]
        assert value.startswith(letter["payload"])
        assert len(letter["payload"]) > len(value) - 4096
    # Restarted with a fresh log: the offsets were committed past the hostile messages.
    async with services(kafka_bootstrap, topics, tmp_path / "again") as again:
        rs = await again.consumer("RS")
        gb = await again.publisher("GB")
        last = alert()
        await gb.publish(last)
        await again.events.wait("alert.received", country="RS", alert_id=last["alert_id"])
        assert rs.handled == 1
    assert not again.events.named("message.deadlettered")


async def test_forged_and_tampered_copies_are_refused_by_their_proof(
    kafka_bootstrap, topics, tmp_path
):
    """MK writes in GB's name, revokes GB's alert, tampers a byte, reuses GB's proof: refused."""
    inbox = alerts_topic("RS", topics)
    genuine = alert()
    tampered = tampered_bytes(genuine)
    other = codec.encode(REGISTRY, "Alert", {**genuine, "summary": "Another story entirely."})
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        await net.consumer("RS")
        gb = await net.publisher("GB")
        await write_as(kafka_bootstrap, inbox, alert(), writer="MK")  # in GB's name
        await write_as(kafka_bootstrap, inbox, genuine, writer="GB", value=tampered)
        await write_as(kafka_bootstrap, inbox, genuine, writer="GB", value=other)
        await gb.publish(genuine)
        await net.events.wait("alert.received", country="RS", alert_id=genuine["alert_id"])
        revocation = {**genuine, "revision": 2, "message_type": "REVOCATION"}
        await write_as(kafka_bootstrap, inbox, revocation, writer="MK")
        later = alert()
        await gb.publish(later)
        await net.events.wait("alert.received", country="RS", alert_id=later["alert_id"])
        dead = await net.events.wait("message.deadlettered", 4, country="RS")
        assert still_running(net)

    assert [e["rule"] for e in dead] == [
        "wrong-signer",
        "bad-signature",
        "bad-signature",
        "wrong-signer",
    ]
    received = [e["alert_id"] for e in net.events.named("alert.received")]
    assert received == [genuine["alert_id"], later["alert_id"]]
    assert not net.events.named("alert.revoked")
    assert not net.events.named("alert.rejected")


async def test_batch_signatures_hold_only_for_their_own_records(kafka_bootstrap, topics, tmp_path):
    """A batch-signed alert arrives; a borrowed, cut or tampered path, or MK's batch, is refused."""
    inbox = alerts_topic("RS", topics)
    first, second, third = alert(), alert(), alert()
    values = [codec.encode(REGISTRY, "Alert", record) for record in (first, second, third)]
    proofs = sign_batch(demo_key("GB"), values)
    by_mk = sign_batch(demo_key("MK"), values)
    assert all(len(proof) > 64 for proof in proofs)  # a real batch proof, not a plain signature
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        await net.consumer("RS")
        await write_as(kafka_bootstrap, inbox, values[1], writer="GB", signature=proofs[0])
        await write_as(kafka_bootstrap, inbox, values[1], writer="GB", signature=proofs[1][:-1])
        await write_as(
            kafka_bootstrap, inbox, values[1], writer="GB", signature=proofs[1], value=values[2]
        )
        await write_as(kafka_bootstrap, inbox, values[1], writer="MK", signature=by_mk[1])
        await write_as(kafka_bootstrap, inbox, values[0], writer="GB", signature=proofs[0])
        await write_as(kafka_bootstrap, inbox, values[2], writer="GB", signature=proofs[2])
        await net.events.wait("alert.received", 2, country="RS")
        dead = await net.events.wait("message.deadlettered", 4, country="RS")
        assert still_running(net)

    assert [e["rule"] for e in dead] == [
        "bad-signature",
        "bad-signature",
        "bad-signature",
        "wrong-signer",
    ]
    received = [e["alert_id"] for e in net.events.named("alert.received")]
    assert received == [first["alert_id"], third["alert_id"]]


async def test_forgeries_in_a_backlog_checked_by_the_helper_process_are_refused(
    kafka_bootstrap, topics, tmp_path
):
    """A backlog the helper process verifies ahead: its forgeries are refused by the same rules."""
    inbox = alerts_topic("RS", topics)
    genuine = alert()
    tampered = tampered_bytes(genuine)
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        gb = await net.publisher("GB")
        backlog = [alert() for _ in range(150)]
        for number, record in enumerate(backlog):
            await gb.publish(record)
            if number == 70:  # forgeries in the middle of a large poll
                await write_as(kafka_bootstrap, inbox, alert(), writer="MK")  # in GB's name
                await write_as(kafka_bootstrap, inbox, genuine, writer="GB", value=tampered)
        rs = await net.consumer("RS", crypto_helper=True)
        await net.events.wait("alert.received", len(backlog), country="RS")
        dead = await net.events.wait("message.deadlettered", 2, country="RS")
        assert still_running(net)
    assert [e["rule"] for e in dead] == ["wrong-signer", "bad-signature"]
    received = [e["alert_id"] for e in net.events.named("alert.received")]
    assert received == [record["alert_id"] for record in backlog]
    assert rs.handled == len(backlog) + 2
    (stopped,) = net.events.named("consumer.stopped")
    # The helper did check this backlog's signatures.
    assert stopped["verified_ahead"] >= 64


async def test_a_keyed_network_takes_its_own_keys_and_refuses_demo_ones(
    kafka_bootstrap, topics, tmp_path
):
    """With keys made by intelshare keys, GB's own key is taken and GB's demo key refused."""
    folder = tmp_path / "keys"
    made = CliRunner().invoke(app, ["keys", "--out", str(folder), "GB", "RS"])
    assert made.exit_code == 0, made.output
    network = tmp_path / "network.yaml"
    network.write_text(default_network_path().read_text() + "\nkeys: keys\n")
    inbox = alerts_topic("RS", topics)
    genuine = alert()
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        await net.consumer("RS", network_path=network, signing_key_file=folder / "RS.key")
        gb = await net.publisher("GB", network_path=network, signing_key_file=folder / "GB.key")
        await write_as(kafka_bootstrap, inbox, alert(), writer="GB")  # GB's demo key
        await gb.publish(genuine)
        await net.events.wait("alert.received", country="RS", alert_id=genuine["alert_id"])
        (dead,) = await net.events.wait("message.deadlettered", country="RS")
        assert still_running(net)

    assert dead["rule"] == "bad-signature"
    assert [e["alert_id"] for e in net.events.named("alert.received")] == [genuine["alert_id"]]
