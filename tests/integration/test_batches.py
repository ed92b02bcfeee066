"""Records handed over a batch at a time land where, and as, ``send`` would put them."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.structs import TopicPartition

from intelshare.runtime.batches import AppendFailed, Gatherer, OutRecord, append
from intelshare.runtime.kafka import KeyPartitioner

pytestmark = pytest.mark.kafka


async def read_all(bootstrap: str, topic: str, count: int) -> list[tuple[int, int, bytes, bytes]]:
    """The first ``count`` committed records of ``topic``: partition, offset, key, value."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    found: list[tuple[int, int, bytes, bytes]] = []
    try:
        while len(found) < count:
            batch = await consumer.getmany(timeout_ms=10_000)
            assert batch, f"only {len(found)} of {count} records arrived"
            for records in batch.values():
                found += [(r.partition, r.offset, r.key, r.value) for r in records]  # type: ignore[misc]
    finally:
        await consumer.stop()
    return found


async def test_batched_records_land_by_key_in_order_inside_a_transaction(
    kafka_bootstrap: str, create_topics
) -> None:
    """Each record lands in its key's partition, in order, at the offset its Ack reports."""
    (topic,) = await create_topics("batches", partitions=3)
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap,
        enable_idempotence=True,
        acks="all",
        transactional_id=f"{topic}.txn",
        max_batch_size=4096,  # small builders: one partition's records span several
    )
    await producer.start()
    records = [
        OutRecord(topic, f"case-{n % 7}".encode(), f"value-{n}".encode() * 20, [("n", b"%d" % n)])
        for n in range(300)
    ]
    try:
        await producer.begin_transaction()
        acks = await append(producer, records)
        landed = [await ack.metadata() for ack in acks]
        await producer.commit_transaction()
    finally:
        await producer.stop()

    partitions = sorted({m.partition for m in landed})
    assert partitions == [0, 1, 2]
    expected = KeyPartitioner()
    for record, metadata in zip(records, landed, strict=True):
        assert metadata.partition == expected(record.key, [0, 1, 2], [0, 1, 2])
    read = await read_all(kafka_bootstrap, topic, len(records))
    where = {(p, o): (k, v) for p, o, k, v in read}
    for record, metadata in zip(records, landed, strict=True):
        assert where[(metadata.partition, metadata.offset)] == (record.key, record.value)
    for partition in partitions:
        values = [v for p, _, _, v in sorted(read) if p == partition]
        sent = zip(records, landed, strict=True)
        assert values == [r.value for r, m in sent if m.partition == partition]


async def test_a_record_beyond_the_request_limit_is_refused_before_anything_is_sent(
    kafka_bootstrap: str, create_topics
) -> None:
    """A too-large record fails the whole append with the client's own size error."""
    (topic,) = await create_topics("batches-large")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        with pytest.raises(AppendFailed) as refused:
            await append(
                producer,
                [OutRecord(topic, b"k", b"small", []), OutRecord(topic, b"k", b"x" * 2048, [])],
                max_request_size=1024,
            )
    finally:
        await producer.stop()

    assert refused.value.topic == topic
    assert isinstance(refused.value.error, MessageSizeTooLargeError)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    await consumer.start()
    try:
        (end,) = (await consumer.end_offsets([TopicPartition(topic, 0)])).values()
    finally:
        await consumer.stop()
    assert end == 0


async def test_records_gathered_one_turn_at_a_time_keep_their_order_and_share_batches(
    kafka_bootstrap: str, create_topics
) -> None:
    """A stream of single records, one per turn, lands in order, many to a batch."""
    (topic,) = await create_topics("batches-gathered", partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    gatherer = Gatherer(producer)
    records = [OutRecord(topic, f"case-{n % 5}".encode(), b"%d" % n, []) for n in range(400)]
    try:
        laters = []
        for record in records:
            laters += gatherer.add([record])
            await asyncio.sleep(0)  # one record per turn of the event loop
        landed = [await later.metadata() for later in laters]
    finally:
        await producer.stop()

    appends = {id(later.turn) for later in laters}
    assert 1 < len(appends) < len(records) // 4  # records waited together for the broker
    read = await read_all(kafka_bootstrap, topic, len(records))
    assert sorted((p, o) for p, o, _, _ in read) == sorted((m.partition, m.offset) for m in landed)
    for partition in range(3):
        values = [int(v) for p, _, _, v in sorted(read) if p == partition]
        assert values == sorted(values)
