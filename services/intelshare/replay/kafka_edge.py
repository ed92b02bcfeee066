"""The Kafka edges of a replay: each country's Publisher, the audit reader, local consumers.

* :class:`CountrySenders` publishes each timeline message through the sending country's own
  :class:`~.publisher.Publisher` (client id ``intelshare-producer-<CC>``): alerts,
  updates and revocations; receipts; consent requests; onward copies.
* :class:`AuditReader` reads the audit topic from the moment the replay starts (the end
  offsets taken before the first send), wherever the consumers run: in this process, in
  other processes, or in their own containers.
* :class:`LocalConsumers` runs the countries' consumer services in this process, for a
  replay that needs nothing else running (``--with-consumers``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

import orjson
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from intelshare.consumer.loop import Consumer
from intelshare.contract import codec, events
from intelshare.contract.headers import HEADER_ORIGINATOR, HEADER_SCHEMA, HEADER_TRACE, headers
from intelshare.errors import BrokerUnavailable, IntelshareError
from intelshare.network.model import audit_topic, receipts_topic
from intelshare.producer.consent import request_consent, share_onward
from intelshare.producer.publisher import Publisher
from intelshare.producer.results import new_trace_id
from intelshare.runtime.audit import audit_events
from intelshare.runtime.eventlog import service_log
from intelshare.runtime.kafka import connect, make_consumer, topic_partitions

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from pathlib import Path

    from intelshare.network.model import Network
    from intelshare.replay.engine import Outgoing
    from intelshare.runtime.settings import Settings


class CountrySenders:
    """One Publisher per sending country, started when that country first sends."""

    def __init__(self, settings: Settings, network: Network, *, log_dir: Path | None) -> None:
        """Publish on ``settings``' broker and prefix; logs to ``log_dir`` when given."""
        self.settings = settings
        self.network = network
        self.log_dir = log_dir
        self._publishers: dict[str, Publisher] = {}
        self._starting: dict[str, asyncio.Task[Publisher]] = {}

    async def publisher(self, country: str) -> Publisher:
        """The started Publisher of ``country`` (concurrent callers share one start)."""
        if country in self._publishers:
            return self._publishers[country]
        if country not in self._starting:
            self._starting[country] = asyncio.create_task(self._start(country))
        return await self._starting[country]

    async def _start(self, country: str) -> Publisher:
        publisher = Publisher(
            self.settings.with_country(country),
            network=self.network,
            log=service_log("producer", country, self.log_dir),
        )
        await publisher.start()
        self._publishers[country] = publisher
        return publisher

    async def send(self, outgoing: Outgoing) -> None:
        """Publish one message as its sending country."""
        message, record, context = outgoing.message, outgoing.record, outgoing.context
        publisher = await self.publisher(message.sender)
        if message.kind == "alert":
            await publisher.publish(record, context=context)
        elif message.kind == "receipt":
            await _send_receipt(publisher, record, context)
        elif message.kind == "consent_request":
            assert outgoing.alert is not None
            await request_consent(
                publisher.outbox,
                outgoing.alert,
                onward_to=record["onward_to"],
                reason=record["reason"],
                consent_id=record["consent_id"],
                context=context,
            )
        else:
            assert outgoing.alert is not None
            await share_onward(
                publisher.outbox,
                outgoing.alert,
                onward_to=message.to,
                consent_id=None,
                context=context,
            )

    async def stop(self) -> None:
        """Flush and stop every Publisher (their audit events are written first)."""
        for task in self._starting.values():
            with contextlib.suppress(Exception):
                await task
        await asyncio.gather(*(p.stop() for p in self._publishers.values()))
        for publisher in self._publishers.values():
            publisher.log.close()


