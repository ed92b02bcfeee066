"""Many records handed to a producer as record batches: one future per batch, not per record.

aiokafka's ``send`` costs ~13 µs of CPU per record (a future, a metadata wait, the
partitioner and the accumulator's bookkeeping); appending the same record to a
``BatchBuilder`` and handing the builder over with ``send_batch`` costs ~1 µs (measured on
the machine of the README's benchmarks). A consumer's transaction writes a receipt and a
state entry per alert, all at once, so it writes them this way (:func:`append`); a producer
reading alerts as fast as they are acknowledged enqueues them one at a time, and a
:class:`Gatherer` appends what one turn of the event loop enqueued. A write its caller waits
for on its own goes out with ``send`` (:func:`send_each`), which adds the least wait.

The records land exactly as ``send`` would place them: the same partition for the same key
(Kafka's murmur2, :func:`~intelshare.runtime.kafka.partition_for`), in the order given within
each partition (one partition's builders are handed over one after the other, and the
idempotent producer keeps their order), inside the producer's open transaction if it has one.
A record larger than the producer's request limit is refused before anything is appended,
as ``send`` refuses it.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiokafka.errors import KafkaError, MessageSizeTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from intelshare.runtime.kafka import MAX_REQUEST_SIZE, partition_for
from intelshare.valuetype import value_type

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from aiokafka import AIOKafkaProducer
    from aiokafka.producer.message_accumulator import BatchBuilder
    from aiokafka.structs import RecordMetadata

    from intelshare.contract.headers import Headers


@value_type(kw_only=False)
class OutRecord:
    """One record to write."""

    topic: str
    """Where it goes."""
    key: bytes
    """Its key (the partition follows from it)."""
    value: bytes
    """Its value."""
    headers: Headers
    """Its headers."""
    sign: bool = False
    """To be signed by its writer before it is appended (see ``Outbox.record``)."""


@value_type(kw_only=False)
class Ack:
    """Where one record's acknowledgement comes from: its batch's future and its place there."""

    topic: str
    """The record's topic (named when its write fails)."""
    future: asyncio.Future[RecordMetadata]
    """Resolves once the broker acknowledged the record: with the first offset of its batch
    (``index`` set), or with the record's own (``index`` None: sent by :func:`send_each`)."""
    index: int | None = None
    """The record's place in its batch."""

    async def metadata(self) -> RecordMetadata:
        """Where the record landed, once acknowledged.

        Raises:
            KafkaError: the broker did not acknowledge it.
        """
        landed = await self.future
        if self.index is None:
            return landed
        return landed._replace(offset=landed.offset + self.index)


class AppendFailed(Exception):
    """A record could not be appended; ``error`` says why, ``topic`` where it was going."""

    def __init__(self, topic: str, error: KafkaError) -> None:
        """Wrap ``error``, met while appending to ``topic``."""
        super().__init__(f"{topic}: {error}")
        self.topic = topic
        self.error = error


async def append(
    producer: AIOKafkaProducer,
    records: Sequence[OutRecord],
    *,
    max_request_size: int = MAX_REQUEST_SIZE,
) -> list[Ack]:
    """Hand ``records`` to ``producer``, one builder per partition; each record's :class:`Ack`.

    Raises:
        AppendFailed: a record is too large, or the producer refused a topic or a batch.
    """
    partitions: dict[str, list[int]] = {}
    builders: list[tuple[BatchBuilder, str, int]] = []
    open_builder: dict[tuple[str, int], int] = {}
    places: list[tuple[int, int]] = []
    for record in records:
        topic, key, value, headers = record.topic, record.key, record.value, record.headers
        if topic not in partitions:
            try:
                partitions[topic] = sorted(await producer.partitions_for(topic))
            except KafkaError as error:
                raise AppendFailed(topic, error) from error
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
        if size > max_request_size:
            too_large = MessageSizeTooLargeError(
                f"the record is {size} bytes, more than the request limit {max_request_size}"
            )
            raise AppendFailed(topic, too_large)
        where = (topic, partition_for(key, partitions[topic]))
        number = open_builder.get(where, -1)
        metadata = None
        if number >= 0:
            metadata = builders[number][0].append(
                timestamp=None, key=key, value=value, headers=headers
            )
        if metadata is None:
            # The first record or the partition's builder is full: start another (a builder
            # always takes its first record).
            builder = producer.create_batch()
            number = open_builder[where] = len(builders)
            builders.append((builder, *where))
            metadata = builder.append(timestamp=None, key=key, value=value, headers=headers)
        places.append((number, metadata.offset))
    futures: list[asyncio.Future[RecordMetadata]] = []
    for builder, topic, partition in builders:
        builder.close()  # complete: the sender takes it at once, no lingering for more
        try:
            futures.append(await producer.send_batch(builder, topic, partition=partition))
        except KafkaError as error:
            raise AppendFailed(topic, error) from error
    return [Ack(builders[number][1], futures[number], index) for number, index in places]


