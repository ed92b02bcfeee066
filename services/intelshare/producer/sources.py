"""Where a producer's alerts come from, and feeding them to a Publisher at a steady rate.

Sources are the seeded generator (:mod:`intelshare.producer.generator`) or JSON lines: one
Alert per line in the Avro JSON encoding (what ``intelshare decode`` prints), from a file or
standard input. A line that is not a valid alert is logged as refused (rule
``invalid-record``, with its line number) and skipped; the producer carries on.

:func:`pump` keeps up to a window of alerts in flight: it checks and enqueues them one after
another, in source order (so the idempotent producer keeps each case's order on its
partition), while a second task waits for their acknowledgements in the same order and logs
``alert.sent``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
import threading
import time
from typing import IO, TYPE_CHECKING, Any, Final

import orjson

from intelshare.contract import avrojson, codec, events
from intelshare.contract.schemas import default_registry
from intelshare.errors import EncodeError, IntelshareError
from intelshare.producer.outbox import INVALID_RECORD
from intelshare.valuetype import value_type

WINDOW: Final = 1024
"""Alerts enqueued and not yet acknowledged, at most (the default of :func:`pump`).

Enough to keep a few produce requests of a few hundred alerts each in flight; the memory it
bounds is about a kilobyte per alert.
"""

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Coroutine, Iterable
    from pathlib import Path

    from intelshare.contract.schemas import Schema
    from intelshare.producer.publisher import Pending, Publisher
    from intelshare.producer.results import PublishResult
    from intelshare.runtime.eventlog import EventLog


@value_type
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
    registry = default_registry()
    record = _plain(registry.newest("Alert"), text)
    if record is not None:
        return Line(number=number, record=record)
    errors: list[str] = []
    for schema in reversed(registry.versions("Alert")):  # newest first
        try:
            return Line(number=number, record=codec.from_json(schema, text))
        except EncodeError as error:
            errors.append(str(error))
    return Line(number=number, record=None, error=f"line {number}: {errors[0]}")


_CONVERTERS: dict[str, Callable[[Any], Any]] = {}


def _plain(schema: Schema, text: str) -> dict[str, Any] | None:
    # The fast reading (contract.avrojson); None sends the line to fastavro, which either
    # reads it too or says precisely what is wrong with it.
    convert = _CONVERTERS.get(schema.full_name)
    if convert is None:
        convert = _CONVERTERS[schema.full_name] = avrojson.converter(schema.parsed)
    try:
        record = convert(orjson.loads(text))
    except (orjson.JSONDecodeError, avrojson.NotPlain):
        return None
    return record if isinstance(record, dict) else None


async def from_json_lines(
    path: Path | None, *, stop: asyncio.Event | None = None
) -> AsyncGenerator[Line, None]:
    """Alerts from a JSON-lines file, or standard input when ``path`` is None or ``-``.

    A regular file is read directly; standard input and pipes are read by a thread, and
    ``stop`` (when given) ends a wait for a line that has not come.

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
    texts = _from_file(stream) if _regular(stream) else _from_pipe(stream, stop)
    number = 0
    async for text in texts:
        number += 1
        if text.strip():
            yield parse_line(text, number)


def _regular(stream: IO[str]) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError):
        return False


async def _from_file(stream: IO[str]) -> AsyncGenerator[str, None]:
    # A file on disk does not make the event loop wait: no thread, no hand-over per line.
    with stream:
        for text in stream:
            yield text


async def _from_pipe(stream: IO[str], stop: asyncio.Event | None) -> AsyncGenerator[str, None]:
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
    while text := await _wait(queue.get(), stop):
        yield text


async def _wait(get: Coroutine[Any, Any, str], stop: asyncio.Event | None) -> str:
    # The next text, or "" as soon as stop is set (a quiet pipe must not delay a clean stop).
    if stop is None:
        return await get
    reading = asyncio.ensure_future(get)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if reading.done():
        return reading.result()
    reading.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reading
    return ""


async def pump(  # noqa: C901 - one loop: read, check, enqueue, pace, and its shutdown
    publisher: Publisher,
    lines: AsyncGenerator[Line, None],
    *,
    rate: float,
    count: int | None,
    stop: asyncio.Event,
    on_result: Callable[[PublishResult], None] | None = None,
    window: int = WINDOW,
    offset: float = 0.0,
) -> int:
    """Publish from ``lines`` at ``rate`` per second (0: as fast as acknowledged).

    ``offset``: seconds to wait before the first alert, so that senders started together
    (the demo's countries) spread their sends over the interval instead of all sending at
    the same instant.

    Up to ``window`` alerts are in flight (enqueued, not yet acknowledged); they are
    acknowledged and logged in the order they were read. Stops after ``count`` alerts, at
    the end of the source, or when ``stop`` is set (the alerts in flight are finished
    first). Returns how many alerts were published.

    Raises:
        BrokerUnavailable: the broker did not acknowledge a copy (nothing more is read).
    """
    if count is not None and count <= 0:
        return 0
    published = 0
    in_flight: asyncio.Queue[Pending | None] = asyncio.Queue(max(1, window))

    async def settle_in_order() -> None:
        nonlocal published
        while (pending := await in_flight.get()) is not None:
            result = await publisher.settle(pending)
            published += 1
            if on_result is not None:
                on_result(result)

    if offset > 0:
        await _pace(offset, stop, time.monotonic())
    settler = asyncio.create_task(settle_in_order(), name="pump-acks")
    interval = 1.0 / rate if rate > 0 else 0.0
    next_at = time.monotonic()
    enqueued = 0
    try:
        async with contextlib.aclosing(lines):
            while not stop.is_set() and not settler.done():
                line = await anext(lines, None)
                if line is None:
                    break
                if line.record is None:
                    _log_invalid(publisher.log, line)
                    continue
                try:
                    # As fast as acknowledged: alerts gathered into batches (less CPU each).
                    pending = await publisher.enqueue(line.record, bulk=interval == 0)
                except EncodeError:
                    continue  # logged as refused by the publisher
                await _hand_over(in_flight, pending, settler)
                enqueued += 1
                if count is not None and enqueued >= count:
                    break
                await _pace(interval, stop, next_at)
                next_at = max(next_at + interval, time.monotonic() - interval)
        await _hand_over(in_flight, None, settler)
        await settler
    except BaseException:
        settler.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await settler
        raise
    return published


async def _hand_over(
    in_flight: asyncio.Queue[Pending | None], item: Pending | None, settler: asyncio.Task[None]
) -> None:
    # Wait for room in the window, unless the task that makes room has failed: then raise
    # its error instead of waiting for ever.
    if settler.done():
        settler.result()
        return
    if not in_flight.full():
        in_flight.put_nowait(item)
        return
    putting = asyncio.ensure_future(in_flight.put(item))
    await asyncio.wait({putting, settler}, return_when=asyncio.FIRST_COMPLETED)
    if not putting.done():
        putting.cancel()
        settler.result()


async def _pace(interval: float, stop: asyncio.Event, next_at: float) -> None:
    # Waiting on the stop event makes a signal end the pause at once.
    delay = next_at + interval - time.monotonic()
    if interval and delay > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


def _log_invalid(log: EventLog, line: Line) -> None:
    log.info(events.ALERT_REFUSED, rule=INVALID_RECORD, reason=line.error, line=line.number)
