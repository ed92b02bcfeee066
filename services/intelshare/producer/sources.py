"""Where a producer's alerts come from, and feeding them to a Publisher at a steady rate.

Sources are the seeded generator (:mod:`intelshare.producer.generator`) or JSON lines: one Alert per
line in the Avro JSON encoding (what ``intelshare decode`` prints), from a file or standard
input. A line that is not a valid alert is logged as refused (rule ``invalid-record``, with
its line number) and skipped; the producer carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from intelshare.contract import codec, events
from intelshare.contract.schemas import default_registry
from intelshare.errors import EncodeError, IntelshareError
from intelshare.producer.outbox import INVALID_RECORD

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Iterable
    from pathlib import Path

    from intelshare.producer.publisher import Publisher
    from intelshare.producer.results import PublishResult
    from intelshare.runtime.eventlog import EventLog


@dataclass(frozen=True, kw_only=True, slots=True)
class Line:
    """One alert read from a source, or why it could not be read."""

    number: int
    """1-based position in the source."""
    record: dict[str, Any] | None
    """The Alert record, or None when the line is not a valid alert."""
    error: str | None = None
    """Why the line is not an alert."""


async def from_generator(alerts: Iterable[dict[str, Any]]) -> AsyncGenerator[Line, None]:
    """Records from any iterable (the generator), numbered."""
    for number, record in enumerate(alerts, start=1):
        yield Line(number=number, record=record)


def parse_line(text: str, number: int) -> Line:
    """One JSON line as an Alert record (Avro JSON encoding of any Alert version)."""
    errors: list[str] = []
    registry = default_registry()
    for schema in reversed(registry.versions("Alert")):  # newest first
        try:
            return Line(number=number, record=codec.from_json(schema, text))
        except EncodeError as error:
            errors.append(str(error))
    return Line(number=number, record=None, error=f"line {number}: {errors[0]}")


async def from_json_lines(path: Path | None) -> AsyncGenerator[Line, None]:
    """Alerts from a JSON-lines file, or standard input when ``path`` is None or ``-``.

    Raises:
        IntelshareError: the file cannot be opened.
    """
    stream: IO[str]
    if path is None or str(path) == "-":
        stream = sys.stdin
    else:
        try:
            stream = path.open(encoding="utf-8")
        except OSError as error:
            raise IntelshareError(f"{path}: cannot read: {error}") from error
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)

    def read() -> None:
        # A daemon thread: a pipe that never ends must not keep the process from exiting.
        try:
            for text in stream:
                asyncio.run_coroutine_threadsafe(queue.put(text), loop).result()
            asyncio.run_coroutine_threadsafe(queue.put(""), loop).result()
        except RuntimeError:
            pass  # the event loop ended first: the producer stopped before the input did
        finally:
            if stream is not sys.stdin:
                stream.close()

    threading.Thread(target=read, name="json-lines", daemon=True).start()
    number = 0
    while text := await queue.get():
        number += 1
        if text.strip():
            yield parse_line(text, number)


async def pump(
    publisher: Publisher,
    lines: AsyncGenerator[Line, None],
    *,
    rate: float,
    count: int | None,
    stop: asyncio.Event,
    on_result: Callable[[PublishResult], None] | None = None,
) -> int:
    """Publish from ``lines`` at ``rate`` per second (0: as fast as acknowledged).

    Stops after ``count`` alerts, at the end of the source, or when ``stop`` is set (the
    alert in hand is finished first). Returns how many alerts were published.
    """
    published = 0
    interval = 1.0 / rate if rate > 0 else 0.0
    next_at = time.monotonic()
    if count is not None and count <= 0:
        return 0
    async with contextlib.aclosing(lines):
        while (line := await _next(lines, stop)) is not None:
            if line.record is None:
                _refuse(publisher.log, line)
                continue
            try:
                result = await publisher.publish(line.record)
            except EncodeError:
                continue  # logged as refused by the publisher
            published += 1
            if on_result is not None:
                on_result(result)
            if stop.is_set() or (count is not None and published >= count):
                break
            await _pace(interval, stop, next_at)
            next_at = max(next_at + interval, time.monotonic() - interval)
    return published


async def _next(lines: AsyncGenerator[Line, None], stop: asyncio.Event) -> Line | None:
    # The next line, or None at the end of the source or as soon as stop is set (a quiet
    # pipe must not delay a clean stop).
    reading = asyncio.ensure_future(anext(lines, None))
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not reading.done():
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
        return None
    return reading.result()


async def _pace(interval: float, stop: asyncio.Event, next_at: float) -> None:
    # Waiting on the stop event makes a signal end the pause at once.
    delay = next_at + interval - time.monotonic()
    if interval and delay > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


def _refuse(log: EventLog, line: Line) -> None:
    log.info(events.ALERT_REFUSED, rule=INVALID_RECORD, reason=line.error, line=line.number)
