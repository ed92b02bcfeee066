"""aiokafka clients built from :class:`~.settings.Settings`, and connecting to them.

Producers are idempotent with ``acks=all``: a retried send never writes a second copy and an
acknowledged alert survives the loss of a broker. Consumers never auto-commit: services commit
offsets only after a message is handled (at-least-once). :func:`connect` starts any client,
retrying an unreachable broker with backoff and saying so in one log line, and raises
:class:`~intelshare.errors.BrokerUnavailable` when it gives up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.cluster import ClusterMetadata
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer import sender as aiokafka_sender

from intelshare.errors import BrokerUnavailable
from intelshare.runtime.refusals import PRINCIPAL, access_denied, identity_refused, principal_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from intelshare.runtime.eventlog import EventLog
    from intelshare.runtime.settings import Settings


MAX_REQUEST_SIZE: Final = 1_048_576
"""The largest request a producer sends (aiokafka's default, stated so writers can size
their records: the consumer cuts dead letters to fit)."""

TRANSACTION_TIMEOUT_MS: Final = 15_000
"""How long the broker lets a transaction stay open before it aborts it: bounds how long a
crashed consumer's unfinished transaction holds back ``read_committed`` readers."""
TXN_RETRY_BACKOFF_MS: Final = 20
"""A transactional producer's wait before retrying (see make_producer)."""
FETCH_MAX_WAIT_MS: Final = 100
"""How long the broker may hold a fetch while no new record is there (see make_consumer)."""
MARKERS_BACKOFF_S: Final = 0.002
"""How long a transaction's first AddPartitionsToTxn waits before asking again while the
broker still writes the previous commit's markers (CONCURRENT_TRANSACTIONS).

A consumer begins its next transaction as soon as the previous one commits, and about one
begin in two meets those markers still being written (~1 ms on one broker). aiokafka waits
a fixed 20 ms (``BACKOFF_OVERRIDE``, KAFKA-5477's figure) before asking again: measured
against a local broker, back-to-back transactions took 13 ms each at 20 ms, 3.3 ms at 2 ms
(~0.5 retries a transaction either way, and less client CPU per transaction). The module
value is aiokafka's only knob for this wait; tests/unit/test_kafka_helpers.py fails if a
new aiokafka stops reading it.
"""
# aiokafka reads the module's value each time it answers CONCURRENT_TRANSACTIONS.
aiokafka_sender.BACKOFF_OVERRIDE = MARKERS_BACKOFF_S


MAX_BATCH_BYTES: Final = 256 * 1024
"""Largest record batch per partition (aiokafka's default is 16 KiB).

At a steady rate a batch holds what ``linger_ms`` gathers, so this changes nothing there;
when publishes pile up (a backlog, a replay) the batches grow while a request is in flight
and one request carries hundreds of alerts instead of ~50, which is what bounds a loaded
machine: each produce request costs a round trip and a system call or two.
"""


class KeyPartitioner:
    """aiokafka's default partitioner, remembering each key's murmur2 hash.

    The same partition for the same key as the default (and as Java clients), but keys
    repeat — a case id for every alert of the case, the country for every audit event — and
    the default computes the hash in pure Python for every record (:func:`partition_for`).
    """

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        """The partition for ``key`` among ``all_partitions`` (random among available if None)."""
        if key is None:
            return int(DefaultPartitioner()(key, all_partitions, available))
        return partition_for(key, all_partitions)


@functools.lru_cache(maxsize=16_384)
def _key_hash(key: bytes) -> int:
    # One memory per process (a replay runs a producer per country in one): a case's alerts
    # come close together, and state entries' keys never come again, so the recent keys
    # catch the repeats; 16,384 cost ~3.5 MiB once full.
    return _positive_murmur2(key)


def partition_for(key: bytes, partitions: list[int]) -> int:
    """The partition of ``partitions`` (sorted) for ``key``: Kafka's murmur2, remembered.

    What aiokafka's default partitioner (and Java's) gives the key; :class:`KeyPartitioner`
    and the batch writers (:mod:`intelshare.runtime.batches`) both place records with it.
    """
    return partitions[_key_hash(key) % len(partitions)]


_M: Final = 0x5BD1E995
_MASK: Final = 0xFFFFFFFF
_WORDS: Final = struct.Struct("<I")


