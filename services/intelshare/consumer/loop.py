"""The receiving side: one country's consumer service.

It reads the country's inbox (Alert, ConsentGrant) and receipts topic (Receipt,
ConsentRequest) in one consumer group, decodes each message, dispatches it through the
handlers' table, answers alerts with receipts, and logs one structured event per thing that
happened. A message that cannot be decoded or does not belong on the topic goes to the
dead-letter topic with the error, and the consumer carries on.

One Kafka transaction per batch: the receipts, consent answers, onward copies, dead letters
and state entries the batch caused, and the batch's consumed offsets
(``send_offsets_to_transaction``), commit together or not at all, while the next batch is
handled (:mod:`intelshare.consumer.transactions`). Events are held back until the batch's
transaction committed and only then written to the log; an aborted batch
(a crash, an unreachable broker) leaves no line, no record a ``read_committed`` reader sees
and no committed offset, so it is handled again from scratch. Hence exactly one
``alert.received`` per alert revision per country, whatever the process or its log file
went through, except where the process dies between the commit and writing the lines (they
are then missing, never doubled). The README's "Exactly once" section says more.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from aiokafka import ConsumerRebalanceListener

from intelshare.consumer.handlers import Handlers
from intelshare.consumer.prefetch import Prefetch, fresh, proven
from intelshare.consumer.transactions import Transactions
from intelshare.errors import IntelshareError
from intelshare.network.model import (
    alerts_topic,
    audit_topic,
    deadletter_topic,
    receipts_topic,
)
from intelshare.producer.outbox import Outbox
from intelshare.runtime.audit import AuditMirror
from intelshare.runtime.cryptohelper import CryptoHelper
from intelshare.runtime.eventlog import EventLog
from intelshare.runtime.kafka import MAX_REQUEST_SIZE, connect, make_consumer, make_producer
from intelshare.runtime.lifecycle import Service
from intelshare.runtime.topics import max_message_bytes
from intelshare.state.reader import StateReader

if TYPE_CHECKING:
    from collections.abc import Callable

    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    from intelshare.consumer.transactions import Batch
    from intelshare.network.model import Network
    from intelshare.runtime.settings import Settings
    from intelshare.state.entries import CountryState

OVERDUE_EVERY: Final = 1.0
"""Seconds between checks for overdue receipts."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _CatchUp(ConsumerRebalanceListener):  # type: ignore[misc] # aiokafka is untyped
    """Around a rebalance: let the batches in hand commit, then read the state to its end.

    Partitions are given up only once every batch handled has committed or aborted (the lock
    is held while a batch is handled, and the transaction in flight is waited for), and new
    ones are handled only once the state topic has been read to its committed end, so the
    next owner of a partition knows everything the previous one did with it.
    """

    def __init__(self, consumer: Consumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: object) -> None:
        del revoked
        # Counted before waiting: a batch polled before this point must not be handled after it.
        self._consumer.revocations += 1
        async with self._consumer.batch_lock:
            await self._consumer.quiet()

    async def on_partitions_assigned(self, assigned: object) -> None:
        del assigned
        await self._consumer.state_reader.catch_up()


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
        crypto_helper: bool = False,
    ) -> None:
        """Prepare (nothing connects until :meth:`start`).

        ``crypto_helper``: check large polls' plain signatures in a helper process
        (:mod:`intelshare.runtime.cryptohelper`); worth it when the process has a core to
        spare.
        """
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
        self.log = log or EventLog.configured("consumer", self.country, settings)
        self.state_reader = StateReader(settings, log=self.log)
        self._producer: AIOKafkaProducer | None = None
        self._audit_producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._audit: AuditMirror | None = None
        self._outbox: Outbox | None = None
        self._handlers: Handlers | None = None
        self._transactions: Transactions | None = None
        self._helper = (
            CryptoHelper(self.network.public_key, log=self.log) if crypto_helper else None
        )
        self._next_overdue = 0.0
        self.batch_lock = asyncio.Lock()
        """Held while a batch is handled (a rebalance waits for it)."""
        self.revocations = 0
        """Rebalances begun (partitions revoked) since start: a batch polled before the latest
        one is stale."""
        instance = settings.instance or uuid.uuid4().hex[:12]
        self.transactional_id = f"{settings.consumer_group}.{instance}"
        """This process's transactional id. A stable ``settings.instance`` lets a restarted
        replica fence its predecessor's unfinished transaction at once; without one the
        broker aborts that transaction after the transaction timeout."""

    @property
    def handled(self) -> int:
        """Messages handled (and committed) since start."""
        return self._transactions.handled if self._transactions is not None else 0

    async def quiet(self) -> None:
        """Wait until no batch's transaction is in flight (its failure is raised by run)."""
        if self._transactions is not None:
            await self._transactions.quiet()

    @property
    def state(self) -> CountryState:
        """What this country knows: alerts received, copies sent, receipts, consents."""
        return self.state_reader.state

    async def _start(self) -> None:
        if self._helper is not None:
            await self._helper.start()
        self._producer = await connect(
            # Receipts, state and dead letters of a batch are enqueued together: no linger.
            lambda: make_producer(
                self.settings, "consumer", linger_ms=0, transactional_id=self.transactional_id
            ),
            what="consumer's producer",
            settings=self.settings,
            log=self.log,
        )
        if self.settings.audit and not self.log.has_sink:
            # Audit events are mirrored as lines are written, after the commit, so they
            # travel on a producer of their own, outside the batch transactions.
            self._audit_producer = await connect(
                lambda: make_producer(self.settings, "consumer"),
                what="consumer's audit producer",
                settings=self.settings,
                log=self.log,
            )
            topic = audit_topic(self.settings.topic_prefix)
            self._audit = AuditMirror.attached(self.log, self._audit_producer, topic)
        self._outbox = Outbox.configured(
            self.settings, self.network, log=self.log, producer=self._producer, clock=self._clock
        )
        await self.state_reader.start()
        # Dead letters must fit both the topic and the producer's own request limit.
        deadletters = deadletter_topic(self.country, self.settings.topic_prefix)
        limit = min(await max_message_bytes(self.settings, deadletters), MAX_REQUEST_SIZE)
        self._handlers = Handlers(
            country=self.country,
            network=self.network,
            log=self.log,
            state=self.state_reader.state,
            outbox=self._outbox,
            clock=self._clock,
            clock_skew=timedelta(seconds=self.settings.clock_skew),
            record_limit=limit,
        )
        self._transactions = Transactions(
            producer=self._producer,
            handlers=self._handlers,
            log=self.log,
            group=self.settings.consumer_group,
            inbox=self.inbox,
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
        self._consumer.subscribe([self.inbox, self.receipts], listener=_CatchUp(self))
        self.log.info(
            "consumer.started",
            topics=[self.inbox, self.receipts],
            group=self.settings.consumer_group,
            state_entries=self.state_reader.loaded,
            transactional_id=self.transactional_id,
        )

    async def _stop(self) -> None:
        try:
            if self._consumer is not None:
                await self._consumer.stop()
            await self.state_reader.stop()
            if self._producer is not None:
                await self._producer.stop()
            if self._audit is not None:
                await self._audit.detach(self.log)
            if self._audit_producer is not None:
                await self._audit_producer.stop()
            if self._helper is not None:
                self._helper.stop()
            if self._transactions is not None and self._consumer is not None:
                helper = self._helper
                ahead = {} if helper is None else {"verified_ahead": helper.proven}
                self.log.info("consumer.stopped", handled=self.handled, **ahead)
        finally:
            if self._owns_log:
                self.log.close()

    async def run(self, stop: asyncio.Event) -> None:
        """Handle messages until ``stop`` is set; the message in hand is finished first.

        Each batch commits in a transaction of its own while the next one is handled
        (:mod:`intelshare.consumer.transactions`); on return every batch handled has
        committed and its lines are written.

        Raises:
            BrokerUnavailable: a write was not acknowledged or the batch's transaction did
                not commit (it is aborted: nothing of the batch is committed or logged, so a
                restart handles it again).
        """
        consumer, handlers, transactions = self._require()
        prefetch = Prefetch(
            consumer,
            revocations=lambda: self.revocations,
            max_records=self._max_records,
            poll_ms=self._poll_ms,
            helper=self._helper,
        )
        prefetch.start()
        try:
            while not stop.is_set():
                # Records are handled as soon as they are fetched, while the batch before
                # them commits (Transactions.take waits for that commit before starting
                # theirs): what arrives meanwhile is handled together, as one batch.
                await prefetch.wait(self._poll_ms / 1000)
                await self._linger(prefetch, transactions, stop)
                await prefetch.proofs()
                await self.state_reader.poll()
                overdue = time.monotonic() >= self._next_overdue
                async with self.batch_lock:
                    # Taken under the lock: a rebalance counts its revocation before it
                    # waits for the lock, so a poll made before it is seen as stale here.
                    polls = prefetch.take()
                    batch = fresh(polls, self.revocations)
                    handlers.proven = proven(polls)
                    if batch or overdue:
                        await transactions.take(_current(consumer, batch), stop, overdue=overdue)
                    handlers.proven = {}
                if overdue:
                    self._next_overdue = time.monotonic() + OVERDUE_EVERY
        finally:
            await prefetch.stop()
            await transactions.settled()

    async def _linger(
        self, prefetch: Prefetch, transactions: Transactions, stop: asyncio.Event
    ) -> None:
        """With a commit interval, let records gather for the next transaction.

        They gather until the interval has passed since the latest transaction began, a full
        batch waits, or the consumer stops. A transaction costs a few round trips and the
        broker's markers whatever it carries: where many consumers share few cores, one per
        interval instead of one per trickle leaves the cores to the messages. A record arriving
        after a quiet interval goes at once.
        """
        if not prefetch.held:
            return
        remaining = transactions.began + self.settings.commit_interval - time.monotonic()
        if remaining > 0:
            await prefetch.gather(remaining, stop)

    def _require(self) -> tuple[AIOKafkaConsumer, Handlers, Transactions]:
        if self._consumer is None or self._handlers is None or self._transactions is None:
            raise RuntimeError("Consumer is not started")
        return self._consumer, self._handlers, self._transactions


def _current(consumer: AIOKafkaConsumer, batch: Batch) -> Batch:
    """The records of ``batch`` from partitions still assigned to this process.

    ``batch`` holds only polls made since the latest revocation (:func:`fresh`); aiokafka
    returns no records while a rebalance is under way, so each poll is from the assignment in
    force when it returned. Partitions given up since are left to their new owner.
    """
    assigned = consumer.assignment()
    if all(tp in assigned for tp in batch):
        return batch
    return {tp: records for tp, records in batch.items() if tp in assigned}
