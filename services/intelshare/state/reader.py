"""Reading a country's state topic (the edge of :mod:`intelshare.state.entries`).

The consumer reads the whole topic before it handles its first message, then keeps
reading what is new before each batch, so its :class:`~intelshare.state.entries.CountryState`
includes what the country's producer sent a moment ago. Reading uses a consumer outside any
group that is assigned every partition, so every instance of a country's consumer sees the
whole state whatever partitions of the inbox it owns.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiokafka import TopicPartition

from intelshare.errors import IntelshareError
from intelshare.network.model import state_topic
from intelshare.runtime.kafka import connect, make_consumer, topic_partitions
from intelshare.state.entries import CountryState, decode_entry

if TYPE_CHECKING:
    from aiokafka import AIOKafkaConsumer

    from intelshare.runtime.eventlog import EventLog
    from intelshare.runtime.settings import Settings

_LOAD_TIMEOUT_MS = 1000


class StateReader:
    """A country's state, read from its state topic and kept current."""

    def __init__(self, settings: Settings, *, log: EventLog | None = None) -> None:
        """Prepare to read ``settings.country``'s state topic."""
        self.settings = settings
        self.topic = state_topic(settings.require_country(), settings.topic_prefix)
        self.state = CountryState()
        """The state as read so far."""
        self.loaded = 0
        """How many entries were applied."""
        self._log = log
        self._reader: AIOKafkaConsumer | None = None
        self._partitions: list[TopicPartition] = []

    async def start(self) -> None:
        """Connect and read the topic to its current end.

        Raises:
            IntelshareError: the state topic does not exist (create topics first).
        """
        self._reader = await connect(
            lambda: make_consumer(self.settings, "state"),
            what="state reader",
            settings=self.settings,
            log=self._log,
        )
        partitions = (await topic_partitions(self._reader, [self.topic])).get(self.topic)
        if not partitions:
            raise IntelshareError(
                f"topic {self.topic} does not exist at {self.settings.bootstrap}; "
                "create the network's topics first (intelshare topics)"
            )
        self._partitions = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        self._reader.assign(self._partitions)
        await self._reader.seek_to_beginning(*self._partitions)
        await self.catch_up()

    async def catch_up(self) -> None:
        """Read until every partition's position reaches the end it had when called."""
        reader = self._require()
        ends = await reader.end_offsets(self._partitions)
        while True:
            positions = {tp: await reader.position(tp) for tp in self._partitions}
            if all(positions[tp] >= end for tp, end in ends.items()):
                return
            self._apply(await reader.getmany(*self._partitions, timeout_ms=_LOAD_TIMEOUT_MS))

    async def poll(self) -> None:
        """Apply whatever new entries have already been fetched (does not wait)."""
        self._apply(await self._require().getmany(timeout_ms=0))

    async def stop(self) -> None:
        """Disconnect."""
        if self._reader is not None:
            reader, self._reader = self._reader, None
            await asyncio.shield(reader.stop())

    def _apply(self, batch: dict[TopicPartition, list[object]]) -> None:
        for records in batch.values():
            for record in records:
                value = getattr(record, "value", None)
                if not isinstance(value, bytes):
                    continue  # a tombstone: nothing to keep
                entry = decode_entry(value)
                if entry is not None:
                    self.state.apply(entry)
                    self.loaded += 1

    def _require(self) -> AIOKafkaConsumer:
        if self._reader is None:
            raise RuntimeError("StateReader is not started")
        return self._reader
