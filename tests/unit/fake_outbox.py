"""A fake Kafka edge for broker-free handler tests: an Outbox over a recording producer.

The habit of httpx's ``MockTransport`` and FastStream's ``TestKafkaBroker``: the real
:class:`~intelshare.producer.outbox.Outbox` (encoding, headers, state entries) runs as in
production; only the producer underneath is swapped for one that keeps what is sent and
acknowledges at once.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka.structs import ConsumerRecord, RecordMetadata, TopicPartition

from intelshare.consumer.handlers import Handlers
from intelshare.consumer.proof import _expected_writer
from intelshare.contract import codec
from intelshare.contract.alerts import to_millis
from intelshare.contract.headers import HEADER_ORIGINATOR
from intelshare.contract.schemas import default_registry
from intelshare.contract.signing import HEADER_SIGNATURE, HEADER_SIGNER, demo_key
from intelshare.errors import IntelshareError
from intelshare.network.model import Network, default_network
from intelshare.producer.outbox import Outbox
from intelshare.runtime.eventlog import EventDict, EventLog
from intelshare.state.entries import CountryState, decode_entry

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
"""The fixed clock of every fake."""


def rs_receipt(status: str = "RECEIVED") -> dict[str, Any]:
    """RS's receipt (``status``) for GB's alert GB-1 r1."""
    return {
        "receipt_id": "RS-R-GB-1-1",
        "alert_id": "GB-1",
        "revision": 1,
        "case_id": "C1",
        "originator": "GB",
        "recipient": "RS",
        "status": status,
        "rule": None,
        "note": None,
        "sent_at": to_millis(NOW),
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class Sent:
    """One record the fake producer took."""

    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


@dataclass(frozen=True, slots=True)
class Placed:
    """Where a record sits in its batch (what aiokafka's builder returns)."""

    offset: int


@dataclass
class FakeBatch:
    """A batch builder that keeps its records."""

    records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]] = field(default_factory=list)
    closed: bool = False

    def close(self) -> None:
        """Take no more records."""
        self.closed = True

    def append(
        self,
        *,
        timestamp: int | None,
        key: bytes | None,
        value: bytes,
        headers: list[tuple[str, bytes]],
    ) -> Placed:
        """Keep one record; its place in the batch."""
        assert not self.closed, "a closed batch takes no more records"
        del timestamp
        self.records.append((key, value, headers))
        return Placed(len(self.records) - 1)


