"""Structured logs: one JSON object per line for services, readable lines on a terminal.

Each service gets its own :class:`EventLog` (several run in one process in the demo, each
writing its own file). Every event gets the common fields (``timestamp``, ``level``,
``event``, ``service``, ``country``) first, loses fields that do not apply, goes to listeners
(the demo's live view, tests), is mirrored to the audit topic when it is an audit event
(:data:`intelshare.contract.events.ALL_EVENTS`), and is written as one line. JSON lines are
built directly and rendered once with orjson (the same bytes go to the file and the audit
topic); a terminal's readable lines go through structlog's ``ConsoleRenderer``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sys
import time
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, Final, Protocol

import orjson
import structlog

from intelshare.contract.events import ALL_EVENTS
from intelshare.runtime.transient import TransientFilter

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, MutableMapping
    from pathlib import Path

    from intelshare.runtime.settings import LogFormat, Settings

EventDict = dict[str, Any]
"""One log event as data: the fields of :mod:`intelshare.contract.events`."""

Held = list[tuple[str, str, dict[str, Any]]]
"""Events held back, in order: level, event name and fields (stamped with their time)."""

_FIRST: Final = ("timestamp", "level", "event", "service", "country")
# Datetimes and dataclasses are rendered by str(), as json.dumps(default=str) would; orjson's
# own ISO format for them would change what the lines say.
_ORJSON_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class AuditSink(Protocol):
    """Where audit events go besides the log (the audit topic)."""

    def offer(self, key: str, line: bytes) -> None:
        """Take one rendered JSON event without blocking the caller."""


def utc_timestamp(moment: datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, as every event's ``timestamp``."""
    if moment is None:
        return _now_timestamp()
    # isoformat truncates to milliseconds, as the format always did; "+00:00" becomes "Z".
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


_SECOND: list[tuple[int, str]] = [(-1, "")]
"""The last whole second stamped, and its text up to the seconds (one line per alert asks)."""


def _now_timestamp() -> str:
    micros = time.time_ns() // 1000
    second, micro = divmod(micros, 1_000_000)
    known, text = _SECOND[0]
    if second != known:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _SECOND[0] = (second, text)
    return f"{text}.{micro // 1000:03d}Z"


def event_json(event: EventDict) -> str:
    """One event as one compact JSON line (no newline); non-JSON values become text."""
    try:
        return orjson.dumps(event, default=str, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        # Integers beyond 64 bits, non-text keys: the standard library takes them.
        return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)


