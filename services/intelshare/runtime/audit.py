"""The audit mirror: every audit event a service logs is also written to ``intel.audit``.

Logging is synchronous and must never wait on Kafka, so events are queued and one task
writes them in order (keyed by country, so each country's events stay in order on one
partition). What has queued up while the task waited goes out as one record: its value is
the events' JSON lines joined by newlines (one line when events come one at a time), so a
busy service writes one audit record per batch of alerts, not one per event.
:func:`audit_events` reads a record back. :meth:`AuditMirror.flush` waits until everything
queued is acknowledged; a service calls it before it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
from typing import TYPE_CHECKING, Final

from aiokafka.errors import KafkaError

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

    from intelshare.runtime.eventlog import EventLog

MAX_QUEUED: Final = 100_000
"""Events held while the broker is slow; beyond this they are counted and dropped."""
MAX_RECORD_BYTES: Final = 128 * 1024
"""An audit record grows to about this many bytes of events (half a producer batch)."""


def audit_events(value: bytes) -> list[bytes]:
    """The JSON events one audit record holds, one per line (compact JSON has no newline)."""
    return [line for line in value.split(b"\n") if line]


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
        carried: tuple[str, bytes] | None = None
        while True:
            key, line = carried or await self._queue.get()
            lines, size, carried = [line], len(line), None
            # Events logged meanwhile ride along while they have the same key; the first of
            # another key starts the next record (each key's events stay in order).
            while size < MAX_RECORD_BYTES and not self._queue.empty():
                carried = self._queue.get_nowait()
                if carried[0] != key:
                    break
                lines.append(carried[1])
                size += len(carried[1]) + 1
                carried = None
            try:
                future = await self._producer.send(self.topic, b"\n".join(lines), key=key.encode())
            except KafkaError as error:
                self._failed(error, len(lines))
            else:
                self._pending.add(future)
                future.add_done_callback(functools.partial(self._done, len(lines)))
            finally:
                for _ in lines:
                    self._queue.task_done()

    def _done(self, events: int, future: asyncio.Future[object]) -> None:
        self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            self._failed(future.exception(), events)

    def _failed(self, error: BaseException | None, events: int) -> None:
        if not self.failed:
            sys.stderr.write(f"intelshare: audit event not written to {self.topic}: {error}\n")
        self.failed += events
