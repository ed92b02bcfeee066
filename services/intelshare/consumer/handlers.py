"""What a country's consumer does with each kind of message: a table of handlers per schema.

:attr:`Handlers.dispatch` maps each topic kind and writer schema name to its handler, so a
reader (and mypy) can follow a message from its schema to the code that takes it.

Handlers log events at once (the log is the first record of what happened), and leave
writes as :class:`Effects`: records whose acknowledgement the consumer waits for before it
commits, each with a follow-up run on acknowledgement (``receipt.sent`` is logged only
once the receipt is really written), plus state entries written after those.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from intelshare.consumer import proof
from intelshare.consumer.inbox import RECEIPT_STATUS, Verdict, decide
from intelshare.contract import codec, events
from intelshare.contract.alerts import AlertHeader, to_millis
from intelshare.contract.headers import (
    HEADER_ORIGINATOR,
    HEADER_SCHEMA,
    HEADER_TRACE,
    Headers,
    header_map,
    header_text,
    headers,
)
from intelshare.contract.signing import HEADER_SIGNATURE
from intelshare.errors import DecodeError, IntelshareError, InvalidMessage
from intelshare.network.model import deadletter_topic, receipts_topic
from intelshare.network.policy import DEFAULT_CLOCK_SKEW
from intelshare.producer import consent
from intelshare.producer.results import latency_ms
from intelshare.runtime.topics import BROKER_MAX_MESSAGE_BYTES
from intelshare.state.entries import ConsentEntry, InboxEntry, OverdueMark, ReceiptMark
from intelshare.valuetype import value_type

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from aiokafka.structs import ConsumerRecord, RecordMetadata

    from intelshare.consumer.inbox import Arrival
    from intelshare.contract.codec import Decoded
    from intelshare.network.model import Network
    from intelshare.producer.outbox import Outbox
    from intelshare.runtime.batches import Ack
    from intelshare.runtime.cryptohelper import Proven
    from intelshare.runtime.eventlog import EventLog
    from intelshare.state.entries import CountryState, Entry

MAX_KEPT_KEY: Final = 1024
"""Bytes of a dead message's key kept in its letter (and used as the letter's own key)."""
MAX_ERROR_TEXT: Final = 2000
"""Characters of an error message kept in a dead letter."""
RECORD_FRAMING: Final = 1024
"""Bytes reserved for the record batch header, record framing and headers around a letter."""
MAX_ID: Final = 256
"""Longest alert, case, consent or receipt id taken: ids end up in keys, receipts and state."""

WRITES_AT_ONCE: Final = frozenset({"ConsentGrant", "ConsentRequest"})
"""Schemas whose handlers write, and wait for acknowledgements, while they run: they need
their batch's transaction open (every other handler only leaves :class:`Effects`)."""

Handler = Callable[["Message"], Awaitable[None]]
"""What the consumer does with one decoded message of one schema."""


@value_type
class Message:
    """One decoded message and where it came from."""

    decoded: Decoded
    """The record and its schema."""
    raw: bytes
    """The value as received."""
    where: dict[str, Any]
    """Its topic, partition and offset (log fields)."""
    trace: str | None
    """The trace id header, if any."""
    headers: dict[str, bytes]
    """The record headers as received (last value of a name wins)."""
    alert: AlertHeader | None = None
    """An Alert's typed header, read once while checking it (None for other messages)."""


@value_type
class PendingWrite:
    """A record to write, and what to do once the broker has acknowledged it."""

    topic: str
    """Where to write."""
    key: str
    """The record key."""
    value: bytes
    """The record value."""
    headers: Headers
    """The record headers."""
    then: Callable[[RecordMetadata], None]
    """Run with the record's metadata once it is acknowledged."""


@dataclass(kw_only=True, slots=True)
class Effects:
    """Writes a batch caused, to be acknowledged before its offsets are committed."""

    writes: list[PendingWrite] = field(default_factory=list)
    """Records to write, in order."""
    state_entries: list[Entry] = field(default_factory=list)
    """State entries to write after the records above are acknowledged."""


