"""One raw log line to one event: strip compose prefixes and colours, parse, classify.

Lines come in many wrappings: bare structlog JSON, ``docker compose logs`` output
(``consumer-rs-1  | {...}``, often coloured, optionally with ``-t`` timestamps), and Docker's
json-file driver (``{"log": "{...}", "stream": "stdout", ...}``). Anything that is not an
intelshare event is counted by kind and skipped; nothing here raises on bad input.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Final

from intelshare.logs.model import LogEvent, is_intelshare, to_event

_ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
"""CSI sequences (colours, cursor moves) and OSC sequences (titles, links)."""
_COMPOSE_PREFIX: Final = re.compile(r"\s*[A-Za-z0-9][\w.-]*\s*\|\s?")
"""``service-name-1  | `` as written by ``docker compose logs`` (and ``up``)."""
_DOCKER_TIME: Final = re.compile(r"\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?(?:\s+|$)")
"""The timestamp ``docker logs -t`` puts first (``docker compose logs -t``: after the prefix)."""
_BOM: Final = "\ufeff"
"""A UTF-8 byte-order mark, which some editors and Windows tools put at a file's start."""


@dataclass(kw_only=True, slots=True)
class ReadCounts:
    """A running tally of what the reader saw; mutable because it grows while streaming.

    Attributes:
        files: Sources opened (files, plus one for standard input).
        lines: Physical lines read.
        events: Lines that held an intelshare event.
        blank: Empty lines (also empty after a compose prefix); not counted as skipped.
        not_json: Lines that are not a JSON object: plain text, truncated or broken JSON.
        foreign: JSON objects that are not intelshare events (other loggers, other event names).
        invalid: Objects named like an intelshare event but without a readable timestamp or country.
        too_long: Lines longer than the reader's line limit, skipped without being held in memory.
        broken: Files that broke off while being read (a truncated ``.gz``): where, why,
            after which line.
    """

    files: int = 0
    lines: int = 0
    events: int = 0
    blank: int = 0
    not_json: int = 0
    foreign: int = 0
    invalid: int = 0
    too_long: int = 0
    broken: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        """Every non-blank line that did not yield an event."""
        return self.not_json + self.foreign + self.invalid + self.too_long

    def summary(self) -> str:
        """One line for stderr: what was read and what was skipped, by kind."""
        parts = [
            f"{count} {name}"
            for name, count in (
                ("not JSON", self.not_json),
                ("other JSON", self.foreign),
                ("invalid events", self.invalid),
                ("too long", self.too_long),
            )
            if count
        ]
        detail = f" ({', '.join(parts)})" if parts else ""
        broken = "".join(f"; unreadable from there on: {where}" for where in self.broken)
        return (
            f"read {self.lines} lines from {self.files} sources: "
            f"{self.events} events, {self.skipped} skipped{detail}{broken}"
        )


def unwrap(text: str) -> str:
    """Remove colour codes, a byte-order mark, a compose prefix and Docker's timestamp."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    text = text.strip().lstrip(_BOM)
    if text[:1] == "{":
        return text
    stamp = _DOCKER_TIME.match(text)  # docker logs -t: the timestamp comes first
    if stamp is None:
        prefix = _COMPOSE_PREFIX.match(text)
        if prefix is None:
            return text
        text = text[prefix.end() :]
        stamp = _DOCKER_TIME.match(text)
    if stamp is not None:
        text = text[stamp.end() :]
    return text.strip()


def line_event(raw: bytes | str, *, source: str, line: int, counts: ReadCounts) -> LogEvent | None:
    """Parse one physical line; count it; return its event or ``None`` when it holds none."""
    counts.lines += 1
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = unwrap(text)
    if not text:
        counts.blank += 1
        return None
    obj = _intelshare_object(text, counts)
    if obj is None:
        return None
    event = to_event(obj, source=source, line=line)
    if event is None:
        counts.invalid += 1
        return None
    counts.events += 1
    return event


def _intelshare_object(text: str, counts: ReadCounts) -> dict[str, object] | None:
    """The line's intelshare event object, or ``None`` after counting why there is none."""
    obj = _load_object(text)
    if obj is not None and not is_intelshare(obj):
        # Docker's json-file driver wraps each output line; look inside once.
        inner = obj.get("log")
        if not isinstance(inner, str) or "stream" not in obj:
            counts.foreign += 1
            return None
        inner_text = unwrap(inner)
        if not inner_text:  # an empty line the container wrote
            counts.blank += 1
            return None
        obj = _load_object(inner_text)
        if obj is not None and not is_intelshare(obj):
            counts.foreign += 1
            return None
    if obj is None:
        counts.not_json += 1
    return obj


def _load_object(text: str) -> dict[str, object] | None:
    """Decode ``text`` when it is a JSON object; ``None`` for anything else."""
    if text[:1] != "{":
        return None
    try:
        obj = json.loads(text)
    except ValueError:  # JSONDecodeError, and the rare UnicodeDecodeError
        return None
    return obj if isinstance(obj, dict) else None
