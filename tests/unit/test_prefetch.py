"""The consumer's prefetch: polls in the background, holds a bounded amount, raises its errors."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import pytest
from aiokafka.errors import TopicAuthorizationFailedError
from aiokafka.structs import ConsumerRecord, TopicPartition

from intelshare.consumer.prefetch import Prefetch, fresh, proven
from intelshare.runtime.cryptohelper import MIN_RECORDS

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer

    from intelshare.consumer.transactions import Batch
    from intelshare.runtime.cryptohelper import CryptoHelper, Proven

INBOX = TopicPartition("intel.alerts.RS", 0)


def _records(*offsets: int) -> Batch:
    return {
        INBOX: [
            ConsumerRecord(
                topic=INBOX.topic,
                partition=0,
                offset=offset,
                timestamp=0,
                timestamp_type=0,
                key=None,
                value=b"",
                checksum=None,
                serialized_key_size=0,
                serialized_value_size=0,
                headers=(),
            )
            for offset in offsets
        ]
    }


@dataclass
class Scripted:
    """A consumer whose polls return the batches queued in ``fetched``, one per call."""

    fetched: asyncio.Queue[Batch | BaseException] = field(default_factory=asyncio.Queue)
    polls: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def until(self, polls: int) -> None:
        """Wait until ``polls`` polls have returned something."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.polls >= polls)

    async def getmany(self, *, timeout_ms: int, max_records: int) -> Batch:
        """The next scripted batch (or error), or nothing after ``timeout_ms``."""
        del max_records
        try:
            item = await asyncio.wait_for(self.fetched.get(), timeout_ms / 1000)
        except TimeoutError:
            return {}
        self.polls += 1
        async with self.changed:
            self.changed.notify_all()
        if isinstance(item, BaseException):
            raise item
        return item


def _prefetch(
    consumer: Scripted, *, revoked: list[int], max_records: int = 2, helper: object = None
) -> Prefetch:
    return Prefetch(
        cast("AIOKafkaConsumer", consumer),
        revocations=lambda: revoked[0],
        max_records=max_records,
        poll_ms=20,
        helper=cast("CryptoHelper | None", helper),
    )


class Stalled:
    """A crypto helper that never answers."""

    def prove(self, records: object) -> asyncio.Future[Proven]:
        """A proof that never comes."""
        del records
        return asyncio.get_running_loop().create_future()


async def test_records_are_taken_off_the_consumer_as_they_arrive() -> None:
    """Two polls made while the loop was busy come back together, in order."""
    consumer, revoked = Scripted(), [0]
    prefetch = _prefetch(consumer, revoked=revoked, max_records=10)
    prefetch.start()
    consumer.fetched.put_nowait(_records(1, 2))
    consumer.fetched.put_nowait(_records(3))
    await asyncio.wait_for(consumer.until(2), 1.0)
    await prefetch.wait(1.0)
    batch = fresh(prefetch.take(), revoked[0])
    assert [r.offset for r in batch[INBOX]] == [1, 2, 3]
    await prefetch.stop()


async def test_polling_pauses_when_twice_a_batch_is_held_until_taken() -> None:
    """A slow loop holds the fetcher back: no poll past the bound until the loop takes some."""
    consumer, revoked = Scripted(), [0]
    prefetch = _prefetch(consumer, revoked=revoked, max_records=2)
    prefetch.start()
    for offset in range(5):
        consumer.fetched.put_nowait(_records(offset * 2, offset * 2 + 1))
    await asyncio.sleep(0.1)
    assert consumer.polls == 2  # four records held: twice max_records
    assert len(fresh(prefetch.take(), 0)[INBOX]) == 4
    await asyncio.wait_for(consumer.until(4), 1.0)
    assert [r.offset for r in fresh(prefetch.take(), 0)[INBOX]] == [4, 5, 6, 7]
    await prefetch.stop()