@dataclass(kw_only=True, slots=True)
class Handlers:
    """Per-schema handling for one country's consumer."""

    country: str
    """The consumer's country."""
    network: Network
    """The network (agreements) to check arrivals against."""
    log: EventLog
    """Where events go."""
    state: CountryState
    """What the country knows (updated at once, written as effects)."""
    outbox: Outbox
    """Writes receipts, consent answers and onward copies (shares the consumer's producer)."""
    clock: Callable[[], datetime]
    """The current time."""
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW
    """How far ahead of the clock an alert's ``created_at`` may be."""
    record_limit: int = BROKER_MAX_MESSAGE_BYTES
    """The largest record this country may write (the smaller of the dead-letter topic's
    ``max.message.bytes`` and the producer's request limit)."""
    effects: Effects = field(default_factory=Effects)
    """Writes waiting for acknowledgement."""
    proven: Proven = field(default_factory=dict)
    """Signatures of the batch in hand a :class:`~intelshare.runtime.cryptohelper.CryptoHelper`
    checked already (set per batch; :meth:`check` verifies the rest itself)."""
    dispatch: dict[str, dict[str, Handler]] = field(init=False)
    """Per topic kind (``inbox``, ``receipts``), the handler of each schema name that belongs
    there; anything else is dead-lettered."""

    def __post_init__(self) -> None:
        """Build the dispatch table: which handler takes which schema on which topic."""
        self.dispatch = {
            "inbox": {"Alert": self.on_alert, "ConsentGrant": self.on_consent_grant},
            "receipts": {"Receipt": self.on_receipt, "ConsentRequest": self.on_consent_request},
        }

    def check(self, record: ConsumerRecord[bytes, bytes], kind: str) -> Message | None:
        """Verify, decode and check one message; None when it was dead-lettered instead.

        Raises:
            IntelshareError: a retriable one (the broker is in trouble, not the message).
        """
        where = events.place(record)
        raw_headers = header_map(record.headers)
        trace = header_text(raw_headers, HEADER_TRACE)
        try:
            if record.value is None:
                raise DecodeError("the message has no value")
            # The origin proof first: nothing is decoded from a message nobody vouches for.
            signer = proof.check_signature(self.network, raw_headers, record.value, self.proven)
            decoded = codec.decode(self.outbox.registry, record.value)
            if decoded.name not in self.dispatch[kind]:
                raise InvalidMessage(f"a {decoded.schema_name} message does not belong on {kind}")
            _check_ids(decoded.record)
            alert = AlertHeader.from_record(decoded.record) if decoded.name == "Alert" else None
            proof.check_writer(
                self.network,
                self.outbox.registry,
                raw_headers,
                decoded,
                signer=signer,
                receiver=self.country,
                proven=self.proven,
                alert=alert,
            )
        except (IntelshareError, KeyError, TypeError, ValueError) as error:
            self._refuse(record, error, where)
            return None
        return Message(
            decoded=decoded,
            raw=record.value,
            where=where,
            trace=trace,
            headers=raw_headers,
            alert=alert,
        )

    async def act(self, message: Message, record: ConsumerRecord[bytes, bytes], kind: str) -> None:
        """Run the handler of a message :meth:`check` passed (a failure dead-letters it)."""
        try:
            await self.dispatch[kind][message.decoded.name](message)
        except (IntelshareError, KeyError, TypeError, ValueError) as error:
            self._refuse(record, error, message.where)

    def _refuse(
        self, record: ConsumerRecord[bytes, bytes], error: BaseException, where: dict[str, Any]
    ) -> None:
        if isinstance(error, IntelshareError) and error.retriable:
            raise error  # the broker is in trouble, not the message
        self.dead_letter(record, error, where)

    def take(self) -> Effects:
        """The writes the messages handled so far caused (handling goes on with none)."""
        effects, self.effects = self.effects, Effects()
        return effects

    async def write(self, effects: Effects) -> list[Ack]:
        """Enqueue ``effects``' records, then its state entries; their acknowledgements.

        Receipts, dead letters and state entries are enqueued together (one round trip): the
        consumer's transaction commits them all or none, so a state entry may already say its
        receipt was sent.
        """
        outbox = self.outbox
        records = [outbox.record(w.topic, w.key, w.value, w.headers) for w in effects.writes]
        records += [outbox.state_record(entry) for entry in effects.state_entries]
        return await outbox.enqueue(records)

    def written(self, effects: Effects, acks: list[RecordMetadata]) -> None:
        """Run the follow-ups (``receipt.sent``, ``message.deadlettered``) of ``effects``.

        Called once every write is acknowledged, with where each record landed.
        """
        for write, metadata in zip(effects.writes, acks, strict=False):
            write.then(metadata)

    # --- inbox ----------------------------------------------------------------------------

    async def on_alert(self, message: Message) -> None:
        """An alert revision: verdict, one event, a receipt and a state entry."""
        where, trace = message.where, message.trace
        header = message.alert
        assert header is not None  # check() reads the header of every Alert it passes
        now = self.clock()
        arrival = decide(
            self.network,
            self.state,
            header,
            receiver=self.country,
            now=now,
            clock_skew=self.clock_skew,
        )
        fields = {
            **header.log_fields(),
            **where,
            "trace_id": trace,
            "latency_ms": latency_ms(header.created_at, now),
        }
        if len(header.hop_path) > 1:
            fields["hop_path"] = list(header.hop_path)
        fields["sender"] = arrival.sender
        if arrival.verdict is Verdict.DUPLICATE:
            self.log.info(events.ALERT_DUPLICATE, **fields)
            if arrival.resend_receipt:
                # The state says the answer was never acknowledged: it is owed.
                known = self.state.inbox.get((header.originator, header.alert_id))
                rejected = known is not None and known.status == "rejected"
                self._receipt(header, "REJECTED_BY_POLICY" if rejected else "RECEIVED", None, trace)
            return
        if arrival.verdict is Verdict.REJECTED:
            self.log.warning(
                events.ALERT_REJECTED, **fields, rule=arrival.rule, reason=arrival.reason
            )
        elif arrival.verdict is Verdict.REVOKED:
            self.log.info(events.ALERT_REVOKED, **fields)
        else:
            self.log.info(events.ALERT_RECEIVED, **fields)
        answered = self._receipt(header, RECEIPT_STATUS[arrival.verdict], arrival.rule, trace)
        if arrival.keep_in_state:
            # The receipt and this entry commit in one transaction: the entry may say so.
            entry = self._arrival_entry(header, arrival, message, receipt_sent=answered)
            self.effects.state_entries.append(entry)

    def _arrival_entry(
        self, header: AlertHeader, arrival: Arrival, message: Message, *, receipt_sent: bool
    ) -> InboxEntry:
        raw = message.raw
        keep = (
            arrival.verdict is Verdict.RECEIVED
            and header.handling.needs_consent_for_onward
            # Kept with the originator's signature, the proof an onward copy carries.
            and arrival.sender == header.originator
            # Kept as base64 in a JSON state entry: only what fits in one record.
            and len(raw) * 4 // 3 + RECORD_FRAMING < self.record_limit
        )
        status = {Verdict.REJECTED: "rejected", Verdict.REVOKED: "revoked"}.get(
            arrival.verdict, "received"
        )
        entry = InboxEntry(
            alert_id=header.alert_id,
            revision=header.revision,
            status=status,  # type: ignore[arg-type] # one of the three InboxStatus values
            originator=header.originator,
            case_id=header.case_id,
            receipt_sent=receipt_sent,
            # Kept (as received; they decode by their own fingerprint) only where onward
            # sharing needs consent: the consumer shares on itself once consent is granted.
            record=raw if keep else None,
            signature=message.headers.get(HEADER_SIGNATURE) if keep else None,
        )
        self.state.apply(entry)
        return entry

    def _receipt(
        self, header: AlertHeader, status: str, rule: str | None, trace: str | None
    ) -> bool:
        """Answer the originator (written when the batch settles); False when not allowed."""
        if not self.network.agreements_between(self.country, header.originator):
            # Without an agreement this country may not write to the originator at all.
            return False
        now = self.clock()
        receipt = {
            "receipt_id": f"{self.country}-R-{header.alert_id}-{header.revision}",
            "alert_id": header.alert_id,
            "revision": header.revision,
            "case_id": header.case_id,
            "originator": header.originator,
            "recipient": self.country,
            "status": status,
            "rule": rule,
            "note": None,
            "sent_at": to_millis(now),
        }
        schema = self.outbox.registry.get("Receipt")
        topic = receipts_topic(header.originator, self.outbox.topic_prefix)
        value = codec.encode_with(schema, receipt)
        kafka_headers = headers(
            **{HEADER_SCHEMA: schema.full_name, HEADER_ORIGINATOR: header.originator},
            **{HEADER_TRACE: trace or ""},
        )

        def sent(metadata: RecordMetadata) -> None:
            self.log.info(
                events.RECEIPT_SENT,
                **header.log_fields(),
                status=status,
                rule=rule,
                trace_id=trace,
                **events.place(metadata),
                latency_ms=latency_ms(header.created_at, self.clock()),
            )

        self.effects.writes.append(
            PendingWrite(
                topic=topic, key=header.case_id, value=value, headers=kafka_headers, then=sent
            )
        )
        return True

    async def on_consent_grant(self, message: Message) -> None:
        """The originator's answer to this country's consent request: share on, or not."""
        decoded, where, trace = message.decoded, message.where, message.trace
        grant = decoded.record
        if grant["requester"] != self.country:
            raise InvalidMessage(f"consent {grant['consent_id']} answers {grant['requester']}")
        known = self.state.consents.get(grant["consent_id"])
        if known is not None and known.status in ("shared", "refused"):
            return  # a redelivered answer: already acted on
        entry = self.state.inbox.get((grant["originator"], grant["alert_id"]))
        onward = tuple(grant["onward_to"])
        status = "refused"
        if grant["granted"] and entry is not None and entry.status == "received" and entry.record:
            alert = codec.decode(self.outbox.registry, entry.record).record
            await consent.share_onward(
                self.outbox,
                alert,
                onward_to=onward,
                consent_id=grant["consent_id"],
                trace_id=trace,
                origin=(entry.record, entry.signature or b""),
            )
            status = "shared"
        else:
            self.log.info(
                "consent.not_used",
                alert_id=grant["alert_id"],
                case_id=grant["case_id"],
                originator=grant["originator"],
                consent_id=grant["consent_id"],
                granted=grant["granted"],
                held=entry.status if entry is not None else "unknown",
                **where,
            )
        done = ConsentEntry(
            consent_id=grant["consent_id"],
            alert_id=grant["alert_id"],
            revision=grant["revision"],
            originator=grant["originator"],
            onward_to=onward,
            status=status,  # type: ignore[arg-type] # "shared" or "refused"
        )
        self._keep(done)

    # --- receipts topic -------------------------------------------------------------------

    async def on_receipt(self, message: Message) -> None:
        """A recipient's answer to one of this country's alerts: log it once."""
        decoded, where, trace = message.decoded, message.where, message.trace
        receipt = decoded.record
        if receipt["originator"] != self.country:
            raise InvalidMessage(f"receipt {receipt['receipt_id']} is for {receipt['originator']}")
        copy = (receipt["alert_id"], receipt["revision"], receipt["recipient"])
        if receipt["receipt_id"] in self.state.receipt_ids:
            return  # a redelivered receipt: already logged (a later answer has another id)
        now = self.clock()
        sent = self.state.sent.get(copy)
        self.log.info(
            events.RECEIPT_RECEIVED,
            alert_id=receipt["alert_id"],
            revision=receipt["revision"],
            case_id=receipt["case_id"],
            originator=self.country,
            receipt_from=receipt["recipient"],
            status=receipt["status"],
            rule=receipt["rule"],
            trace_id=trace or (sent.trace_id if sent is not None else None),
            **where,
            latency_ms=latency_ms(receipt["sent_at"], now),
        )
        mark = ReceiptMark(
            alert_id=copy[0],
            revision=copy[1],
            recipient=copy[2],
            status=receipt["status"],
            receipt_id=receipt["receipt_id"],
        )
        self._keep(mark)

    async def on_consent_request(self, message: Message) -> None:
        """A recipient asks this country, as originator, to share onward: decide, answer."""
        request, trace = message.decoded.record, message.trace
        if request["originator"] != self.country:
            raise InvalidMessage(f"consent {request['consent_id']} asks {request['originator']}")
        if request["consent_id"] in self.state.consents:
            return  # a redelivered request: already answered
        data = self.state.records.get((request["alert_id"], request["revision"]))
        alert = codec.decode(self.outbox.registry, data).record if data else None
        result = await consent.answer_consent(self.outbox, request, alert, trace_id=trace)
        answered = ConsentEntry(
            consent_id=request["consent_id"],
            alert_id=request["alert_id"],
            revision=request["revision"],
            originator=self.country,
            onward_to=result.onward_to,
            status="granted" if result.granted else "refused",
        )
        self._keep(answered)

    def _keep(self, entry: Entry) -> None:
        """Apply a state entry now and write it when the batch settles."""
        self.state.apply(entry)
        self.effects.state_entries.append(entry)

    # --- dead letters and overdue receipts --------------------------------------------------

    def dead_letter(
        self, record: ConsumerRecord[bytes, bytes], error: BaseException, where: dict[str, Any]
    ) -> None:
        """Keep a message that cannot be handled on the dead-letter topic, with the error.

        Whatever its size: the payload (and key) are cut so the letter fits under
        :attr:`record_limit`, and the letter says the original length, its SHA-256 and
        whether it was cut.
        """
        now = self.clock()
        error_type = type(error).__name__
        value = record.value or b""
        raw_key = record.key or b""
        letter: dict[str, Any] = {
            "country": self.country,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "key": raw_key[:MAX_KEPT_KEY],
            "payload": b"",
            "original_length": len(value),
            "sha256": hashlib.sha256(value).hexdigest(),
            "truncated": False,
            "error_type": error_type,
            "error": _clip(str(error).strip() or error_type, MAX_ERROR_TEXT),
            "rule": getattr(error, "rule", None),
            "dead_lettered_at": to_millis(now),
        }
        schema = self.outbox.registry.newest("DeadLetter")
        key = raw_key[:MAX_KEPT_KEY].decode(errors="replace")
        kafka_headers = headers(**{HEADER_SCHEMA: schema.full_name})
        # What the letter costs without its payload, plus the record and batch framing.
        # (+10: the payload's length prefix grows from one byte to up to ten.)
        fixed = len(codec.encode_with(schema, letter)) + len(key.encode()) + RECORD_FRAMING + 10
        room = max(0, self.record_limit - fixed)
        letter["payload"] = value[:room]
        letter["truncated"] = len(value) > room or len(raw_key) > MAX_KEPT_KEY
        encoded = codec.encode_with(schema, letter)

        def done(metadata: RecordMetadata) -> None:
            self.log.error(
                events.MESSAGE_DEADLETTERED,
                **where,
                error=letter["error"],
                error_type=error_type,
                rule=letter["rule"],
                original_length=len(value),
                truncated=letter["truncated"],
                deadletter_topic=metadata.topic,
                deadletter_offset=metadata.offset,
            )

        topic = deadletter_topic(self.country, self.outbox.topic_prefix)
        self.effects.writes.append(
            PendingWrite(topic=topic, key=key, value=encoded, headers=kafka_headers, then=done)
        )

    def check_overdue(self) -> None:
        """Log ``receipt.overdue`` once for each sent copy whose answer is past due."""
        now = self.clock()
        for sent in list(self.state.due(now)):
            self.log.warning(
                events.RECEIPT_OVERDUE,
                alert_id=sent.alert_id,
                revision=sent.revision,
                case_id=sent.case_id,
                originator=self.country,
                recipient=sent.recipient,
                due=_iso(sent.response_due),
                trace_id=sent.trace_id,
                latency_ms=latency_ms(sent.created_at, now),
            )
            mark = OverdueMark(
                alert_id=sent.alert_id, revision=sent.revision, recipient=sent.recipient
            )
            self._keep(mark)


def _check_ids(record: dict[str, Any]) -> None:
    # Ids travel on into receipts, record keys and state keys: an oversized one would make
    # those writes fail, so it is refused here, once, as the message's own fault.
    for name in ("alert_id", "case_id", "consent_id", "receipt_id"):
        value = record.get(name)
        if isinstance(value, str) and len(value) > MAX_ID:
            raise InvalidMessage(f"{name} of {len(value)} characters is longer than {MAX_ID}")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
