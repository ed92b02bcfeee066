"""The shared service lifecycle: start once, stop once, stop bounded."""

from __future__ import annotations

import asyncio

import pytest

from intelshare.runtime.lifecycle import Service


class Recorder(Service):
    """A service that records its start and stop calls."""

    def __init__(self, *, stop_takes: float = 0.0) -> None:
        """A service whose stop takes ``stop_takes`` seconds."""
        super().__init__()
        self.calls: list[str] = []
        self.stop_takes = stop_takes
        self.stop_timeout = 0.05

    async def _start(self) -> None:
        self.calls.append("start")

    async def _stop(self) -> None:
        self.calls.append("stop")
        await asyncio.sleep(self.stop_takes)


async def test_async_with_starts_and_stops_once() -> None:
    """Entering starts, leaving stops; extra start() and stop() calls do nothing."""
    service = Recorder()
    async with service:
        await service.start()
        assert service.running
    await service.stop()

    assert service.calls == ["start", "stop"]
    assert not service.running


async def test_stop_gives_up_after_the_timeout(capsys) -> None:
    """A stop that hangs is abandoned after stop_timeout, with one line on stderr."""
    service = Recorder(stop_takes=10)
    await service.start()
    await service.stop()

    assert "did not stop within" in capsys.readouterr().err


async def test_a_failed_start_still_stops() -> None:
    """When _start raises, stop() runs so half-opened clients are released."""

    class Failing(Recorder):
        async def _start(self) -> None:
            self.calls.append("start")
            raise RuntimeError("boom")

    service = Failing()
    with pytest.raises(RuntimeError, match="boom"):
        await service.start()

    assert service.calls == ["start", "stop"]


async def test_stop_before_start_does_nothing() -> None:
    """stop() on a service never started neither fails nor calls _stop."""
    service = Recorder()
    await service.stop()

    assert service.calls == []
