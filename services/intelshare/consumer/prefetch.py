"""Taking fetched records off aiokafka the moment they arrive, so that it keeps fetching.

aiokafka sends no new fetch to a broker while records it fetched from there wait to be
polled (for up to 100 ms, then it fetches the other partitions only). A consumer that polls
only between batches (handle, wait for the transaction, poll) therefore leaves the fetcher
idle most of the time at a steady rate, and each alert waits for the batch before it. A
:class:`Prefetch` polls in a task of its own and keeps what it got, in order, until the
consumer's loop takes it; a bounded amount, so a slow consumer still holds the fetcher back.

Each poll is tagged with the number of rebalances begun when it returned: the loop drops the
polls made before the latest revocation (:func:`fresh`), as it did with a batch in hand.

Given a :class:`~intelshare.runtime.cryptohelper.CryptoHelper`, a large poll's signatures go to its
helper process as the poll arrives (:func:`proven` collects what came back).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Final

from intelshare.runtime.cryptohelper import MIN_RECORDS

PROOF_WAIT: Final = 1.0
"""Seconds the loop waits for the helper's answer about a poll (a poll of 500 takes it ~30 ms)."""

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from aiokafka import AIOKafkaConsumer

    from intelshare.consumer.transactions import Batch
    from intelshare.runtime.cryptohelper import CryptoHelper, Proven


@dataclass(frozen=True, slots=True)
class Poll:
    """What one ``getmany`` returned, and when."""

    batch: Batch
    """Records per partition, in offset order."""
    revocations: int
    """Rebalances begun (partitions revoked) when the poll returned."""
    proofs: asyncio.Future[Proven] | None = None
    """Its signatures as a helper process checks them (none for a small poll)."""


class Prefetch:
    """Polls ``consumer`` in the background into a bounded queue of :class:`Poll`."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        *,
        revocations: Callable[[], int],
        max_records: int,
        poll_ms: int,
        helper: CryptoHelper | None = None,
    ) -> None:
        """Poll up to ``max_records`` at a time; hold at most twice that before pausing.

        ``helper``: checks the signatures of each poll of at least
        :data:`~intelshare.runtime.cryptohelper.MIN_RECORDS` records in the background.
        """
        self._consumer = consumer
        self._helper = helper
        self._revocations = revocations
        self._max_records = max_records
        self._poll_ms = poll_ms
        self._polls: deque[Poll] = deque()
        self._held = 0
        self._arrived = asyncio.Event()
        self._full = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start polling (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._poll(), name="prefetch")

    async def stop(self) -> None:
        """Stop polling; what is held is dropped (never committed, so delivered again)."""
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            # Its failure, if it failed, was raised by wait() already.
            await asyncio.wait({task})
            if not task.cancelled():
                task.exception()
        for poll in self._polls:
            if poll.proofs is not None:
                poll.proofs.cancel()
        self._polls.clear()
        self._held = 0

    @property
    def held(self) -> int:
        """Records held, waiting for the loop to take them."""
        return self._held

    async def wait(self, seconds: float) -> None:
        """Return once a poll is held, or after ``seconds``.

        Raises:
            Exception: whatever the background ``getmany`` raised (a broker or ACL error).
        """
        await self._until(() if self._polls else (self._arrived,), seconds)

    async def gather(self, seconds: float, stop: asyncio.Event) -> None:
        """Return once a full batch is held, ``stop`` is set, or after ``seconds``.

        Raises:
            Exception: whatever the background ``getmany`` raised (a broker or ACL error).
        """
        await self._until((self._full, stop), seconds)

    async def _until(self, events: tuple[asyncio.Event, ...], seconds: float) -> None:
        """Wait for one of ``events``, the poller's end, or ``seconds``; raise its failure.

        With no events it does not wait at all, only raises what the poller raised.
        """
        task = self._task
        if task is None:
            raise RuntimeError("Prefetch is not started")
        if events:
            waits = [asyncio.ensure_future(event.wait()) for event in events]
            try:
                await asyncio.wait({*waits, task}, timeout=seconds, return_when="FIRST_COMPLETED")
            finally:
                for wait in waits:
                    wait.cancel()
        if task.done():
            task.result()

    async def proofs(self, limit: float = PROOF_WAIT) -> None:
        """Wait until the signatures of every poll held are checked (see :func:`proven`).

        At most ``limit`` seconds: a stalled helper never stalls the consumer, which then
        checks what is not back itself.
        """
        pending = [poll.proofs for poll in self._polls if poll.proofs and not poll.proofs.done()]
        if pending:
            await asyncio.wait(pending, timeout=limit)

    def take(self) -> list[Poll]:
        """Every poll held, oldest first, and make room for more."""
        polls = list(self._polls)
        self._polls.clear()
        self._held = 0
        self._arrived.clear()
        self._full.clear()
        self._room.set()
        return polls

    async def _poll(self) -> None:
        consumer = self._consumer
        while True:
            await self._room.wait()
            batch = await consumer.getmany(timeout_ms=self._poll_ms, max_records=self._max_records)
            if not batch:
                continue
            count = sum(map(len, batch.values()))
            proofs = None
            if self._helper is not None and count >= MIN_RECORDS:
                proofs = self._helper.prove(chain.from_iterable(batch.values()))
            self._polls.append(Poll(batch, self._revocations(), proofs))
            self._held += count
            if self._held >= self._max_records:
                self._full.set()
            if self._held >= 2 * self._max_records:
                self._room.clear()
            self._arrived.set()


def fresh(polls: Iterable[Poll], revocations: int) -> Batch:
    """The records of the polls made since the latest revocation, merged per partition.

    A poll made before partitions were revoked is dropped whole: the partitions may have a
    new owner already, and the assignment aiokafka installs after a revocation starts every
    partition from its committed offset, so nothing is lost.
    """
    merged: Batch = {}
    for poll in polls:
        if poll.revocations != revocations:
            continue
        for tp, records in poll.batch.items():
            merged.setdefault(tp, []).extend(records)
    return merged


def proven(polls: Iterable[Poll]) -> Proven:
    """The signatures the helper found good in ``polls`` (those checked by now)."""
    found: Proven = {}
    for poll in polls:
        if poll.proofs is not None and poll.proofs.done() and not poll.proofs.cancelled():
            found.update(poll.proofs.result())
    return found
