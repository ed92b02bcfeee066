"""Write events as they stream: a coloured table for people, JSON lines for jq, or CSV.

Every writer prints each event as soon as it gets it (nothing is buffered to size columns),
so ``--follow`` works with all three and a million events cost no memory.
"""

from __future__ import annotations

import csv
import json
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Protocol

from rich.text import Text

from intelshare.logs.describe import LABELS, describe
from intelshare.logs.model import OPTIONAL_TEXT_FIELDS

if TYPE_CHECKING:
    from typing import TextIO

    from rich.console import Console

    from intelshare.logs.model import LogEvent


class OutputFormat(StrEnum):
    """How ``intelshare logs`` prints the events it keeps."""

    TABLE = "table"
    JSONL = "jsonl"
    CSV = "csv"


class EventWriter(Protocol):
    """Something that prints events one by one."""

    def write(self, event: LogEvent) -> None:
        """Print one event."""

    def close(self) -> None:
        """Finish the output (flush; nothing is printed after)."""


class JsonlWriter:
    """One JSON object per line, exactly the fields the service logged (unwrapped)."""

    def __init__(self, out: TextIO, *, live: bool = False) -> None:
        """Write to ``out``; ``live`` flushes every line (``--follow`` into a pipe)."""
        self._out = out
        self._live = live

    def write(self, event: LogEvent) -> None:
        """Print the event's JSON object on one line."""
        self._out.write(json.dumps(event.raw, ensure_ascii=False, separators=(",", ":")))
        self._out.write("\n")
        if self._live:
            self._out.flush()

    def close(self) -> None:
        """Flush the stream."""
        self._out.flush()


CSV_COLUMNS: Final = (
    "timestamp",
    "level",
    "service",
    "country",
    "event",
    *OPTIONAL_TEXT_FIELDS,
    "revision",
    "latency_ms",
    "eu_handling",
    "hop_path",
    "source",
    "line",
)
"""The CSV header: the common fields, then every field of events.py, then where it was read."""


class CsvWriter:
    """CSV with a fixed header; list fields are joined with spaces (handling) or ``>`` (hops)."""

    def __init__(self, out: TextIO, *, live: bool = False) -> None:
        """Write to ``out``, starting with the header row; ``live`` flushes every row."""
        self._out = out
        self._live = live
        self._csv = csv.writer(out, lineterminator="\n")
        self._csv.writerow(CSV_COLUMNS)

    def write(self, event: LogEvent) -> None:
        """Print one row."""
        row = [
            event.text("timestamp") or event.timestamp.isoformat(),
            event.level,
            event.service,
            event.country,
            event.event,
            *(event.text(name) or "" for name in OPTIONAL_TEXT_FIELDS),
            event.text("revision") or "",
            event.text("latency_ms") or "",
            " ".join(event.texts("eu_handling")),
            ">".join(event.texts("hop_path")),
            event.source,
            str(event.line),
        ]
        self._csv.writerow(row)
        if self._live:
            self._out.flush()

    def close(self) -> None:
        """Flush the stream."""
        self._out.flush()


STYLES: Final = {
    "alert.sent": "green",
    "alert.received": "bold green",
    "alert.refused": "bold red",
    "alert.rejected": "bold red",
    "message.deadlettered": "bold red",
    "receipt.overdue": "yellow",
    "alert.duplicate": "yellow",
    "alert.revoked": "magenta",
    "receipt.sent": "cyan",
    "receipt.received": "cyan",
    "consent.requested": "blue",
    "consent.granted": "blue",
    "alert.shared_onward": "blue",
}
"""Colours by event: green flows, red refusals and failures, yellow things to chase."""
_WIDTHS: Final = (("time", 23), ("cc", 2), ("event", 15), ("alert", 16), ("case", 12))
_EVENT_COLUMN: Final = 2
_LEVEL_STYLES: Final = {"warning": "yellow", "error": "red"}


class TableWriter:
    """Aligned, coloured rows printed as they come; the last column takes the remaining width."""

    def __init__(self, console: Console) -> None:
        """Print through ``console`` (it knows whether colour is wanted)."""
        self._console = console
        header = Text(style="bold")
        for name, width in _WIDTHS:
            header.append(name.ljust(width) + " ")
        header.append("what happened")
        console.print(header, no_wrap=True, overflow="ellipsis", soft_wrap=False)

    def write(self, event: LogEvent) -> None:
        """Print one row."""
        stamp = event.timestamp.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        cells = (
            stamp,
            event.country,
            LABELS.get(event.event, event.event),
            event.alert_id or "",
            event.case_id or "",
        )
        row = Text()
        for index, ((_, width), cell) in enumerate(zip(_WIDTHS, cells, strict=True)):
            shown = cell if len(cell) <= width else cell[: width - 1] + "…"
            style = STYLES.get(event.event, "") if index == _EVENT_COLUMN else ""
            row.append(shown.ljust(width) + " ", style=style)
        row.append(describe(event), style=_LEVEL_STYLES.get(event.level, ""))
        self._console.print(row, no_wrap=True, overflow="ellipsis", soft_wrap=False)
        self._console.file.flush()

    def close(self) -> None:
        """Nothing to finish: rows were printed as they came."""
