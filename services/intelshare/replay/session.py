"""A replay against a real broker: topics, consumers if asked, publishers, the audit reader.

:func:`replay_on_kafka` wires the pieces of :mod:`intelshare.replay.kafka_edge` around the engine
of :mod:`intelshare.replay.engine` and takes them down again whatever happens, so a failed or
interrupted replay leaves no clients running (and, with a topic prefix of its own, no
topics behind).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiokafka.errors import KafkaError

from intelshare.errors import IntelshareError
from intelshare.network.acls import ADMIN
from intelshare.replay.clock import RealClock
from intelshare.replay.engine import Replay, ReplayOptions, ReplayReport
from intelshare.replay.kafka_edge import AuditReader, CountrySenders, LocalConsumers
from intelshare.runtime.kafka import connect, make_admin
from intelshare.runtime.topics import ensure_acls, ensure_topics, plan_topics

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from intelshare.runtime.settings import Settings
    from intelshare.scenario.files import CheckReport


@dataclass(frozen=True, kw_only=True, slots=True)
class KafkaSetup:
    """Where and with what a replay runs."""

    settings: Settings
    """Broker, topic prefix, connect timeout (the country is set per publisher)."""
    with_consumers: bool = False
    """Run the countries' consumers in this process."""
    create_topics: bool = True
    """Create the network's topics first (those that exist are left alone)."""
    delete_topics: bool = False
    """Delete the prefix's topics afterwards (only for a prefix made for this replay)."""
    log_dir: Path | None = None
    """Where the services' JSON logs go (one file each); None: the audit topic only."""


def fresh_prefix(scenario: str) -> str:
    """A topic prefix of its own for a self-contained replay, e.g. ``replay.story.3f9c2a1b.``."""
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in scenario)[:40]
    return f"replay.{name}.{secrets.token_hex(4)}."


async def replay_on_kafka(
    report: CheckReport,
    setup: KafkaSetup,
    options: ReplayOptions,
    *,
    progress: Callable[[int], None] | None = None,
    ready: Callable[[], None] | None = None,
) -> ReplayReport:
    """Replay a checked scenario on a broker and return the outcome.

    ``ready`` is called once everything is connected, just before the first step.

    Raises:
        BrokerUnavailable: the broker does not answer or stops answering.
        IntelshareError: topics are missing (and were not to be created).
    """
    assert report.scenario is not None
    assert report.outline is not None
    settings = setup.settings
    network = report.scenario.network
    # Secured, topics and ACLs are the admin's business (admin.properties beside the file).
    admin = settings.as_principal(ADMIN)
    if setup.create_topics or setup.with_consumers:
        await ensure_topics(admin, plan_topics(network, prefix=settings.topic_prefix))
        await ensure_acls(admin, network)
    async with contextlib.AsyncExitStack() as stack:
        if setup.delete_topics:
            stack.push_async_callback(delete_prefixed, admin)
        consumers = None
        if setup.with_consumers:
            consumers = LocalConsumers(
                settings, network, report.outline.countries, log_dir=setup.log_dir
            )
            stack.push_async_callback(consumers.stop)
            await consumers.start()
        senders = CountrySenders(settings, network, log_dir=setup.log_dir)
        stack.push_async_callback(senders.stop)
        replay = Replay(
            report,
            sender=senders,
            clock=RealClock(),
            options=options,
            progress=progress,
        )
        reader = AuditReader(settings, replay.outcome.observe)
        stack.push_async_callback(reader.stop)
        await reader.start()

        def health() -> None:
            reader.check()
            if consumers is not None:
                consumers.check()

        replay.health = health
        # Connecting every sending country now keeps connection time out of the schedule.
        await asyncio.gather(*(senders.publisher(c) for c in sorted(report.outline.senders)))
        if ready is not None:
            ready()
        return await replay.run()
    raise AssertionError  # pragma: no cover - the context manager does not swallow errors


async def delete_prefixed(settings: Settings) -> None:
    """Delete every topic whose name starts with the settings' (non-empty) prefix."""
    prefix = settings.topic_prefix
    if not prefix:
        return
    admin = await connect(lambda: make_admin(settings), what="admin", settings=settings)
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
    except KafkaError:
        pass  # leftover topics of a finished replay are untidy, not wrong
    finally:
        await admin.close()
    with contextlib.suppress(IntelshareError):
        await ensure_acls(settings, None)  # no network: the prefix's grants go with its topics