def _add_timestamp(_: object, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    event.setdefault("timestamp", utc_timestamp())
    return event


def _tidy(_: object, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    # Fields that do not apply are absent, never null placeholders (events.py); the common
    # fields come first so a human scanning the file sees them in the same place.
    present: dict[str, Any] = {k: v for k, v in event.items() if v is not None}
    ordered: dict[str, Any] = {k: present.pop(k) for k in _FIRST if k in present}
    ordered.update(present)
    event.clear()
    event.update(ordered)
    return event


_OWN: Final = frozenset({"level", "event"})
"""Fields every line sets itself (a field of the same name is not written)."""


class EventLog:
    """The structured log of one service (one country, producer or consumer)."""

    def __init__(
        self,
        *,
        service: str,
        country: str,
        fmt: LogFormat = "json",
        output: IO[str] | None = None,
        path: Path | None = None,
    ) -> None:
        """Log to ``path`` (appended), else ``output``, else standard output.

        ``fmt`` ``auto`` means pretty when the output is a terminal, JSON otherwise.
        """
        self.service = service
        self.country = country
        self.path = path
        """The file this log appends to, if any."""
        self._owned: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Block-buffered: every path flushes (a line, or a committed batch at once).
            self._owned = path.open("a", encoding="utf-8")
        stream: Any = self._owned or output or sys.stdout
        self._stream = stream
        self._pretty = fmt == "pretty" or (fmt == "auto" and stream.isatty())
        self._listeners: list[Callable[[EventDict], None]] = []
        self._sink: AuditSink | None = None
        self._held: Held | None = None
        self._flush_each = True
        """Flush after each line (off while :meth:`write` writes a batch)."""
        self._logger = structlog.BoundLogger(
            structlog.WriteLogger(stream),
            processors=[
                structlog.processors.add_log_level,
                _add_timestamp,
                _tidy,
                self._fan_out,
                structlog.dev.ConsoleRenderer(colors=stream.isatty(), sort_keys=False),
            ],
            context={"service": service, "country": country},
        )

    @classmethod
    def configured(cls, service: str, country: str, settings: Settings) -> EventLog:
        """A service's own log, in the format and file its settings ask for."""
        return cls(
            service=service, country=country, fmt=settings.log_format, path=settings.log_file
        )

    def add_listener(self, listener: Callable[[EventDict], None]) -> None:
        """Call ``listener`` with a copy of every event (the demo's view, tests)."""
        self._listeners.append(listener)

    @property
    def has_sink(self) -> bool:
        """Whether audit events are already mirrored somewhere."""
        return self._sink is not None

    def attach_sink(self, sink: AuditSink | None) -> None:
        """Mirror audit events to ``sink`` from now on (None stops mirroring)."""
        self._sink = sink

    def info(self, event: str, **fields: Any) -> None:  # noqa: ANN401 - event fields vary
        """Log an event at level info."""
        self._emit("info", event, fields)

    def warning(self, event: str, **fields: Any) -> None:  # noqa: ANN401 - event fields vary
        """Log an event at level warning."""
        self._emit("warning", event, fields)

    def error(self, event: str, **fields: Any) -> None:  # noqa: ANN401 - event fields vary
        """Log an event at level error."""
        self._emit("error", event, fields)

    @contextlib.contextmanager
    def holding(self, held: Held) -> Iterator[Held]:
        """Inside the block, events are appended to ``held`` (stamped) instead of written.

        Each of several transactions in flight keeps its own events this way; they are
        written with :meth:`write` once that transaction committed. Blocks nest: on leaving,
        whatever was held before is held again.
        """
        previous, self._held = self._held, held
        try:
            yield held
        finally:
            self._held = previous

    def write(self, held: Held) -> int:
        """Write events held back, in order, now (even while holding); returns how many."""
        previous, self._held = self._held, None
        self._flush_each = False  # one flush for the batch: a line each was a write(2) each
        try:
            for level, event, fields in held:
                self._emit(level, event, fields)
        finally:
            self._held = previous
            self._flush_each = True
            self._stream.flush()
        return len(held)

    def _emit(self, level: str, event: str, fields: dict[str, Any]) -> None:
        # ``fields`` is this log's own (a call's keyword arguments, or held by it): it may
        # be changed.
        if self._held is not None:
            fields.setdefault("timestamp", utc_timestamp())
            self._held.append((level, event, fields))
            return
        if self._pretty:
            getattr(self._logger, level)(event, **fields)
            return
        # The JSON path builds the event itself: the same fields, order and omissions as
        # the console's processor chain, at a fraction of its cost per line.
        record = {
            "timestamp": fields.pop("timestamp", None) or utc_timestamp(),
            "level": level,
            "event": event,
            "service": fields.pop("service", self.service),
            "country": fields.pop("country", self.country),
        }
        if record["service"] is None or record["country"] is None:
            record = {k: v for k, v in record.items() if v is not None}
        record.update({k: v for k, v in fields.items() if v is not None and k not in _OWN})
        line = self._share(record, event_json(record))
        self._stream.write(line + "\n")
        if self._flush_each:
            self._stream.flush()

    def close(self) -> None:
        """Close the log file this log opened (standard output stays open)."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def _fan_out(
        self, _: object, __: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        self._share(event, None)
        return event

    def _share(self, event: MutableMapping[str, Any], line: str | None) -> str:
        for listener in self._listeners:
            listener(dict(event))
        if self._sink is not None and event.get("event") in ALL_EVENTS:
            line = line if line is not None else event_json(dict(event))
            self._sink.offer(str(event.get("country", "")), line.encode())
        return line or ""


class _Repeats(logging.Filter):
    """Let a library message through once per ``window`` seconds, counting the rest.

    aiokafka logs every failed reconnect; while a broker is down that is several lines a
    second. Our own line already says the broker is unreachable, so repeats add nothing.
    """

    def __init__(self, window: float = 60.0) -> None:
        super().__init__()
        self._window = window
        self._seen: dict[tuple[str, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.msg)
        now = time.monotonic()
        last = self._seen.get(key)
        if last is not None and now - last[0] < self._window:
            self._seen[key] = (last[0], last[1] + 1)
            return False
        if last is not None and last[1]:
            record.msg = f"{record.msg} ({last[1]} similar suppressed)"
        self._seen[key] = (now, 0)
        return True


class _JsonFormatter(logging.Formatter):
    """A library's log record as one JSON object, shaped like the services' own events."""

    def __init__(self, service: str | None, country: str | None) -> None:
        super().__init__()
        self._fields = {"service": service, "country": country}

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        event = {
            "timestamp": utc_timestamp(moment),
            "level": record.levelname.lower(),
            "event": "kafka.client",
            **{k: v for k, v in self._fields.items() if v},
            "logger": record.name,
            "message": record.getMessage(),
        }
        return event_json(event)


def configure_library_logging(
    level: int = logging.WARNING,
    *,
    fmt: LogFormat = "auto",
    service: str | None = None,
    country: str | None = None,
) -> None:
    """Send aiokafka's own warnings to standard error, one line each, repeats suppressed.

    Standard output stays reserved for the service's events. As JSON (``json``, or ``auto``
    when standard error is not a terminal) each line is an object with ``event``
    ``kafka.client``, so a merged stream (``docker compose logs``) stays one JSON per line.
    """
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json" or (fmt == "auto" and not sys.stderr.isatty()):
        handler.setFormatter(_JsonFormatter(service, country))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # Coordinator and leader elections after topics are created are not failures (issue 14).
    handler.addFilter(TransientFilter(verbose=level <= logging.INFO))
    handler.addFilter(_Repeats())
    root = logging.getLogger("aiokafka")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class _Discard(io.TextIOBase):
    """An output that forgets what is written (a log kept in a file or in listeners only)."""

    def write(self, text: str) -> int:
        return len(text)


def service_log(service: str, country: str, log_dir: Path | None) -> EventLog:
    """One of several services' JSON logs in one process: ``<log_dir>/<service>-<CC>.log``.

    Without ``log_dir`` the lines go nowhere; the events still reach the log's listeners and
    the audit topic (the demo and the replay run a dozen services, whose mixed lines on one
    terminal would help nobody).
    """
    path = log_dir / f"{service}-{country}.log" if log_dir is not None else None
    discard: Any = _Discard()
    return EventLog(service=service, country=country, fmt="json", output=discard, path=path)