def _positive_murmur2(key: bytes) -> int:
    # Kafka's murmur2 (aiokafka's murmur2, the Java client's), a word at a time: aiokafka's
    # takes each byte apart, ~8 µs for a state key that is never seen twice.
    length = len(key)
    h = 0x9747B28C ^ length
    whole = length & ~3
    for (word,) in _WORDS.iter_unpack(key[:whole]):
        k = (word * _M) & _MASK
        h = ((h * _M) & _MASK) ^ (((k ^ (k >> 24)) * _M) & _MASK)
    tail = key[whole:]
    if tail:
        h ^= int.from_bytes(tail, "little")
        h = (h * _M) & _MASK
    h = ((h ^ (h >> 13)) * _M) & _MASK
    return (h ^ (h >> 15)) & 0x7FFFFFFF


def make_producer(
    settings: Settings,
    service: str,
    *,
    linger_ms: int = 2,
    transactional_id: str | None = None,
) -> AIOKafkaProducer:
    """An idempotent ``acks=all`` producer with this service's client id.

    ``linger_ms``: a few milliseconds of batching cost little latency and save requests when
    many publishes run at once; a service that writes each batch in one go needs none.
    ``transactional_id``: a transactional producer (every write inside a transaction).
    """
    return _as(
        settings,
        AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap,
            client_id=settings.client_id_for(service),
            acks="all",
            enable_idempotence=True,
            linger_ms=linger_ms,
            max_batch_size=MAX_BATCH_BYTES,
            partitioner=KeyPartitioner(),
            request_timeout_ms=30_000,
            max_request_size=MAX_REQUEST_SIZE,
            transactional_id=transactional_id,
            transaction_timeout_ms=TRANSACTION_TIMEOUT_MS,
            # Other retriable refusals inside a transaction (CONCURRENT_TRANSACTIONS once
            # partitions are added, a coordinator moving) are retried after this long; 100
            # (the default) put p90 ~100 ms on alerts at 200/s. The commonest such wait, a
            # begin meeting the previous commit's markers, is MARKERS_BACKOFF_S.
            retry_backoff_ms=TXN_RETRY_BACKOFF_MS if transactional_id else 100,
            **settings.security.aiokafka_options(),
        ),
    )


def make_consumer(
    settings: Settings, service: str, *, group_id: str | None = None
) -> AIOKafkaConsumer:
    """A consumer that never auto-commits; in ``group_id``'s group, or none (manual assign)."""
    return _as(
        settings,
        AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap,
            client_id=settings.client_id_for(service),
            group_id=group_id,
            enable_auto_commit=False,
            # A new group starts at the beginning: nothing addressed to a country is skipped
            # because its consumer started after the alert was sent.
            auto_offset_reset="earliest",
            # Consumers write receipts, consent answers and state in transactions: a reader
            # sees a batch's records only once its transaction committed, never an aborted one.
            isolation_level="read_committed",
            # aiokafka leaves a partition out of the next fetch while its records wait to be
            # polled; that fetch then waits up to this long on the broker, and the partition's
            # new records with it. 500 (the default) put 400-600 ms on the slowest alerts at
            # 200 alerts/s; 100 costs a few more empty fetches when idle.
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            **settings.security.aiokafka_options(),
        ),
    )


def make_admin(settings: Settings, service: str = "admin") -> AIOKafkaAdminClient:
    """An admin client (topic creation)."""
    return _as(
        settings,
        AIOKafkaAdminClient(
            bootstrap_servers=settings.bootstrap,
            client_id=settings.client_id_for(service),
            **settings.security.aiokafka_options(),
        ),
    )


K = TypeVar("K")


def _as(settings: Settings, client: K) -> K:
    # Every client made here knows its principal, so a refusal can name who was refused.
    setattr(client, PRINCIPAL, settings.security.principal)
    return client


async def topic_partitions(
    consumer: AIOKafkaConsumer, topics: Iterable[str]
) -> dict[str, set[int]]:
    """The partitions of each topic that exists (fresh metadata; absent topics left out).

    Raises:
        AccessDenied: a topic exists but the client's principal may not see it.
    """
    # aiokafka's public partitions_for_topic() only knows topics the client already tracks;
    # the full metadata fetch behind consumer.topics() knows every topic.
    names = list(topics)
    client = consumer._client  # noqa: SLF001
    cluster = await client.fetch_all_metadata()
    found: dict[str, set[int]] = {}
    for topic in names:
        partitions = cluster.partitions_for_topic(topic)
        if partitions:
            found[topic] = set(partitions)
    missing = [t for t in names if t not in found]
    if missing and getattr(consumer, PRINCIPAL, "User:ANONYMOUS") != "User:ANONYMOUS":
        # A listing of all topics leaves out those the principal may not see; asked for by
        # name, they come back as refused, which is what the user needs to hear.
        named = ClusterMetadata()
        await client._metadata_update(named, missing)  # noqa: SLF001
        if named.unauthorized_topics:
            error = TopicAuthorizationFailedError(*sorted(named.unauthorized_topics))
            denied = access_denied(error, principal_of(consumer), "READ")
            if denied is not None:
                raise denied
    return found


