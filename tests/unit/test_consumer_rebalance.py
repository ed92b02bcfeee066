"""A batch polled before a rebalance is never handled after it (the consumer's side of it)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from aiokafka.structs import ConsumerRecord, TopicPartition

from intelshare.consumer.loop import _CatchUp, _current
from intelshare.consumer.prefetch import Poll, fresh

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer

    from intelshare.consumer.loop import Consumer
    from intelshare.consumer.transactions import Batch

INBOX = TopicPartition("intel.alerts.RS", 0)
RECEIPTS = TopicPartition("intel.receipts.RS", 1)


@dataclass
class Assigned:
    """Just what ``_current`` asks of aiokafka's consumer: the partitions assigned now."""

    partitions: set[TopicPartition]

    def assignment(self) -> set[TopicPartition]:
        """The current assignment."""
        return self.partitions


@dataclass
class Rebalanced:
    """Just what the rebalance listener touches on the consumer service."""

    batch_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    revocations: int = 0
    quieted: int = 0

    async def quiet(self) -> None:
        """Note that the listener waited for the transactions in flight."""
        self.quieted += 1


def _batch(*partitions: TopicPartition) -> Batch:
    record = ConsumerRecord(
        topic="t", partition=0, offset=7, timestamp=0, timestamp_type=0, key=None,
        value=b"", checksum=None, serialized_key_size=0, serialized_value_size=0, headers=(),
    )  # fmt: skip
    return {tp: [record] for tp in partitions}


def _consumer(*partitions: TopicPartition) -> AIOKafkaConsumer:
    return cast("AIOKafkaConsumer", Assigned(set(partitions)))


def test_a_poll_made_before_a_revocation_is_dropped_whole() -> None:
    """Stale, nothing of the poll is handled, even from partitions assigned again."""
    stale, current = Poll(_batch(INBOX, RECEIPTS), 0), Poll(_batch(RECEIPTS), 1)
    assert fresh([stale], revocations=1) == {}
    assert fresh([stale, current], revocations=1) == current.batch


def test_polls_since_the_revocation_merge_in_order_per_partition() -> None:
    """Two polls of one partition become one list, the older records first."""
    first, second = _batch(INBOX), _batch(INBOX, RECEIPTS)
    merged = fresh([Poll(first, 2), Poll(second, 2)], revocations=2)
    assert merged == {INBOX: first[INBOX] + second[INBOX], RECEIPTS: second[RECEIPTS]}
    assert first[INBOX] == [first[INBOX][0]]  # the polls themselves are left as they were


def test_a_current_batch_keeps_only_partitions_still_assigned() -> None:
    """The records of partitions still assigned are handled, the others left."""
    batch = _batch(INBOX, RECEIPTS)
    assert _current(_consumer(INBOX), batch) == {INBOX: batch[INBOX]}
    assert _current(_consumer(INBOX, RECEIPTS), batch) is batch


async def test_the_revocation_is_counted_before_the_batch_in_hand_finishes() -> None:
    """The loop, still holding the batch lock, already sees the revocation it must not outlive."""
    service = Rebalanced()
    listener = _CatchUp(cast("Consumer", service))
    await service.batch_lock.acquire()
    revoking = asyncio.create_task(listener.on_partitions_revoked(set()))
    await asyncio.sleep(0)
    assert service.revocations == 1
    assert service.quieted == 0  # still waiting for the batch in hand
    service.batch_lock.release()
    await revoking
    assert service.quieted == 1