@dataclass(kw_only=True)
class FakeProducer:
    """Keeps every record sent and acknowledges it at once with increasing offsets."""

    sent: list[Sent] = field(default_factory=list)
    offsets: dict[str, int] = field(default_factory=dict)
    in_transaction: bool = False

    async def send(
        self,
        topic: str,
        value: bytes,
        *,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> asyncio.Future[RecordMetadata]:
        """Record the write; the future is already acknowledged."""
        self.taking(topic)
        self.sent.append(Sent(topic=topic, key=key, value=value, headers=dict(headers or [])))
        offset = self.offsets.get(topic, 0)
        self.offsets[topic] = offset + 1
        future: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        future.set_result(RecordMetadata(topic, 0, TopicPartition(topic, 0), offset, -1, 0, 0))
        return future

    async def partitions_for(self, topic: str) -> set[int]:
        """Every topic has one partition."""
        del topic
        return {0}

    def create_batch(self) -> FakeBatch:
        """An empty batch for :meth:`send_batch`."""
        return FakeBatch()

    async def send_batch(
        self, batch: FakeBatch, topic: str, *, partition: int
    ) -> asyncio.Future[RecordMetadata]:
        """Record each write of ``batch``; the future (the first offset) is already resolved."""
        assert partition == 0
        first = self.offsets.get(topic, 0)
        for key, value, headers in batch.records:
            await self.send(topic, value, key=key, headers=headers)
        future: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        future.set_result(RecordMetadata(topic, 0, TopicPartition(topic, 0), first, -1, 0, 0))
        return future

    def taking(self, topic: str) -> None:
        """Called with each write's topic before it is kept (a subclass checks or records it)."""

    def to(self, topic_part: str) -> list[Sent]:
        """Records sent to topics whose name contains ``topic_part``."""
        return [s for s in self.sent if topic_part in s.topic]


@dataclass(kw_only=True)
class FakeCountry:
    """One country's consumer handlers over the fake producer, and what they logged."""

    country: str
    producer: FakeProducer
    handlers: Handlers
    events: list[EventDict]

    def named(self, event: str) -> list[EventDict]:
        """The logged events of one name."""
        return [e for e in self.events if e["event"] == event]

    def state_entries(self) -> list[Any]:
        """The state entries written so far."""
        return [decode_entry(s.value) for s in self.producer.to("intel.state.")]

    async def deliver(
        self,
        value: bytes | None,
        *,
        kind: str = "inbox",
        headers: dict[str, bytes] | None = None,
        signer: str | None = None,
    ) -> None:
        """Hand one record to the handlers as if read from the country's topic, then settle.

        Unless ``headers`` are given, the value is signed as its writer would sign it
        (``signer``, else the country the record says wrote it) with the originator header.
        """
        topic = f"intel.{'alerts' if kind == 'inbox' else 'receipts'}.{self.country}"
        if headers is None:
            headers = signed_headers(value or b"", self.country, signer)
        record: ConsumerRecord[bytes, bytes] = ConsumerRecord(
            topic=topic,
            partition=0,
            offset=len(self.events),
            timestamp=0,
            timestamp_type=0,
            key=b"C1",
            value=value,  # type: ignore[arg-type] # a record without value is part of the test
            checksum=None,
            serialized_key_size=2,
            serialized_value_size=len(value or b""),
            headers=list(headers.items()),
        )
        handlers = self.handlers
        message = handlers.check(record, kind)
        if message is not None:
            await handlers.act(message, record, kind)
        # What a batch's transaction does with its effects, without the transaction.
        effects = handlers.take()
        futures = await handlers.write(effects)
        if futures:
            handlers.written(effects, await handlers.outbox.confirmed(futures))


def fake_country(country: str = "RS", network: Network | None = None) -> FakeCountry:
    """``country``'s handlers with a recording producer, the default network and a fixed clock."""
    network = network or default_network()
    producer = FakeProducer()
    events: list[EventDict] = []
    # The lines go to a buffer nobody reads: the events are captured by a listener.
    log = EventLog(service="consumer", country=country, output=io.StringIO())
    log.add_listener(events.append)
    outbox = Outbox(
        country=country,
        network=network,
        topic_prefix="",
        log=log,
        producer=producer,  # type: ignore[arg-type] # the fake stands in for AIOKafkaProducer
        clock=lambda: NOW,
    )
    handlers = Handlers(
        country=country,
        network=network,
        log=log,
        state=CountryState(),
        outbox=outbox,
        clock=lambda: NOW,
    )
    return FakeCountry(country=country, producer=producer, handlers=handlers, events=events)


def signed_headers(value: bytes, receiver: str, signer: str | None = None) -> dict[str, bytes]:
    """Headers a genuine writer of ``value`` would send: originator, signer and signature."""
    originator = signer or "GB"
    try:
        decoded = codec.decode(default_registry(), value)
    except IntelshareError:
        decoded = None
    if decoded is not None:
        record = decoded.record
        is_alert = decoded.name == "Alert"
        originator = str(record["originator"]["country"] if is_alert else record["originator"])
        if signer is None:
            signer = _expected_writer(decoded.name, record, receiver)
    signer = signer or originator
    return {
        HEADER_ORIGINATOR: originator.encode(),
        HEADER_SIGNER: signer.encode(),
        HEADER_SIGNATURE: demo_key(signer).sign(value),
    }


def encode(name: str, record: dict[str, Any]) -> bytes:
    """A record of schema ``name`` as single-object Avro."""
    return codec.encode(default_registry(), name, record)
