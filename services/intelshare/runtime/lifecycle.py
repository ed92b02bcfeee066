"""The async lifecycle every service shares, and running one until SIGTERM or SIGINT.

A service starts once and stops once: ``start()`` then ``stop()`` (or ``async with``); a
second ``stop()`` does nothing, and ``stop()`` gives up waiting after the settings' stop
timeout. :func:`run_until_signalled` runs a service's loop until it finishes or a signal
asks it to stop; the loop then finishes the message in hand, commits, flushes and returns,
so the process exits 0.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import signal
import sys
from typing import TYPE_CHECKING, Final, Self

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)
"""Signals that ask a service to stop cleanly."""


class Service(abc.ABC):
    """Something that starts, runs until told to stop, and stops cleanly once."""

    stop_timeout: float = 10.0
    """Seconds :meth:`stop` waits for a clean stop."""

    def __init__(self) -> None:
        """A new service, not started."""
        self._started = False
        self._stopped = False

    @property
    def running(self) -> bool:
        """Started and not yet stopped."""
        return self._started and not self._stopped

    async def start(self) -> None:
        """Connect and get ready; a second call does nothing."""
        if self._started:
            return
        self._started = True
        try:
            await self._start()
        except BaseException:
            # A half-started service still releases whatever it did open.
            await self.stop()
            raise

    async def stop(self) -> None:
        """Flush and disconnect, waiting at most ``stop_timeout``; later calls do nothing."""
        if not self._started or self._stopped:
            return
        self._stopped = True
        try:
            await asyncio.wait_for(self._stop(), self.stop_timeout)
        except TimeoutError:
            sys.stderr.write(
                f"intelshare: {type(self).__name__} did not stop within {self.stop_timeout:g} s\n"
            )

    async def __aenter__(self) -> Self:
        """Start, and stop again when the block ends."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop, whatever happened in the block."""
        await self.stop()

    async def run(self, stop: asyncio.Event) -> None:
        """Do the service's work until ``stop`` is set (or there is no more work)."""
        await stop.wait()

    @abc.abstractmethod
    async def _start(self) -> None:
        """Open clients and tasks."""

    @abc.abstractmethod
    async def _stop(self) -> None:
        """Flush and close what :meth:`_start` opened (tolerating a partial start)."""


def install_stop_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Set ``stop`` on SIGTERM/SIGINT; a second signal cancels the main task at once.

    Returns a function that removes the handlers again.
    """
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def on_signal() -> None:
        if stop.is_set() and main is not None:
            main.cancel()  # asked twice: the user wants out now
        stop.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal)

    def remove() -> None:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)

    return remove


async def run_until_signalled(service: Service, stop: asyncio.Event | None = None) -> None:
    """Start ``service``, run it until its work ends or a stop signal, then stop it."""
    stop = stop or asyncio.Event()
    remove = install_stop_signals(stop)
    try:
        async with service:
            await service.run(stop)
    finally:
        with contextlib.suppress(RuntimeError):
            remove()
