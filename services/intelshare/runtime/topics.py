"""Every topic a network needs, and creating them idempotently.

With automatic topic creation off, this is the only thing that creates topics: per country
an inbox, a receipts topic, a dead-letter topic and a compacted state topic (the country's
memory, see :mod:`intelshare.state.entries`), plus the shared audit topic. Creating a topic that
already exists is not an error, so ``intelshare topics`` can run on every start.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from aiokafka.admin import NewTopic
from aiokafka.errors import KafkaError, for_code

from intelshare.errors import BrokerUnavailable, IntelshareError
from intelshare.network.model import state_topic
from intelshare.runtime.kafka import connect, make_admin

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from aiokafka.admin import AIOKafkaAdminClient

    from intelshare.network.model import Network
    from intelshare.runtime.eventlog import EventLog
    from intelshare.runtime.settings import Settings

TOPIC_ALREADY_EXISTS: Final = 36
"""Kafka's error code for creating a topic that exists."""
LEADER_WAIT: Final = 15.0
"""Seconds to wait for new topics' partitions to get leaders."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TopicSpec:
    """One topic to create."""

    name: str
    """Topic name, prefix included."""
    partitions: int
    """Number of partitions."""
    replication_factor: int
    """Number of replicas."""
    config: Mapping[str, str] = field(default_factory=dict)
    """Topic configuration, e.g. ``cleanup.policy=compact``."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TopicsReport:
    """What :func:`ensure_topics` did."""

    created: tuple[str, ...]
    """Topics created now."""
    existing: tuple[str, ...]
    """Topics that were already there (left as they are)."""


def plan_topics(
    network: Network, *, prefix: str = "", partitions: int = 3, replication_factor: int = 1
) -> tuple[TopicSpec, ...]:
    """The topics ``network`` needs, sorted by name.

    Raises:
        IntelshareError: partitions or replication factor below one.
    """
    if partitions < 1 or replication_factor < 1:
        raise IntelshareError(
            f"partitions ({partitions}) and replication factor ({replication_factor}) "
            "must be at least 1"
        )
    specs = [
        TopicSpec(name=name, partitions=partitions, replication_factor=replication_factor)
        for name in network.all_topics(prefix)
    ]
    # State keeps the latest fact per key forever; compaction is what makes it a table.
    specs += [
        TopicSpec(
            name=state_topic(code, prefix),
            partitions=partitions,
            replication_factor=replication_factor,
            config={"cleanup.policy": "compact"},
        )
        for code in network.codes
    ]
    return tuple(sorted(specs, key=lambda s: s.name))


async def ensure_topics(
    settings: Settings, specs: Iterable[TopicSpec], *, log: EventLog | None = None
) -> TopicsReport:
    """Create the topics that do not exist yet; leave existing ones alone.

    Raises:
        BrokerUnavailable: the broker does not answer.
        IntelshareError: the broker refused a topic (e.g. replication factor above the
            number of brokers).
    """
    wanted = list(specs)
    admin = await connect(lambda: make_admin(settings), what="admin", settings=settings, log=log)
    try:
        response = await admin.create_topics(
            [
                NewTopic(
                    name=s.name,
                    num_partitions=s.partitions,
                    replication_factor=s.replication_factor,
                    topic_configs=dict(s.config),
                )
                for s in wanted
            ]
        )
        created: list[str] = []
        existing: list[str] = []
        for name, code, message in _topic_errors(response):
            if code == 0:
                created.append(name)
            elif code == TOPIC_ALREADY_EXISTS:
                existing.append(name)
            else:
                kind = for_code(code)
                raise IntelshareError(f"topic {name}: {kind.__name__}: {message or kind.message}")
        await _wait_for_leaders(admin, [s.name for s in wanted])
    except KafkaError as error:
        raise BrokerUnavailable(f"creating topics at {settings.bootstrap}: {error}") from error
    finally:
        await admin.close()
    return TopicsReport(created=tuple(sorted(created)), existing=tuple(sorted(existing)))


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    # A new topic's partitions get leaders a moment after creation; writing before that
    # only costs retries, but services starting at once would log them as errors.
    deadline = time.monotonic() + LEADER_WAIT
    while True:
        described = await admin.describe_topics(names)
        ready = all(
            topic["error_code"] == 0
            and topic["partitions"]
            and all(p["error_code"] == 0 and p["leader"] >= 0 for p in topic["partitions"])
            for topic in described
        )
        if ready or time.monotonic() > deadline:
            return
        await asyncio.sleep(0.2)


def _topic_errors(response: Any) -> Iterable[tuple[str, int, str | None]]:  # noqa: ANN401
    # CreateTopicsResponse versions differ: (name, code) up to v0, (name, code, message)
    # from v1, and more fields from v5; the first two or three are what we need.
    for item in response.topic_errors:
        name, code = item[0], item[1]
        message = item[2] if len(item) > 2 and isinstance(item[2], str) else None  # noqa: PLR2004
        yield str(name), int(code), message
