"""The timeline of a long replay, built in a process of its own and handed over in chunks.

Reading a step's YAML again and building its record costs about as much CPU as publishing it,
and a replay's publishing runs on one core. :class:`TimelineFeed` builds the timeline in a
helper process (``spawn``: nothing of the replay's loop or threads is copied) while the replay
publishes; entries cross a pipe as plain tuples in chunks (unpickling a tuple of dicts costs
a fiftieth of building it). The pipe's buffer and the chunk in hand bound the memory: the
helper waits while the replay is behind. A step crosses without its alert fields (the record
built from them travels with it); nothing in a replay reads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import pickle
import signal
from dataclasses import fields
from typing import TYPE_CHECKING, Any, Final

from intelshare.errors import ScenarioError
from intelshare.replay.engine import timeline
from intelshare.scenario.model import AlertFields
from intelshare.scenario.timeline import StepMessage, TimelineEntry
from intelshare.yamlpos import Where

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from multiprocessing.connection import Connection

    from intelshare.scenario.files import CheckReport
    from intelshare.scenario.model import AnyStep

CHUNK: Final = 256
"""Entries per message on the pipe."""
WORTH_IT: Final = 2000
"""Steps from which a helper process pays for its start (about a second)."""
_NO_FIELDS: Final = AlertFields()
_NOT_SENT: Final = frozenset({"where", "fields"})
_DONE: Final = "done"
_FAILED: Final = "failed"


def _flat(entry: TimelineEntry) -> tuple[Any, ...]:
    """One entry as a tuple of plain values (classes pickle by name)."""
    step = entry.step
    values = {f.name: getattr(step, f.name) for f in fields(step) if f.name not in _NOT_SENT}
    where = (step.where.file, step.where.line, step.where.column)
    message = entry.message
    sent = None
    if message is not None:
        sent = (
            message.kind, message.sender, message.to, message.record, message.name,
            message.alert_id, message.alert, message.consent_id,
        )  # fmt: skip
    return (type(step), values, where, entry.time, sent)


def _entry(flat: tuple[Any, ...]) -> TimelineEntry:
    """The entry :func:`_flat` took apart."""
    cls, values, (file, line, column), time, sent = flat
    step: AnyStep = cls(
        where=Where(file=file, line=line, column=column),
        **values,
        **({"fields": _NO_FIELDS} if "fields" in cls.__dataclass_fields__ else {}),
    )
    message = None
    if sent is not None:
        kind, sender, to, record, name, alert_id, alert, consent_id = sent
        message = StepMessage(
            kind=kind, sender=sender, to=to, record=record, name=name,
            alert_id=alert_id, alert=alert, consent_id=consent_id,
        )  # fmt: skip
    return TimelineEntry(step=step, time=time, message=message)


def _build_into(report: CheckReport, conn: Connection) -> None:
    """The helper process: the timeline into ``conn``, chunk by chunk, then a last word."""
    # Ctrl-C is the replay's to handle; it ends this process by closing the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    chunk: list[tuple[Any, ...]] = []
    try:
        for entry in timeline(report):
            chunk.append(_flat(entry))
            if len(chunk) >= CHUNK:
                conn.send_bytes(pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL))
                chunk = []
        conn.send_bytes(pickle.dumps([*chunk, _DONE], pickle.HIGHEST_PROTOCOL))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the replay stopped reading: it ended or was interrupted
    except ScenarioError as error:
        conn.send_bytes(pickle.dumps([*chunk, _FAILED, str(error)], pickle.HIGHEST_PROTOCOL))
    finally:
        conn.close()


class TimelineFeed:
    """A helper process building a checked scenario's timeline; :meth:`entries` reads it."""

    def __init__(self, report: CheckReport) -> None:
        """Build the timeline of ``report`` (started by :meth:`start`)."""
        self.report = report
        self._process: Any = None
        self._conn: Connection | None = None

    def start(self) -> None:
        """Start the helper process (it runs ahead until the pipe is full)."""
        context = multiprocessing.get_context("spawn")
        reader, writer = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_build_into, args=(self.report, writer), name="timeline", daemon=True
        )
        self._process.start()
        writer.close()
        self._conn = reader

    async def entries(self) -> AsyncIterator[TimelineEntry]:
        """The timeline's entries in order.

        Raises:
            ScenarioError: the file changed after it was checked, or the helper died.
        """
        conn = self._conn
        assert conn is not None
        loop = asyncio.get_running_loop()
        while True:
            if not conn.poll():
                readable = loop.create_future()
                loop.add_reader(conn.fileno(), _set, readable)
                try:
                    await readable
                finally:
                    loop.remove_reader(conn.fileno())
            try:
                chunk = pickle.loads(conn.recv_bytes())  # noqa: S301 - our own helper's bytes
            except EOFError:
                raise ScenarioError("the timeline's helper process stopped early") from None
            for index, item in enumerate(chunk):
                if item == _DONE:
                    return
                if item == _FAILED:
                    raise ScenarioError(chunk[index + 1])
                yield _entry(item)

    def stop(self) -> None:
        """End the helper process (at once if it is still building) and close the pipe."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        process = self._process
        if process is not None:
            process.join(timeout=1)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
            with contextlib.suppress(ValueError):
                process.close()
            self._process = None


def _set(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
