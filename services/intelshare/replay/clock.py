"""The clocks a replay runs on: the real one, and a fake one for tests that never sleeps.

A replay needs two readings: a monotonic one to keep to its schedule, and the wall clock to
stamp what it publishes. :class:`FakeClock` moves both forward only when someone sleeps,
instantly, so a test of a two-hour scenario runs in milliseconds and sees exact times.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What a replay asks of time."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for the schedule)."""
        ...

    def now(self) -> datetime:
        """The wall clock, aware UTC (for timestamps)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        ...


class RealClock:
    """The system's clocks and asyncio's sleep."""

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep``."""
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when slept on, at once; it records every sleep."""

    def __init__(self, start: datetime | None = None) -> None:
        """Start the wall clock at ``start`` (default 2026-11-28 09:00 UTC), monotonic at 0."""
        self.start = start or datetime(2026, 11, 28, 9, tzinfo=UTC)
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Seconds slept so far."""
        return self.elapsed

    def now(self) -> datetime:
        """The start plus the time slept so far."""
        return self.start + timedelta(seconds=self.elapsed)

    async def sleep(self, seconds: float) -> None:
        """Move on by ``seconds`` at once (yielding to other tasks, as a real sleep would)."""
        # Tasks due now run first, at the present time, as they would before a real sleep.
        for _ in range(3):
            await asyncio.sleep(0)
        seconds = max(0.0, seconds)
        self.sleeps.append(seconds)
        self.elapsed += seconds