async def send_each(producer: AIOKafkaProducer, records: Sequence[OutRecord]) -> list[Ack]:
    """Hand ``records`` to ``producer`` with one ``send`` each; each record's :class:`Ack`.

    Each joins its partition's open batch, which lingers for the next and goes out as soon as
    the partition is free: the least wait for a write on its own (a single alert, receipt or
    consent), at ~13 µs of CPU a record where :func:`append` costs ~1.

    Raises:
        AppendFailed: the producer refused a record.
    """
    acks = []
    for record in records:
        try:
            future = await producer.send(
                record.topic, record.value, key=record.key, headers=record.headers
            )
        except KafkaError as error:
            raise AppendFailed(record.topic, error) from error
        acks.append(Ack(record.topic, future))
    return acks


class Gatherer:
    """Gathers records enqueued one at a time into batches, for a bulk stream of writes.

    A producer reading alerts as fast as they are acknowledged enqueues them one at a time;
    one :func:`append` each would make a batch of every alert, and a partition takes a new
    batch only once the one before it left for the broker. Records added during one turn of
    the event loop are appended together at its end instead, and while an append waits for
    the broker, what comes meanwhile gathers for the next. One append at a time, in the order
    records came, so their order holds.

    The price is latency: a record that comes while its partition's batch waits for the
    broker goes out one request later than ``send`` would send it. Where a writer waits for
    each write (a replay's window of steps, a steady rate), :func:`send_each` is the better
    choice: a replay of 20,000 alerts took 75-86 s gathered against 64 s with ``send``.
    """

    def __init__(
        self,
        producer: AIOKafkaProducer,
        prepare: Callable[[list[OutRecord]], list[OutRecord]] | None = None,
    ) -> None:
        """Gather for ``producer``; ``prepare`` finishes each gathering's records (signs them)."""
        self.producer = producer
        """Where the records go."""
        self._prepare = prepare
        self._records: list[OutRecord] = []
        self._gathering: asyncio.Future[list[Ack]] | None = None
        self._worker: asyncio.Task[None] | None = None

    def add(self, records: Sequence[OutRecord]) -> list[Later]:
        """Take ``records`` for the next append; where each one's ack will come from."""
        if self._gathering is None:
            loop = asyncio.get_running_loop()
            self._gathering = loop.create_future()
            if self._worker is None:
                loop.call_soon(self._start)
        first = len(self._records)
        self._records.extend(records)
        return [Later(r.topic, self._gathering, first + n) for n, r in enumerate(records)]

    def _start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.ensure_future(self._work())

    async def _work(self) -> None:
        try:
            while self._gathering is not None:
                records, gathering = self._records, self._gathering
                self._records, self._gathering = [], None
                try:
                    if self._prepare is not None:
                        records = self._prepare(records)
                    gathering.set_result(await append(self.producer, records))
                except asyncio.CancelledError as error:
                    gathering.set_exception(error)
                    raise
                except Exception as error:  # noqa: BLE001 - every waiter must hear of any failure
                    gathering.set_exception(error)
        finally:
            self._worker = None


@value_type(kw_only=False)
class Later:
    """A record's acknowledgement once its turn's records are appended (:class:`Gatherer`)."""

    topic: str
    """The record's topic (named when its write fails)."""
    turn: asyncio.Future[list[Ack]]
    """Resolves with the acks of the turn's records once they are appended."""
    index: int
    """The record's place among them."""

    async def metadata(self) -> RecordMetadata:
        """Where the record landed, once acknowledged.

        Raises:
            AppendFailed: the turn's records could not be appended.
            KafkaError: the broker did not acknowledge the record.
        """
        acks = await self.turn
        return await acks[self.index].metadata()
