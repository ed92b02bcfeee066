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
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from intelshare.errors import BrokerUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from intelshare.runtime.eventlog import EventLog
    from intelshare.runtime.settings import Settings


def make_producer(settings: Settings, service: str, *, linger_ms: int = 2) -> AIOKafkaProducer:
    """An idempotent ``acks=all`` producer with this service's client id.

    ``linger_ms``: a few milliseconds of batching cost little latency and save requests when
    many publishes run at once; a service that writes each batch in one go needs none.
    """
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        client_id=settings.client_id_for(service),
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        request_timeout_ms=30_000,
    )


def make_consumer(
    settings: Settings, service: str, *, group_id: str | None = None
) -> AIOKafkaConsumer:
    """A consumer that never auto-commits; in ``group_id``'s group, or none (manual assign)."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        client_id=settings.client_id_for(service),
        group_id=group_id,
        enable_auto_commit=False,
        # A new group starts at the beginning: nothing addressed to a country is skipped
        # because its consumer started after the alert was sent.
        auto_offset_reset="earliest",
    )


def make_admin(settings: Settings, service: str = "admin") -> AIOKafkaAdminClient:
    """An admin client (topic creation)."""
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap, client_id=settings.client_id_for(service)
    )


async def topic_partitions(
    consumer: AIOKafkaConsumer, topics: Iterable[str]
) -> dict[str, set[int]]:
    """The partitions of each topic that exists (fresh metadata; absent topics left out)."""
    # aiokafka's public partitions_for_topic() only knows topics the client already tracks;
    # the full metadata fetch behind consumer.topics() knows every topic.
    cluster = await consumer._client.fetch_all_metadata()  # noqa: SLF001
    found: dict[str, set[int]] = {}
    for topic in topics:
        partitions = cluster.partitions_for_topic(topic)
        if partitions:
            found[topic] = set(partitions)
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

    Raises:
        BrokerUnavailable: the broker did not answer within ``settings.connect_timeout``.
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
