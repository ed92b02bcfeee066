"""The audit mirror: every audit event a service logs is also written to ``intel.audit``.

Logging is synchronous and must never wait on Kafka, so events are queued and one task
writes them in order (keyed by country, so each country's events stay in order on one
partition). :meth:`AuditMirror.flush` waits until everything queued is acknowledged; a
service calls it before it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING, Final

from aiokafka.errors import KafkaError

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

    from intelshare.runtime.eventlog import EventLog

MAX_QUEUED: Final = 100_000
"""Events held while the broker is slow; beyond this they are counted and dropped."""


class AuditMirror:
    """Writes rendered audit events to the audit topic through a service's producer."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        """Mirror to ``topic`` with ``producer`` (shared with the service, not owned)."""
        self.topic = topic
        self._producer = producer
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(MAX_QUEUED)
        self._pending: set[asyncio.Future[object]] = set()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0
        """Events dropped because the queue was full."""
        self.failed = 0
        """Events the broker did not acknowledge."""

    @classmethod
    def attached(cls, log: EventLog, producer: AIOKafkaProducer, topic: str) -> AuditMirror:
        """A started mirror of ``log``'s audit events to ``topic`` (see :meth:`detach`)."""
        mirror = cls(producer, topic)
        mirror.start()
        log.attach_sink(mirror)
        return mirror

    async def detach(self, log: EventLog) -> None:
        """Stop mirroring ``log``; write what is queued, then end the writer task."""
        log.attach_sink(None)
        await self.stop()

    def start(self) -> None:
        """Start the writer task (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain(), name="audit")

    def offer(self, key: str, line: bytes) -> None:
        """Queue one event; never blocks (a full queue drops and counts)."""
        try:
            self._queue.put_nowait((key, line))
        except asyncio.QueueFull:
            if not self.dropped:
                sys.stderr.write(
                    f"intelshare: audit queue full; dropping events for {self.topic}\n"
                )
            self.dropped += 1

    async def flush(self) -> None:
        """Wait until every queued event is acknowledged (or failed)."""
        if self._task is None:
            return
        await self._queue.join()
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def stop(self) -> None:
        """Flush, then end the writer task."""
        if self._task is None:
            return
        try:
            await self.flush()
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _drain(self) -> None:
        while True:
            key, line = await self._queue.get()
            try:
                future = await self._producer.send(self.topic, line, key=key.encode())
            except KafkaError as error:
                self._failed(error)
            else:
                self._pending.add(future)
                future.add_done_callback(self._done)
            finally:
                self._queue.task_done()

    def _done(self, future: asyncio.Future[object]) -> None:
        self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            self._failed(future.exception())

    def _failed(self, error: BaseException | None) -> None:
        if not self.failed:
            sys.stderr.write(f"intelshare: audit event not written to {self.topic}: {error}\n")
        self.failed += 1
