"""The outbox: every record one country writes to Kafka, with its headers and acknowledgements.

The publisher, consent and onward sharing, the consumer's receipts and dead letters and the
replay's scripted receipts all write through an :class:`Outbox`, so encoding, headers, the
state topic and "acknowledged, or why not" (:func:`~intelshare.runtime.refusals.kafka_failure`)
live in one place, and a test can stand a fake outbox in for Kafka.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from aiokafka.errors import KafkaError

from intelshare.contract import codec, events
from intelshare.contract.headers import (
    HEADER_HANDLING,
    HEADER_ORIGINATOR,
    HEADER_SCHEMA,
    HEADER_TRACE,
    Headers,
    headers,
)
from intelshare.contract.schemas import default_registry
from intelshare.contract.signing import HEADER_SIGNATURE, HEADER_SIGNER, demo_key, sign_batch
from intelshare.errors import EncodeError
from intelshare.network.model import state_topic
from intelshare.producer.results import handling_header
from intelshare.runtime import batches
from intelshare.runtime.batches import OutRecord
from intelshare.runtime.refusals import kafka_failure
from intelshare.state.entries import SentCopy, SentRecord, encode_entry

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence

    from aiokafka import AIOKafkaProducer
    from aiokafka.structs import RecordMetadata

    from intelshare.contract.alerts import AlertHeader
    from intelshare.contract.schemas import SchemaRegistry
    from intelshare.contract.signing import SigningKey
    from intelshare.network.model import Network
    from intelshare.runtime.batches import Ack, Later
    from intelshare.runtime.eventlog import EventLog
    from intelshare.runtime.settings import Settings
    from intelshare.state.entries import Entry

INVALID_RECORD: Final = "invalid-record"
"""Rule id logged when a record does not fit the Alert schema (nothing is sent)."""


def utcnow() -> datetime:
    """The wall clock in UTC (the default clock of every sender)."""
    return datetime.now(UTC)


class Outbox:
    """One country's writes: encoded records enqueued on a shared producer, then acknowledged."""

    def __init__(
        self,
        *,
        country: str,
        network: Network,
        topic_prefix: str,
        log: EventLog,
        producer: AIOKafkaProducer,
        registry: SchemaRegistry | None = None,
        clock: Callable[[], datetime] = utcnow,
        signer: SigningKey | None = None,
    ) -> None:
        """Write as ``country`` through ``producer``, logging to ``log``.

        ``signer``: the country's key; every record but state entries is signed with it
        (headers ``signer`` and ``signature``). None: the country's demo key.
        """
        self.signer = signer or demo_key(country)
        self.country = country
        self.network = network
        self.topic_prefix = topic_prefix
        self.log = log
        self.producer = producer
        self.registry = registry or default_registry()
        self._clock = clock
        self._gatherer: batches.Gatherer | None = None

    @classmethod
    def configured(
        cls,
        settings: Settings,
        network: Network,
        *,
        log: EventLog,
        producer: AIOKafkaProducer,
        clock: Callable[[], datetime],
        registry: SchemaRegistry | None = None,
    ) -> Outbox:
        """A service's outbox: ``settings``' country, topic prefix and signing key."""
        country = settings.require_country()
        return cls(
            country=country,
            network=network,
            topic_prefix=settings.topic_prefix,
            log=log,
            producer=producer,
            registry=registry,
            clock=clock,
            signer=settings.signer(country, network),
        )

    def now(self) -> datetime:
        """The outbox's clock (injectable for tests)."""
        return self._clock()

    def encode_alert(
        self, record: Mapping[str, Any], trace_id: str, extra: Mapping[str, Any]
    ) -> bytes:
        """Encode an Alert record (newest schema); a misfit is logged as refused and raised.

        Raises:
            EncodeError: the record does not fit the Alert schema.
        """
        try:
            return codec.encode(self.registry, "Alert", dict(record))
        except EncodeError as error:
            self.log.info(
                events.ALERT_REFUSED,
                alert_id=_str_or_none(record.get("alert_id")),
                case_id=_str_or_none(record.get("case_id")),
                trace_id=trace_id,
                rule=INVALID_RECORD,
                reason=str(error),
                **extra,
            )
            raise

    def alert_headers(self, header: AlertHeader, trace_id: str) -> Headers:
        """Record headers of an alert copy: schema, originator, handling, trace id."""
        return headers(
            **{
                HEADER_SCHEMA: self.registry.newest("Alert").full_name,
                HEADER_ORIGINATOR: header.originator,
                HEADER_HANDLING: handling_header(header),
                HEADER_TRACE: trace_id,
            }
        )

    def sent_entries(
        self, header: AlertHeader, recipients: Sequence[str], data: bytes, trace_id: str
    ) -> list[Entry]:
        """What the state topic should hold of a sent revision.

        Each copy, and the record itself when its handling makes onward sharing need consent.
        """
        entries: list[Entry] = [
            SentCopy(
                alert_id=header.alert_id,
                revision=header.revision,
                recipient=r,
                case_id=header.case_id,
                created_at=header.created_at,
                response_due=header.response_due,
                trace_id=trace_id,
            )
            for r in recipients
        ]
        if header.handling.needs_consent_for_onward:
            # Kept to decide consent requests; other alerts may be shared on without asking.
            entries.append(
                SentRecord(alert_id=header.alert_id, revision=header.revision, record=data)
            )
        return entries

    def record(
        self, topic: str, key: str, value: bytes, kafka_headers: Headers, *, sign: bool = True
    ) -> OutRecord:
        """One record to write as this country (for :meth:`enqueue` and :meth:`gather`).

        Signed (``sign``) as this country when it is enqueued, with the records enqueued
        with it (:func:`~intelshare.contract.signing.sign_batch`): the proof travels in the
        ``signer`` and ``signature`` headers (:mod:`intelshare.contract.signing`).
        """
        return OutRecord(topic, key.encode(), value, kafka_headers, sign=sign)

    def _signed(self, records: list[OutRecord]) -> list[OutRecord]:
        """``records`` with the signature headers of those to sign, signed together."""
        values = [r.value for r in records if r.sign]
        if not values:
            return records
        signatures = iter(sign_batch(self.signer, values))
        signer = (HEADER_SIGNER, self.country.encode())
        return [
            OutRecord(
                r.topic, r.key, r.value, [*r.headers, signer, (HEADER_SIGNATURE, next(signatures))]
            )
            if r.sign
            else r
            for r in records
        ]

    def state_record(self, entry: Entry) -> OutRecord:
        """One fact for this country's state topic (for :meth:`enqueue`)."""
        key, value = encode_entry(entry)
        topic = state_topic(self.country, self.topic_prefix)
        # The state topic is the country's own state, read only by itself: not signed.
        return OutRecord(topic, key, value, [])

    async def acknowledged(self, records: Sequence[OutRecord]) -> list[RecordMetadata]:
        """Send ``records`` (:meth:`send`) and wait for every acknowledgement.

        Raises:
            BrokerUnavailable: the broker cannot be reached (only then).
            RequestRefused, AccessDenied: the client or broker refused one of them.
        """
        return await self.confirmed(await self.send(records))

    async def send(self, records: Sequence[OutRecord]) -> list[Ack]:
        """Hand ``records`` to the producer one ``send`` each, for the least wait.

        For writes a caller waits for one by one (a single alert, receipt or consent answer):
        see :func:`~intelshare.runtime.batches.send_each`. Raises as :meth:`enqueue` does.
        """
        return await self._hand_over(batches.send_each, records)

    def gather(self, records: Sequence[OutRecord]) -> list[Later]:
        """Enqueue ``records`` with whatever else this turn of the event loop enqueues.

        For a bulk stream of small writes (alerts read as fast as they are acknowledged): see
        :class:`~intelshare.runtime.batches.Gatherer`. A failure to enqueue is raised by
        :meth:`confirmed`, as the broker's are.
        """
        if self._gatherer is None or self._gatherer.producer is not self.producer:
            self._gatherer = batches.Gatherer(self.producer, self._signed)
        return self._gatherer.add(records)

    async def enqueue(self, records: Sequence[OutRecord]) -> list[Ack]:
        """Hand ``records`` to the producer in order, a batch per partition; their acks.

        Raises:
            BrokerUnavailable: the broker cannot be reached.
            RequestRefused: the client refused a record (e.g. too large for a request).
            AccessDenied: no ACL lets this country write to a record's topic.
        """
        return await self._hand_over(batches.append, records)

    async def _hand_over(
        self,
        way: Callable[[AIOKafkaProducer, Sequence[OutRecord]], Awaitable[list[Ack]]],
        records: Sequence[OutRecord],
    ) -> list[Ack]:
        try:
            return await way(self.producer, self._signed(list(records)))
        except batches.AppendFailed as failed:
            raise kafka_failure(failed.error, self.producer, "WRITE", failed.topic) from None

    async def confirmed(self, acks: Sequence[Ack | Later]) -> list[RecordMetadata]:
        """Wait for every acknowledgement of ``acks`` (from :meth:`enqueue`).

        Raises:
            BrokerUnavailable: the broker did not acknowledge one of them.
            RequestRefused, AccessDenied: the broker refused one of them.
        """
        landed: list[RecordMetadata] = []
        for ack in acks:
            try:
                landed.append(await ack.metadata())
            except batches.AppendFailed as failed:
                raise kafka_failure(failed.error, self.producer, "WRITE", failed.topic) from None
            except KafkaError as error:
                raise kafka_failure(error, self.producer, "WRITE", ack.topic) from error
        return landed


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
