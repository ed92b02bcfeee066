"""Verifying a poll's signatures in a helper process while the consumer handles the last one.

Ed25519 verification is the largest single cost of handling a message (~60 µs of ~350), and
Python runs one thread at a time, so the consumer's second core stood idle while it drained
a backlog. A :class:`Verifier` sends the signatures of each large poll (value, signature,
the claimed signer's public key) to a helper process as the poll arrives; by the time the
consumer reaches those records their signatures are usually checked.

What it returns is only a shortcut, never a verdict: :data:`Proven` maps a signature that
verified to the exact public key and value it verified over, and
:func:`intelshare.consumer.proof.check_signature` skips its own check only for that same
triple. Anything else (a poll below :data:`MIN_RECORDS`, a signature that failed, a proof
not back yet, a helper that died) is verified in the consumer as before, so a forged or
tampered record is refused by the same rule either way.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Final

from intelshare.contract import events
from intelshare.contract.headers import HEADER_ORIGINATOR
from intelshare.contract.signing import (
    HEADER_ORIGIN_SIGNATURE,
    HEADER_ORIGIN_VALUE,
    HEADER_SIGNATURE,
    HEADER_SIGNER,
    verify,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from aiokafka.structs import ConsumerRecord

    from intelshare.runtime.eventlog import EventLog

Proven = dict[bytes, tuple[bytes, bytes]]
"""Signatures that verified, each with the public key and the value it verified over."""

Item = tuple[bytes, bytes, bytes]
"""What the helper checks: public key, signature, value."""

MIN_RECORDS: Final = 64
"""Smaller polls are verified in the consumer: a steady trickle gains nothing from a round
trip to another process, and a poll this small is quick to check anyway."""


def verify_all(items: list[Item]) -> list[bool]:
    """Whether each signature verifies (run in the helper process)."""
    return [verify(public, signature, value) for public, signature, value in items]


class Verifier:
    """A helper process that checks polls' signatures ahead of the consumer."""

    def __init__(self, public_key: Callable[[str], bytes | None], *, log: EventLog) -> None:
        """Look keys up with ``public_key`` (the network's); report a failed helper to ``log``."""
        self._public_key = public_key
        self._log = log
        self._pool: ProcessPoolExecutor | None = None
        self.proven = 0
        """Signatures the helper found good so far."""

    async def start(self) -> None:
        """Start the helper process and wait until it answers."""
        # spawn, not fork: the consumer has threads (aiokafka's resolver) by then.
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")
        )
        await asyncio.wrap_future(self._pool.submit(verify_all, []))

    def prove(self, records: Iterable[ConsumerRecord[bytes, bytes]]) -> asyncio.Future[Proven]:
        """Start checking the signatures on ``records``; what verified, once done.

        Never fails: a helper that died (or was never started) proves nothing, and the
        consumer then verifies everything itself.
        """
        loop = asyncio.get_running_loop()
        items = [item for record in records for item in self._items(record.headers, record.value)]
        if self._pool is None or not items:
            done: asyncio.Future[Proven] = loop.create_future()
            done.set_result({})
            return done
        try:
            checked = asyncio.wrap_future(self._pool.submit(verify_all, items))
        except RuntimeError as error:  # a broken or shut-down pool refuses new work
            self._failed(error)
            return self.prove(())
        return asyncio.ensure_future(self._collect(items, checked))

    async def _collect(self, items: list[Item], checked: asyncio.Future[list[bool]]) -> Proven:
        try:
            verdicts = await checked
        except Exception as error:  # noqa: BLE001 - any helper failure means "verify here"
            self._failed(error)
            return {}
        found = {
            signature: (public, value)
            for (public, signature, value), good in zip(items, verdicts, strict=True)
            if good
        }
        self.proven += len(found)
        return found

    def _items(
        self, headers: Sequence[tuple[str, bytes | None]] | None, value: bytes | None
    ) -> list[Item]:
        """The signature (and an onward copy's origin proof) a record claims, with keys."""
        if not value or not headers:
            return []
        found = {name: raw for name, raw in headers if raw is not None}
        items = []
        signer, signature = found.get(HEADER_SIGNER), found.get(HEADER_SIGNATURE)
        if signer and signature:
            public = self._public_key(signer.decode(errors="replace"))
            if public is not None:
                items.append((public, signature, value))
        originator = found.get(HEADER_ORIGINATOR)
        origin_value, origin_signature = (
            found.get(HEADER_ORIGIN_VALUE),
            found.get(HEADER_ORIGIN_SIGNATURE),
        )
        if originator and origin_value and origin_signature:
            public = self._public_key(originator.decode(errors="replace"))
            if public is not None:
                items.append((public, origin_signature, origin_value))
        return items

    def _failed(self, error: BaseException) -> None:
        if self._pool is None:
            return
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
        self._log.warning(
            events.VERIFIER_FAILED,
            reason=str(error) or type(error).__name__,
            then="signatures are verified in the consumer process from now on",
        )

    def stop(self) -> None:
        """Stop the helper process."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def known(proven: Proven, public: bytes, signature: bytes, value: bytes) -> bool:
    """Whether the helper verified exactly this signature, by this key, over this value."""
    return proven.get(signature) == (public, value)