@dataclass(frozen=True, kw_only=True, slots=True)
class Backoff:
    """Delays between connection attempts: exponential, capped, within a deadline."""

    initial: float = 0.5
    """The first delay in seconds."""
    factor: float = 2.0
    """Each delay is the previous one times this."""
    maximum: float = 5.0
    """No delay is longer than this."""
    deadline: float = 60.0
    """Stop retrying after this many seconds in total (0: never stop)."""

    def delays(self) -> Iterator[float]:
        """The delays to sleep between attempts, ending when the deadline would pass."""
        delay = self.initial
        spent = 0.0
        while not self.deadline or spent + delay <= self.deadline:
            yield delay
            spent += delay
            delay = min(delay * self.factor, self.maximum)


class Client(Protocol):
    """What :func:`connect` needs of an aiokafka client."""

    async def start(self) -> None:
        """Connect."""


C = TypeVar("C", bound=Client)


async def connect(
    factory: Callable[[], C],
    *,
    what: str,
    settings: Settings,
    log: EventLog | None = None,
    backoff: Backoff | None = None,
) -> C:
    """Start a fresh client from ``factory``, retrying an unreachable broker with backoff.

    The first failure is logged once as ``broker.unreachable`` (one line: where, why, that
    it retries, and for how long); success after that as ``broker.reachable``. A failed
    client is closed and a new one made, since aiokafka clients do not restart.

    A refusal that retrying cannot cure ends it at once: a wrong password or an untrusted
    certificate (:class:`~intelshare.errors.AuthenticationFailed`), or an ACL refusing the
    client what it asked for when it started, such as its subscription
    (:class:`~intelshare.errors.AccessDenied`).

    Raises:
        BrokerUnavailable: the broker did not answer within ``settings.connect_timeout``.
        AuthenticationFailed: the broker refused the client's identity, or the client the
            broker's certificate.
        AccessDenied: an ACL refused the client.
    """
    backoff = backoff or Backoff(deadline=settings.connect_timeout)
    delays = backoff.delays()
    began = time.monotonic()
    attempts = 0
    while True:
        client = factory()
        attempts += 1
        try:
            await client.start()
        except (KafkaError, OSError) as error:
            await _close(client)
            # A consumer starting on its subscription is refused as a reader.
            operation = "READ" if isinstance(client, AIOKafkaConsumer) else "DESCRIBE"
            denied = access_denied(error, principal_of(client), operation)
            if denied is not None:
                raise denied from error
            if attempts == 1:
                refused = await identity_refused(settings.security, settings.bootstrap)
                if refused is not None:
                    raise refused from error
            delay = next(delays, None)
            if delay is None:
                raise BrokerUnavailable(
                    f"Kafka broker at {settings.bootstrap} unreachable for {what}: {error} "
                    f"(gave up after {attempts} attempts in {time.monotonic() - began:.0f} s)"
                ) from error
            if attempts == 1 and log is not None:
                limit = f"up to {backoff.deadline:g} s" if backoff.deadline else "until it answers"
                log.warning(
                    "broker.unreachable",
                    bootstrap=settings.bootstrap,
                    client=what,
                    error=str(error) or type(error).__name__,
                    message=f"Kafka broker at {settings.bootstrap} unreachable; retrying with "
                    f"backoff {limit}",
                )
            await asyncio.sleep(delay)
            continue
        if attempts > 1 and log is not None:
            log.info(
                "broker.reachable",
                bootstrap=settings.bootstrap,
                client=what,
                attempts=attempts,
                waited_s=round(time.monotonic() - began, 1),
            )
        return client


async def _close(client: object) -> None:
    for name in ("stop", "close"):
        method: Any = getattr(client, name, None)
        if method is not None:
            # A client that never connected may fail to close; there is nothing to free.
            with contextlib.suppress(KafkaError, OSError, RuntimeError, AttributeError):
                await method()
            return
