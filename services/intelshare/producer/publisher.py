"""The originating side: a :class:`Publisher` writes one country's alerts to partners' inboxes.

Every alert is encoded once (which validates it against the schema) and checked by the
policy per recipient; a refused copy is logged ``alert.refused`` with its rule and is never
written, an allowed one goes to ``intel.alerts.<CC>`` keyed by case id with headers for
schema, originator, handling and trace id, and is logged ``alert.sent`` once the broker has
acknowledged it. The publisher also records what it sent in its country's state topic, so
the country's consumer can match receipts and notice overdue ones. Updates and revocations
are alerts with a higher revision (only the originator may send them). Consent requests,
consent answers and onward sharing are :mod:`intelshare.producer.consent`'s functions over
the publisher's :attr:`~Publisher.outbox`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from intelshare.contract import events
from intelshare.contract.alerts import AlertHeader, revoke
from intelshare.contract.schemas import default_registry
from intelshare.network.model import alerts_topic, audit_topic
from intelshare.network.policy import check_send
from intelshare.producer.outbox import Outbox, utcnow
from intelshare.producer.results import (
    CopyResult,
    PublishResult,
    latency_ms,
    new_trace_id,
)
from intelshare.runtime.audit import AuditMirror
from intelshare.runtime.eventlog import EventLog
from intelshare.runtime.kafka import (
    connect,
    make_producer,
)
from intelshare.runtime.lifecycle import Service
from intelshare.valuetype import value_type

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from aiokafka import AIOKafkaProducer

    from intelshare.network.model import Network
    from intelshare.runtime.batches import Ack, Later
    from intelshare.runtime.settings import Settings
    from intelshare.state.entries import Entry


class SendOptions(TypedDict, total=False):
    """The keywords :meth:`Publisher.publish`, ``enqueue`` and ``revoke`` take after the record."""

    trace_id: str | None
    """The trace id of every copy (a new one when not given)."""
    context: Mapping[str, Any] | None
    """Fields added to every log event (a replay passes ``scenario`` and ``step``)."""


@value_type
class Pending:
    """An alert revision checked and enqueued, waiting for the broker (:meth:`Publisher.settle`)."""

    header: AlertHeader
    """The revision's header."""
    trace_id: str
    """The trace id of every copy."""
    fields: dict[str, Any]
    """What every log event about it carries."""
    addressed: list[str]
    """Its recipients, in order, each once."""
    allowed: list[str]
    """The recipients the policy allowed (their copies come first in ``acks``)."""
    results: dict[str, CopyResult]
    """Refused recipients so far; :meth:`Publisher.settle` adds the written ones."""
    acks: list[Later] | list[Ack]
    """One acknowledgement per write: the allowed copies, then the state entries."""


