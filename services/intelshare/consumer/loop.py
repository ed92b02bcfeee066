"""The receiving side: one country's consumer service.

It reads the country's inbox (Alert, ConsentGrant) and receipts topic (Receipt,
ConsentRequest) in one consumer group, decodes each message, dispatches it by schema, logs
one structured event per thing that happened, answers alerts with receipts, and commits
offsets only once a batch is handled and every write it caused is acknowledged
(at-least-once). A message that cannot be decoded or does not belong on the topic goes to
the dead-letter topic with the error and its original bytes, and the consumer carries on.

Order per batch, chosen so a crash anywhere repeats work rather than loses it:
log the event -> write receipts and dead letters (acknowledged) -> write state entries
(acknowledged) -> commit offsets. See :mod:`intelshare.consumer.inbox` for duplicate suppression.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from aiokafka import ConsumerRebalanceListener
from aiokafka.errors import KafkaError

from intelshare.consumer.handlers import Handlers
from intelshare.consumer.inbox import read_history
from intelshare.errors import IntelshareError
from intelshare.network.model import alerts_topic, audit_topic, receipts_topic
from intelshare.producer.outbox import Outbox
from intelshare.runtime.audit import AuditMirror
from intelshare.runtime.eventlog import EventLog
from intelshare.runtime.kafka import connect, make_consumer, make_producer
from intelshare.runtime.lifecycle import Service
from intelshare.state.store import StateStore

if TYPE_CHECKING:
    from collections.abc import Callable

    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

    from intelshare.network.model import Network
    from intelshare.runtime.settings import Settings
    from intelshare.state.entries import CountryState

OVERDUE_EVERY: Final = 1.0
"""Seconds between checks for overdue receipts."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _CatchUp(ConsumerRebalanceListener):  # type: ignore[misc] # aiokafka is untyped
    """After a rebalance, read the state topic to its end before handling new partitions."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def on_partitions_revoked(self, revoked: object) -> None:
        del revoked  # offsets are committed after every batch; nothing is pending here

    async def on_partitions_assigned(self, assigned: object) -> None:
        del assigned
        await self._store.catch_up()


class Consumer(Service):
    """One country's consumer service: ``async with Consumer(settings) as c: await c.run(stop)``.

    ``log`` lets a caller (the demo) choose where events go; otherwise they go to
    ``settings.log_file`` or standard output. Audit events are mirrored to the audit topic
    unless ``settings.audit`` is off or the log already mirrors somewhere.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        network: Network | None = None,
        log: EventLog | None = None,
        clock: Callable[[], datetime] = _utcnow,
        max_records: int = 500,
        poll_ms: int = 250,
    ) -> None:
        """Prepare (nothing connects until :meth:`start`)."""
        super().__init__()
        self.settings = settings
        self.country, self.network = settings.country_network(network)
        self.stop_timeout = settings.stop_timeout
        self.inbox = alerts_topic(self.country, settings.topic_prefix)
        self.receipts = receipts_topic(self.country, settings.topic_prefix)
        self._clock = clock
        self._max_records = max_records
        self._poll_ms = poll_ms
        self._owns_log = log is None
        self.log = log or EventLog(
            service="consumer",
            country=self.country,
            fmt=settings.log_format,
            path=settings.log_file,
        )
        self.store = StateStore(settings, log=self.log)
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._audit: AuditMirror | None = None
        self._outbox: Outbox | None = None
        self._handlers: Handlers | None = None
        self._next_overdue = 0.0
        self._commit_task: asyncio.Task[None] | None = None
        self.handled = 0
        """Messages handled since start."""

    @property
    def state(self) -> CountryState:
        """What this country knows: alerts received, copies sent, receipts, consents."""
        return self.store.state

    async def _start(self) -> None:
        self._producer = await connect(
            # Receipts, state and dead letters of a batch are enqueued together: no linger.
            lambda: make_producer(self.settings, "consumer", linger_ms=0),
            what="consumer's producer",
            settings=self.settings,
            log=self.log,
        )
        if self.settings.audit and not self.log.has_sink:
            self._audit = AuditMirror(self._producer, audit_topic(self.settings.topic_prefix))
            self._audit.start()
            self.log.attach_sink(self._audit)
        self._outbox = Outbox(
            country=self.country,
            network=self.network,
            topic_prefix=self.settings.topic_prefix,
            log=self.log,
            producer=self._producer,
            clock=self._clock,
        )
        await self.store.start()
        self._handlers = Handlers(
            country=self.country,
            network=self.network,
            log=self.log,
            state=self.store.state,
            history=read_history(self.log.path, self.country, self.settings.topic_prefix),
            outbox=self._outbox,
            clock=self._clock,
            clock_skew=timedelta(seconds=self.settings.clock_skew),
        )
        self._consumer = await connect(
            lambda: make_consumer(self.settings, "consumer", group_id=self.settings.consumer_group),
            what="consumer",
            settings=self.settings,
            log=self.log,
        )
        missing = {self.inbox, self.receipts} - await self._consumer.topics()
        if missing:
            raise IntelshareError(
                f"topics {', '.join(sorted(missing))} do not exist at {self.settings.bootstrap}; "
                "create the network's topics first (intelshare topics)"
            )
        self._consumer.subscribe([self.inbox, self.receipts], listener=_CatchUp(self.store))
        self.log.info(
            "consumer.started",
            topics=[self.inbox, self.receipts],
            group=self.settings.consumer_group,
            state_entries=self.store.loaded,
            logged_alerts=len(self._handlers.history.handled),
        )

    async def _stop(self) -> None:
        try:
            await self._committed()
            if self._consumer is not None:
                await self._consumer.stop()
            await self.store.stop()
            if self._audit is not None:
                self.log.attach_sink(None)
                await self._audit.stop()
            if self._producer is not None:
                await self._producer.stop()
            if self._handlers is not None and self._consumer is not None:
                self.log.info("consumer.stopped", handled=self.handled)
        finally:
            if self._owns_log:
                self.log.close()

    async def run(self, stop: asyncio.Event) -> None:
        """Handle messages until ``stop`` is set; the message in hand is finished first.

        Raises:
            BrokerUnavailable: a write was not acknowledged (nothing of the batch is
                committed, so a restart handles it again).
        """
        consumer, handlers = self._require()
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=self._poll_ms, max_records=self._max_records)
            await self.store.poll()
            done: dict[TopicPartition, int] = {}
            for tp, records in batch.items():
                kind = "inbox" if tp.topic == self.inbox else "receipts"
                for record in records:
                    await handlers.handle(record, kind)
                    done[tp] = record.offset + 1
                    self.handled += 1
                    if stop.is_set():
                        break  # the message in hand is finished; the rest is redelivered
                if stop.is_set():
                    break
            if time.monotonic() >= self._next_overdue:
                handlers.check_overdue()
                self._next_overdue = time.monotonic() + OVERDUE_EVERY
            await self.settle()
            if done:
                # The commit runs while the next batch is fetched and handled; the one before
                # it must have finished, so commits never overtake each other.
                await self._committed()
                self._commit_task = asyncio.create_task(self._commit(done))
        await self._committed()

    async def _committed(self) -> None:
        if self._commit_task is not None:
            task, self._commit_task = self._commit_task, None
            await task

    async def settle(self) -> None:
        """Write what the handled messages caused and wait for every acknowledgement."""
        _, handlers = self._require()
        await handlers.settle()

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        consumer, _ = self._require()
        try:
            await consumer.commit(offsets)
        except KafkaError as error:
            # Not committed means redelivered after a rebalance: duplicates, never loss.
            self.log.warning("commit.failed", error=str(error) or type(error).__name__)

    def _require(self) -> tuple[AIOKafkaConsumer, Handlers]:
        if self._consumer is None or self._handlers is None:
            raise RuntimeError("Consumer is not started")
        return self._consumer, self._handlers
