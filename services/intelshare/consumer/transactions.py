"""One Kafka transaction per batch, the next batch handled while the previous one commits.

A batch is handled in memory first: verdicts, receipts to write, state entries, its log
lines (held back) and the offsets it consumed. Only then does it need the producer, and the
producer allows one open transaction at a time, so the batch waits for the one before it to
commit, and its own transaction (begin, the writes, the consumed offsets, commit) runs in
the background while the consumer polls and handles the next batch. Transactions still
commit one after the other, in the order the batches were polled; a batch's lines are
written only once its own transaction committed.

A failed transaction is aborted, its lines dropped, and the failure raised to the consumer
at its next batch (or when it stops): the process ends, so what the next batch handled in
memory (and the state it changed) goes with it, and a restart handles both again.

Handlers of consent messages write, and wait for acknowledgements, while they run
(:data:`~intelshare.consumer.handlers.WRITES_AT_ONCE`): such a message is handled only once
the batch before it committed, inside a transaction begun for it. What came before it in
the same poll commits first, on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from intelshare.consumer.handlers import WRITES_AT_ONCE, Effects
from intelshare.errors import BrokerUnavailable, IntelshareError

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer
    from aiokafka.structs import ConsumerRecord

    from intelshare.consumer.handlers import Handlers, Message
    from intelshare.runtime.eventlog import EventLog, Held

YIELD_EVERY: Final = 8
"""Messages handled between two turns of the event loop (see :meth:`Transactions._handle`)."""

Batch = dict[TopicPartition, list["ConsumerRecord[bytes, bytes]"]]
"""What one poll returned: records per partition."""


@dataclass(kw_only=True, slots=True)
class Handled:
    """Part of a batch handled in memory, waiting for its transaction."""

    events: Held = field(default_factory=list)
    """Its log lines, written once the transaction committed."""
    effects: Effects = field(default_factory=Effects)
    """The records and state entries it writes."""
    offsets: dict[TopicPartition, int] = field(default_factory=dict)
    """The next offset to consume, per partition it read."""
    count: int = 0
    """Messages handled."""
    begun: bool = False
    """Its transaction was begun before it was handled (its handlers wrote at once)."""

    @property
    def empty(self) -> bool:
        """Nothing to commit and nothing to log."""
        return not (self.count or self.events or self.effects.writes or self.effects.state_entries)


class Transactions:
    """Handles batches and commits each in a transaction of its own, one after the other."""

    def __init__(
        self,
        *,
        producer: AIOKafkaProducer,
        handlers: Handlers,
        log: EventLog,
        group: str,
        inbox: str,
    ) -> None:
        """Write through ``producer`` (transactional), committing offsets for ``group``."""
        self._producer = producer
        self._handlers = handlers
        self._log = log
        self._group = group
        self._inbox = inbox
        self._committing: asyncio.Task[None] | None = None
        self.handled = 0
        """Messages handled and committed."""
        self.began = 0.0
        """Monotonic time the latest batch's transaction was begun (0: none yet)."""

    async def take(self, batch: Batch, stop: asyncio.Event, *, overdue: bool) -> None:
        """Handle ``batch``; its transaction commits in the background (see :meth:`settled`).

        ``overdue``: also check for overdue receipts. Once ``stop`` is set the message in
        hand is finished and the rest left to be delivered again.

        Raises:
            BrokerUnavailable: the previous batch's transaction did not commit.
        """
        kinds = {tp: "inbox" if tp.topic == self._inbox else "receipts" for tp in batch}
        records = deque((kinds[tp], tp, record) for tp, part in batch.items() for record in part)
        carried: Message | None = None
        while True:
            handled = Handled()
            try:
                with self._log.holding(handled.events):
                    carried = await self._handle(records, handled, carried, stop)
                    if overdue and not records:
                        self._handlers.check_overdue()
            except BaseException as error:
                # Nothing of this part is written; the batch before it may still commit.
                self._handlers.take()
                if handled.begun:
                    await self._abort()
                with contextlib.suppress(Exception):
                    await self.settled()
                if isinstance(error, KafkaError):
                    raise _unavailable(error) from error
                raise
            handled.effects = self._handlers.take()
            if not handled.empty:
                await self.settled()
                self.began = time.monotonic()
                self._committing = asyncio.create_task(self._commit(handled), name="commit")
            if not records:
                return

    async def _handle(
        self,
        records: deque[tuple[str, TopicPartition, ConsumerRecord[bytes, bytes]]],
        handled: Handled,
        carried: Message | None,
        stop: asyncio.Event,
    ) -> Message | None:
        """Handle records in order into ``handled``, taking each off ``records``.

        A message that must write at once is handled in a transaction begun for it; when
        something came before it, it is returned (checked) instead, for the next part.
        """
        handlers = self._handlers
        while records:
            kind, tp, record = records[0]
            message = carried if carried is not None else handlers.check(record, kind)
            carried = None
            writes = message is not None and message.decoded.name in WRITES_AT_ONCE
            if writes and not handled.begun:
                if handled.count:
                    return message  # what came before commits first, on its own
                await self.settled()
                await self._producer.begin_transaction()
                handled.begun = True
            if message is not None:
                await handlers.act(message, record, kind)
            records.popleft()
            handled.offsets[tp] = record.offset + 1
            handled.count += 1
            if stop.is_set():
                records.clear()  # the message in hand is finished; the rest is redelivered
            elif not handled.count % YIELD_EVERY:
                # Handling never waits on its own: let the batch before it commit meanwhile.
                await asyncio.sleep(0)
        return None

    async def _commit(self, handled: Handled) -> None:
        """Write, commit with the consumed offsets, then log; abort on any failure."""
        producer = self._producer
        offsets: asyncio.Future[None] | None = None
        try:
            if not handled.begun:
                await producer.begin_transaction()
            acks = await self._handlers.write(handled.effects)
            if handled.offsets:
                # Adding the offsets goes to the coordinator while the records are written:
                # nothing commits before every acknowledgement is in (or the abort below).
                offsets = asyncio.ensure_future(
                    producer.send_offsets_to_transaction(handled.offsets, self._group)
                )
            written = await self._handlers.outbox.confirmed(acks)
            with self._log.holding(handled.events):
                self._handlers.written(handled.effects, written)
            if offsets is not None:
                await offsets
            await producer.commit_transaction()
        except BaseException as error:
            # Nothing of this batch is committed: its lines must not be written either.
            handled.events.clear()
            if offsets is not None:
                offsets.cancel()
                with contextlib.suppress(BaseException):
                    await offsets
            await self._abort()
            if isinstance(error, KafkaError):
                raise _unavailable(error) from error
            raise
        self.handled += handled.count
        self._log.write(handled.events)

    async def _abort(self) -> None:
        with contextlib.suppress(KafkaError, RuntimeError, IntelshareError):
            await asyncio.shield(self._producer.abort_transaction())

    async def settled(self) -> None:
        """Wait until the batch in flight has committed and its lines are written.

        Raises:
            BrokerUnavailable: its transaction did not commit (it was aborted).
        """
        task = self._committing
        if task is None:
            return
        try:
            await task
        finally:
            # Cleared only once done: a rebalance meanwhile must still see it (quiet()).
            if self._committing is task:
                self._committing = None

    async def quiet(self) -> None:
        """Wait until no transaction is in flight, leaving its failure to :meth:`settled`."""
        if self._committing is not None:
            await asyncio.wait([self._committing])


def _unavailable(error: KafkaError) -> BrokerUnavailable:
    """The broker's failure as the consumer reports it."""
    return BrokerUnavailable(
        f"the batch's transaction did not commit: {str(error) or type(error).__name__}"
    )