async def test_a_poll_made_before_a_revocation_is_tagged_stale() -> None:
    """A poll that returned before the rebalance began is not handled after it."""
    consumer, revoked = Scripted(), [0]
    prefetch = _prefetch(consumer, revoked=revoked, max_records=10)
    prefetch.start()
    consumer.fetched.put_nowait(_records(1))
    await prefetch.wait(1.0)
    revoked[0] = 1
    consumer.fetched.put_nowait(_records(2))
    await asyncio.wait_for(consumer.until(2), 1.0)
    assert [r.offset for r in fresh(prefetch.take(), revoked[0])[INBOX]] == [2]
    await prefetch.stop()


async def test_the_pollers_error_reaches_the_loop() -> None:
    """A refused fetch (an ACL) is raised by wait, not lost in the background task."""
    consumer = Scripted()
    prefetch = _prefetch(consumer, revoked=[0])
    prefetch.start()
    consumer.fetched.put_nowait(TopicAuthorizationFailedError())
    with pytest.raises(TopicAuthorizationFailedError):
        await prefetch.wait(1.0)
    await prefetch.stop()


async def test_a_stalled_helper_delays_a_large_poll_only_by_the_limit() -> None:
    """No answer from the helper: the poll is taken after the limit, with nothing proven."""
    consumer = Scripted()
    prefetch = _prefetch(consumer, revoked=[0], max_records=MIN_RECORDS, helper=Stalled())
    prefetch.start()
    consumer.fetched.put_nowait(_records(*range(MIN_RECORDS)))
    await prefetch.wait(1.0)
    await asyncio.wait_for(prefetch.proofs(limit=0.05), 1.0)
    polls = prefetch.take()
    assert len(fresh(polls, 0)[INBOX]) == MIN_RECORDS
    assert proven(polls) == {}
    await prefetch.stop()


async def test_waiting_with_nothing_fetched_ends_after_the_timeout() -> None:
    """An idle inbox still lets the loop run its periodic checks."""
    prefetch = _prefetch(Scripted(), revoked=[0])
    prefetch.start()
    await asyncio.wait_for(prefetch.wait(0.05), 1.0)
    assert prefetch.take() == []
    await prefetch.stop()


async def test_gathering_ends_when_a_full_batch_is_held() -> None:
    """Records lingering for the next transaction go as soon as a full batch waits."""
    consumer = Scripted()
    prefetch = _prefetch(consumer, revoked=[0], max_records=3)
    prefetch.start()
    consumer.fetched.put_nowait(_records(1))
    await prefetch.wait(1.0)
    assert prefetch.held == 1
    gathering = asyncio.ensure_future(prefetch.gather(30.0, asyncio.Event()))
    await asyncio.sleep(0.05)
    assert not gathering.done()  # one record of three: it still lingers
    consumer.fetched.put_nowait(_records(2, 3))
    await asyncio.wait_for(gathering, 1.0)
    assert [r.offset for r in fresh(prefetch.take(), 0)[INBOX]] == [1, 2, 3]
    assert prefetch.held == 0
    await prefetch.stop()


async def test_gathering_ends_at_its_time_or_when_the_consumer_stops() -> None:
    """A quiet inbox lingers no longer than asked, and a stop is not held up by it."""
    prefetch = _prefetch(Scripted(), revoked=[0], max_records=10)
    prefetch.start()
    await asyncio.wait_for(prefetch.gather(0.05, asyncio.Event()), 1.0)
    stop = asyncio.Event()
    gathering = asyncio.ensure_future(prefetch.gather(30.0, stop))
    await asyncio.sleep(0.05)
    assert not gathering.done()
    stop.set()
    await asyncio.wait_for(gathering, 1.0)
    await prefetch.stop()


async def test_wait_before_start_is_a_programming_error() -> None:
    """The loop must start the prefetch first."""
    with pytest.raises(RuntimeError, match="not started"):
        await _prefetch(Scripted(), revoked=[0]).wait(0.01)
