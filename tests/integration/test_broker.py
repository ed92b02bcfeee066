"""The test broker itself: topics made under a prefix, a round trip, no topic made by accident."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaTimeoutError, UnknownTopicOrPartitionError

from intelshare.network.model import alerts_topic, default_network

pytestmark = pytest.mark.kafka


async def list_topics(bootstrap: str) -> list[str]:
    """Every topic name on the broker."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return await admin.list_topics()
    finally:
        await admin.close()


async def test_network_topics_are_made_under_the_prefix(
    kafka_bootstrap: str, topic_prefix: str, create_topics
) -> None:
    """create_topics() makes every topic of the default network, each name under the prefix."""
    made = await create_topics()

    assert set(made) == set(default_network().all_topics(topic_prefix))
    assert all(name.startswith(topic_prefix) for name in made)
    # The broker answers a creation before its metadata lists the topics: ask until it does.
    listed: set[str] = set()
    for _ in range(60):
        listed = set(await list_topics(kafka_bootstrap))
        if set(made) <= listed:
            break
        await asyncio.sleep(0.5)
    assert set(made) <= listed


async def test_a_message_goes_round_trip(
    kafka_bootstrap: str, topic_prefix: str, create_topics
) -> None:
    """A record sent with key and headers by an idempotent producer is read back unchanged."""
    (topic,) = await create_topics(alerts_topic("RS"))
    assert topic == alerts_topic("RS", topic_prefix)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topic, b"payload", key=b"case-1", headers=[("originator", b"GB")]
        )
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"{topic_prefix}group",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        received = await consumer.getone()
    finally:
        await consumer.stop()

    assert (received.offset, received.key, received.value) == (sent.offset, b"case-1", b"payload")
    assert list(received.headers) == [("originator", b"GB")]


async def test_sending_to_a_missing_topic_does_not_create_it(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """With auto topic creation off, a send to an unknown topic fails and makes no topic."""
    missing = f"{topic_prefix}no-such-topic"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, request_timeout_ms=2_000)
    await producer.start()
    try:
        with pytest.raises((UnknownTopicOrPartitionError, KafkaTimeoutError)):
            await producer.send_and_wait(missing, b"lost")
    finally:
        await producer.stop()

    assert missing not in await list_topics(kafka_bootstrap)