class Publisher(Service):
    """One country's sending side: alerts, updates and revocations (consent: see its outbox).

    Use ``async with Publisher(settings) as publisher:`` and ``await publisher.publish(record)``.
    ``settings.country`` is the sending country; ``settings.topic_prefix`` scopes every topic.
    A publisher given a ``producer`` and ``log`` (a consumer shares its own) does not own them.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        network: Network | None = None,
        log: EventLog | None = None,
        producer: AIOKafkaProducer | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """Prepare (nothing connects until :meth:`start`)."""
        super().__init__()
        self.settings = settings
        self.country, self.network = settings.country_network(network)
        self.stop_timeout = settings.stop_timeout
        self.registry = default_registry()
        self._clock = clock
        self._owns_log = log is None
        self.log = log or EventLog.configured("producer", self.country, settings)
        self._producer = producer
        self._owns_producer = producer is None
        self._audit: AuditMirror | None = None
        self._outbox: Outbox | None = None

    @property
    def outbox(self) -> Outbox:
        """Where this publisher's records are written (after :meth:`start`)."""
        if self._outbox is None:
            raise RuntimeError("Publisher is not started")
        return self._outbox

    @property
    def producer(self) -> AIOKafkaProducer:
        """The Kafka producer (after :meth:`start`)."""
        if self._producer is None:
            raise RuntimeError("Publisher is not started")
        return self._producer

    async def _start(self) -> None:
        if self._producer is None:
            self._producer = await connect(
                lambda: make_producer(self.settings, "producer"),
                what="producer",
                settings=self.settings,
                log=self.log,
            )
        self._outbox = Outbox.configured(
            self.settings,
            self.network,
            log=self.log,
            producer=self.producer,
            clock=self._clock,
            registry=self.registry,
        )
        if self.settings.audit and not self.log.has_sink:
            topic = audit_topic(self.settings.topic_prefix)
            self._audit = AuditMirror.attached(self.log, self.producer, topic)

    async def _stop(self) -> None:
        try:
            if self._audit is not None:
                await self._audit.detach(self.log)
            if self._owns_producer and self._producer is not None:
                await self._producer.stop()
        finally:
            if self._owns_log:
                self.log.close()

    # --- alerts -------------------------------------------------------------------------

    async def publish(
        self, record: Mapping[str, Any], **options: Unpack[SendOptions]
    ) -> PublishResult:
        """Check and send one alert revision (an ALERT, UPDATE or REVOCATION) to its recipients.

        The same as :meth:`enqueue` then :meth:`settle`.

        Raises:
            EncodeError: the record does not fit the Alert schema (logged, nothing sent).
            BrokerUnavailable: the broker did not acknowledge a copy.
        """
        return await self.settle(await self.enqueue(record, **options))

    async def enqueue(
        self, record: Mapping[str, Any], *, bulk: bool = False, **options: Unpack[SendOptions]
    ) -> Pending:
        """Check one alert revision and enqueue its copies, without waiting for the broker.

        Refusals are logged at once; :meth:`settle` waits for the acknowledgements and logs
        ``alert.sent``. Revisions enqueued one after another keep that order on each
        partition (the producer is idempotent), so a caller may enqueue many before settling.
        ``bulk``: one of many read as fast as they are acknowledged; its copies are gathered
        into batches with the others' (:meth:`Outbox.gather`: less CPU per alert, a little
        more wait for each), else each is sent at once (:meth:`Outbox.send`).

        Raises:
            EncodeError: the record does not fit the Alert schema (logged, nothing sent).
            BrokerUnavailable: a copy could not be enqueued.
        """
        trace_id = options.get("trace_id") or new_trace_id()
        extra = dict(options.get("context") or {})
        outbox = self.outbox
        data = outbox.encode_alert(record, trace_id, extra)
        header = AlertHeader.from_record(record)
        now = self._clock()
        fields = {**header.log_fields(), "trace_id": trace_id, **extra}
        addressed = list(dict.fromkeys(header.recipients)) or [""]
        allowed: list[str] = []
        results: dict[str, CopyResult] = {}
        for recipient in addressed:
            decision = check_send(self.network, header, recipient, now, sender=self.country)
            if decision.allowed:
                allowed.append(recipient)
                continue
            results[recipient] = CopyResult.refusal(recipient, decision.rule, decision.reason)
            self.log.info(
                events.ALERT_REFUSED,
                **fields,
                recipient=recipient or None,
                rule=str(decision.rule),
                reason=decision.reason,
            )
        kafka_headers = outbox.alert_headers(header, trace_id)
        prefix = self.settings.topic_prefix
        records = [
            outbox.record(alerts_topic(r, prefix), header.case_id, data, kafka_headers)
            for r in allowed
        ]
        entries: list[Entry] = []
        if allowed and header.originator == self.country:
            entries = outbox.sent_entries(header, allowed, data, trace_id)
        records += [outbox.state_record(e) for e in entries]
        acks = outbox.gather(records) if bulk else await outbox.send(records)
        return Pending(
            header=header,
            trace_id=trace_id,
            fields=fields,
            addressed=addressed,
            allowed=allowed,
            results=results,
            acks=acks,
        )

    async def settle(self, pending: Pending) -> PublishResult:
        """Wait until the broker has acknowledged every write of ``pending``; log ``alert.sent``.

        Raises:
            BrokerUnavailable: the broker did not acknowledge a copy.
        """
        acks = await self.outbox.confirmed(pending.acks)
        header, results = pending.header, pending.results
        for recipient, metadata in zip(pending.allowed, acks, strict=False):
            results[recipient] = CopyResult.written(recipient, metadata)
            self.log.info(
                events.ALERT_SENT,
                **pending.fields,
                recipient=recipient,
                **events.place(metadata),
                latency_ms=latency_ms(header.created_at, self._clock()),
            )
        return PublishResult.of(header, pending.trace_id, (results[r] for r in pending.addressed))

    async def revoke(
        self, record: Mapping[str, Any], **options: Unpack[SendOptions]
    ) -> PublishResult:
        """Publish a REVOCATION of ``record``: every recipient stops using it."""
        return await self.publish(revoke(record, created_at=self._clock()), **options)