async def _send_receipt(
    publisher: Publisher, record: Mapping[str, Any], context: Mapping[str, Any]
) -> None:
    """A recipient's answer (hit, no hit, actioned) on the originator's receipts topic."""
    schema = publisher.registry.get("Receipt")
    trace_id = new_trace_id()
    originator = str(record["originator"])
    topic = receipts_topic(originator, publisher.settings.topic_prefix)
    kafka_headers = headers(
        **{HEADER_SCHEMA: schema.full_name, HEADER_ORIGINATOR: originator, HEADER_TRACE: trace_id}
    )
    data = codec.encode_with(schema, dict(record))
    (metadata,) = await publisher.outbox.acknowledged(
        [publisher.outbox.record(topic, str(record["case_id"]), data, kafka_headers)]
    )
    publisher.log.info(
        events.RECEIPT_SENT,
        alert_id=record["alert_id"],
        revision=record["revision"],
        case_id=record["case_id"],
        originator=originator,
        status=record["status"],
        trace_id=trace_id,
        **events.place(metadata),
        **context,
    )


class AuditReader:
    """Reads the audit topic from where it ends now, handing each event to a callback."""

    def __init__(self, settings: Settings, on_event: Callable[[dict[str, Any]], None]) -> None:
        """Read ``settings``' audit topic (prefix included)."""
        self.settings = settings
        self.topic = audit_topic(settings.topic_prefix)
        self.on_event = on_event
        self.read = 0
        """Audit events read (this replay's and everyone else's)."""
        self._consumer: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Take the topic's end offsets as the starting point and start reading.

        Raises:
            IntelshareError: the audit topic does not exist.
            BrokerUnavailable: the broker does not answer.
        """
        settings = self.settings
        consumer = await connect(
            lambda: make_consumer(settings, "replay-audit"), what="audit reader", settings=settings
        )
        self._consumer = consumer
        try:
            partitions = (await topic_partitions(consumer, [self.topic])).get(self.topic)
            assigned = [TopicPartition(self.topic, p) for p in sorted(partitions or ())]
            if not assigned:
                _no_topic(self.topic, settings)
            consumer.assign(assigned)
            ends = await consumer.end_offsets(assigned)
            for tp in assigned:
                consumer.seek(tp, ends[tp])
        except KafkaError as error:
            await consumer.stop()
            raise BrokerUnavailable(f"reading {self.topic}: {error}") from error
        except BaseException:
            await consumer.stop()
            raise
        self._task = asyncio.create_task(self._read(), name="audit-reader")

    async def _read(self) -> None:
        consumer = self._consumer
        while True:
            batch = await consumer.getmany(timeout_ms=200, max_records=2000)
            for records in batch.values():
                for record in records:
                    # A record holds one or more events, one JSON per line (runtime.audit).
                    for line in audit_events(record.value or b""):
                        self.read += 1
                        try:
                            event = orjson.loads(line)
                        except orjson.JSONDecodeError:
                            continue  # not an event line; the audit topic is not ours to judge
                        if isinstance(event, dict):
                            self.on_event(event)

    def check(self) -> None:
        """Raise what stopped the reader, if it stopped."""
        if self._task is not None and self._task.done() and not self._task.cancelled():
            error = self._task.exception()
            if error is not None:
                raise BrokerUnavailable(f"reading {self.topic}: {error}") from error

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, KafkaError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()


def _no_topic(topic: str, settings: Settings) -> None:
    raise IntelshareError(
        f"topic {topic} does not exist at {settings.bootstrap}; create the network's topics "
        "(intelshare topics), or replay with --with-consumers"
    )


class LocalConsumers:
    """The countries' consumer services, run in this process for a self-contained replay."""

    def __init__(
        self,
        settings: Settings,
        network: Network,
        countries: Iterable[str],
        *,
        log_dir: Path | None,
    ) -> None:
        """One consumer per country in ``countries``."""
        self.consumers = [
            Consumer(
                settings.with_country(c),
                network=network,
                log=service_log("consumer", c, log_dir),
            )
            for c in sorted(countries)
        ]
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start every consumer and its loop."""
        await asyncio.gather(*(c.start() for c in self.consumers))
        self._tasks = [asyncio.create_task(c.run(self._stop)) for c in self.consumers]

    def check(self) -> None:
        """Raise what stopped a consumer, if one stopped."""
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def stop(self) -> None:
        """Let each consumer finish its batch, then stop them."""
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(c.stop() for c in self.consumers))
        for consumer in self.consumers:
            consumer.log.close()
