"""Every topic a network needs, and creating them idempotently.

With automatic topic creation off, this is the only thing that creates topics: per country
an inbox, a receipts topic, a dead-letter topic and a compacted state topic (the country's
state, see :mod:`intelshare.state.entries`), plus the shared audit topic. Creating a topic that
already exists is not an error, so ``intelshare topics`` can run on every start; but an existing
topic with fewer partitions, fewer replicas or a lower ``min.insync.replicas`` than asked for is
reported (:attr:`TopicsReport.short`), never passed off as what was asked. On a secured broker,
:func:`ensure_acls` then makes the broker's ACLs the network's (:mod:`intelshare.network.acls`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, for_code

from intelshare.errors import BrokerUnavailable, IntelshareError
from intelshare.network.acls import AclChanges, network_acls
from intelshare.network.model import state_topic
from intelshare.runtime.acl_admin import AclError, sync_acls
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
MIN_INSYNC: Final = "min.insync.replicas"
"""The topic setting that says how many replicas a write with acks=all needs."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TopicSpec:
    """One topic to create.

    Attributes:
        name: Topic name, prefix included.
        partitions: Number of partitions.
        replication_factor: Number of replicas.
        config: Topic configuration, e.g. ``cleanup.policy=compact``.
    """

    name: str
    partitions: int
    replication_factor: int
    config: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class Shortfall:
    """An existing topic that has less than its spec asks for."""

    name: str
    """Topic name, prefix included."""
    problems: tuple[str, ...]
    """One phrase per shortfall, e.g. ``replication factor 1 < 3``."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TopicsReport:
    """What :func:`ensure_topics` did."""

    created: tuple[str, ...]
    """Topics created now."""
    existing: tuple[str, ...]
    """Topics that were already there (left as they are)."""
    short: tuple[Shortfall, ...] = ()
    """Existing topics with fewer partitions, replicas or min.insync.replicas than asked."""


def plan_topics(
    network: Network,
    *,
    prefix: str = "",
    partitions: int = 3,
    replication_factor: int = 1,
    min_insync_replicas: int | None = None,
) -> tuple[TopicSpec, ...]:
    """The topics ``network`` needs, sorted by name.

    ``min_insync_replicas`` is set on each topic when given (else the broker's default holds).

    Raises:
        IntelshareError: partitions or replication factor below one, or a min.insync.replicas
            outside 1 to the replication factor.
    """
    if partitions < 1 or replication_factor < 1:
        raise IntelshareError(
            f"partitions ({partitions}) and replication factor ({replication_factor}) "
            "must be at least 1"
        )
    if min_insync_replicas is not None and not 1 <= min_insync_replicas <= replication_factor:
        raise IntelshareError(
            f"min.insync.replicas ({min_insync_replicas}) must be between 1 and the "
            f"replication factor ({replication_factor})"
        )
    common = {MIN_INSYNC: str(min_insync_replicas)} if min_insync_replicas else {}
    specs = [
        TopicSpec(
            name=name,
            partitions=partitions,
            replication_factor=replication_factor,
            config=common,
        )
        for name in network.all_topics(prefix)
    ]
    # State keeps the latest fact per key forever; compaction is what makes it a table.
    specs += [
        TopicSpec(
            name=state_topic(code, prefix),
            partitions=partitions,
            replication_factor=replication_factor,
            config={"cleanup.policy": "compact", **common},
        )
        for code in network.codes
    ]
    return tuple(sorted(specs, key=lambda s: s.name))


async def ensure_topics(
    settings: Settings, specs: Iterable[TopicSpec], *, log: EventLog | None = None
) -> TopicsReport:
    """Create the topics that do not exist yet; leave existing ones alone, but check them.

    An existing topic with fewer partitions or replicas, or a lower min.insync.replicas, than
    its spec is named in the report's ``short``; nothing is changed on it (adding partitions
    would move keys, and the state topic's compaction and every per-key order depend on them).

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
        short = await _shortfalls(admin, [s for s in wanted if s.name in existing])
    except KafkaError as error:
        raise BrokerUnavailable(f"creating topics at {settings.bootstrap}: {error}") from error
    finally:
        await admin.close()
    return TopicsReport(
        created=tuple(sorted(created)), existing=tuple(sorted(existing)), short=short
    )


async def _shortfalls(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> tuple[Shortfall, ...]:
    """The existing topics that have less than their spec: partitions, replicas, min ISR."""
    if not specs:
        return ()
    described = {t["topic"]: t for t in await admin.describe_topics([s.name for s in specs])}
    min_isr = await _min_insync(admin, [s.name for s in specs if MIN_INSYNC in s.config])
    short = []
    for spec in specs:
        problems = []
        partitions = described.get(spec.name, {}).get("partitions") or []
        if len(partitions) < spec.partitions:
            problems.append(f"partitions {len(partitions)} < {spec.partitions}")
        replicas = min((len(p["replicas"]) for p in partitions), default=0)
        if replicas < spec.replication_factor:
            problems.append(f"replication factor {replicas} < {spec.replication_factor}")
        wanted_isr = int(spec.config.get(MIN_INSYNC, "0"))
        if spec.name in min_isr and min_isr[spec.name] < wanted_isr:
            problems.append(f"{MIN_INSYNC} {min_isr[spec.name]} < {wanted_isr}")
        if problems:
            short.append(Shortfall(name=spec.name, problems=tuple(problems)))
    return tuple(short)


MAX_MESSAGE_BYTES: Final = "max.message.bytes"
BROKER_MAX_MESSAGE_BYTES: Final = 1_048_588
"""Kafka's default ``message.max.bytes``: a topic's limit when it cannot be asked."""


async def max_message_bytes(settings: Settings, topic: str) -> int:
    """The largest record batch ``topic`` accepts (its ``max.message.bytes``).

    Kafka's default when the broker cannot be asked (no DESCRIBE_CONFIGS right, an old
    broker): the dead-letter writer then stays within the default.
    """
    admin = make_admin(settings, "consumer-admin")
    try:
        await admin.start()
        values = await _topic_configs(admin, [topic], MAX_MESSAGE_BYTES)
    except (KafkaError, OSError):
        return BROKER_MAX_MESSAGE_BYTES
    finally:
        with contextlib.suppress(KafkaError, OSError, RuntimeError):
            await admin.close()
    return values.get(topic, BROKER_MAX_MESSAGE_BYTES)


async def _min_insync(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Each topic's effective min.insync.replicas (its own setting or the broker's default)."""
    return await _topic_configs(admin, names, MIN_INSYNC)


async def _topic_configs(
    admin: AIOKafkaAdminClient, names: list[str], setting: str
) -> dict[str, int]:
    """Each topic's effective value of one integer setting (its own or the broker's default)."""
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name, {setting: None}) for name in names]
    values: dict[str, int] = {}
    for response in await admin.describe_configs(resources):
        # DescribeConfigs resources: (error_code, error_message, type, name, entries); each
        # entry starts (name, value, ...) in every version.
        for resource in response.resources:
            for entry in resource[4]:
                if entry[0] == setting and entry[1] is not None:
                    values[str(resource[3])] = int(entry[1])
    return values


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


async def ensure_acls(
    settings: Settings, network: Network | None, *, log: EventLog | None = None
) -> AclChanges | None:
    """Make the broker's ACLs for the settings' prefix the network's (None: no network, none).

    Returns None without asking the broker when the settings are not secured (SASL): a
    plaintext broker has no principals and no authorizer. Idempotent; an agreement removed
    from the file loses its grants (see :func:`intelshare.runtime.acl_admin.sync_acls`).

    Raises:
        BrokerUnavailable: the broker does not answer.
        AclError: the broker refused (the client file is not the admin's).
    """
    if not settings.security.uses_sasl:
        return None
    prefix = settings.topic_prefix
    wanted = network_acls(network, prefix) if network is not None else ()
    admin = await connect(lambda: make_admin(settings), what="admin", settings=settings, log=log)
    try:
        return await sync_acls(admin, wanted, prefix)
    except AclError as error:
        raise AclError(
            f"{error} (as {settings.security.principal}; ACLs need the admin's file)"
        ) from None
    except KafkaError as error:
        raise BrokerUnavailable(f"changing ACLs at {settings.bootstrap}: {error}") from error
    finally:
        await admin.close()
