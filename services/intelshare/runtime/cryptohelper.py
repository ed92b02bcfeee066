"""Checking Ed25519 signatures in a helper process, beside the event loop.

Verifying a plain signature is the largest single cost of handling a message (~60 µs of
~350), and Python runs one thread at a time, so a consumer draining a backlog left the
machine's second core idle. A :class:`CryptoHelper` sends the plain signatures of each large
poll (value, signature, the claimed signer's public key) to a helper process as the poll
arrives. Batch signatures (:func:`~intelshare.contract.signing.sign_batch`) stay in the
consumer: one Ed25519 check per batch and a short hash path per record cost less than the
trip to the helper.

What :meth:`CryptoHelper.prove` returns is only a shortcut, never a verdict: :data:`Proven`
maps a signature that verified to the exact public key and value it verified over, and
:func:`intelshare.consumer.proof.check_signature` skips its own check only for that same
triple (:func:`known`). Anything else (a small poll, a signature that failed, a proof not
back yet, a helper that died) is verified in the consumer as before, so a forged or tampered
record is refused by the same rule either way.

The helper ignores Ctrl-C (the consumer stops it once its batch is done) and exits by itself
if the consumer dies (``kill -9``), so it never outlives it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Final, TypeVar

from intelshare.contract import events
from intelshare.contract.headers import HEADER_ORIGINATOR
from intelshare.contract.signing import (
    HEADER_ORIGIN_SIGNATURE,
    HEADER_ORIGIN_VALUE,
    HEADER_SIGNATURE,
    HEADER_SIGNER,
    SIGNATURE_BYTES,
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
"""Smaller polls and batches stay in the consumer: a steady trickle gains nothing from a
round trip to another process, and so few signatures are quick anyway."""

_PARENT_CHECK_SECONDS: Final = 1.0

T = TypeVar("T")


def verify_all(items: list[Item]) -> list[bool]:
    """Whether each signature verifies (run in the helper process)."""
    return [verify(public, signature, value) for public, signature, value in items]


def _helper_started(parent: int) -> None:
    """In the helper: leave Ctrl-C to the consumer, and end with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_CHECK_SECONDS)
        os._exit(0)  # the consumer is gone: nobody will ask for anything again

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


class CryptoHelper:
    """A helper process that checks polls' signatures for a consumer."""

    def __init__(self, public_key: Callable[[str], bytes | None], *, log: EventLog) -> None:
        """Look keys up with ``public_key`` (the network's); report a failed helper to ``log``."""
        self._public_key = public_key
        self._log = log
        self._pool: ProcessPoolExecutor | None = None
        self.proven = 0
        """Signatures the helper found good so far."""

    async def start(self) -> None:
        """Start the helper process and wait until it answers."""
        # spawn, not fork: the consumer may have threads by then (aiokafka's resolver).
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_helper_started,
            initargs=(os.getpid(),),
        )
        await asyncio.wrap_future(self._pool.submit(verify_all, []))

    def prove(self, records: Iterable[ConsumerRecord[bytes, bytes]]) -> asyncio.Future[Proven]:
        """Start checking the signatures on ``records``; what verified, once done.

        Never fails: a helper that died (or was never started) proves nothing, and the
        consumer then verifies everything itself.
        """
        items = [item for record in records for item in self._items(record.headers, record.value)]
        return asyncio.ensure_future(self._proven(items))

    async def _proven(self, items: list[Item]) -> Proven:
        verdicts = await self._run(verify_all, items) if items else None
        if verdicts is None:
            return {}
        found = {
            signature: (public, value)
            for (public, signature, value), good in zip(items, verdicts, strict=True)
            if good
        }
        self.proven += len(found)
        return found

    async def _run(self, work: Callable[..., T], *args: object) -> T | None:
        """``work(*args)`` in the helper; None (and the helper retired) if it failed."""
        if self._pool is None:
            return None
        try:
            return await asyncio.wrap_future(self._pool.submit(work, *args))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - any helper failure means "do it here"
            self._failed(error)
            return None

    def _items(
        self, headers: Sequence[tuple[str, bytes | None]] | None, value: bytes | None
    ) -> list[Item]:
        """The signature (and an onward copy's origin proof) a record claims, with keys."""
        if not value or not headers:
            return []
        found = {name: raw for name, raw in headers if raw is not None}
        items = []
        signer, signature = found.get(HEADER_SIGNER), found.get(HEADER_SIGNATURE)
        # Only plain signatures: a batch signature's root is checked once for the whole
        # batch, and its hash path costs less here than the trip to the helper.
        if signer and signature and len(signature) == SIGNATURE_BYTES:
            public = self._public_key(signer.decode(errors="replace"))
            if public is not None:
                items.append((public, signature, value))
        originator = found.get(HEADER_ORIGINATOR)
        origin_value, origin_signature = (
            found.get(HEADER_ORIGIN_VALUE),
            found.get(HEADER_ORIGIN_SIGNATURE),
        )
        if (
            originator
            and origin_value
            and origin_signature
            and len(origin_signature) == SIGNATURE_BYTES
        ):
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
            events.HELPER_FAILED,
            reason=str(error) or type(error).__name__,
            then="signatures are checked and made in the consumer process from now on",
        )

    def stop(self) -> None:
        """Stop the helper process."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def known(proven: Proven, public: bytes, signature: bytes, value: bytes) -> bool:
    """Whether the helper verified exactly this signature, by this key, over this value."""
    return proven.get(signature) == (public, value)
