"""Stream log events out of files, directories, standard input, or any mix of them.

A directory is searched recursively for ``*.log``, ``*.jsonl`` and ``*.ndjson`` files, their
rotations (logrotate's ``x.log.1``, ``x.log.2.gz``, ``x.log-20261128``; Docker's
``<id>-json.log.1``) and ``.gz`` forms, hidden entries skipped, in sorted order with each
file's rotations oldest first, so one service's lines come in the order they were written.
``*.json`` is left out of the search on purpose: such files are usually one JSON document
(configs, reports), not lines; name one explicitly to read it anyway. Every named file is read
whatever its name. ``-`` is standard input. Lines are read one at a time with a length cap, so
memory stays flat however large the input. A file that breaks off (a truncated or corrupt
``.gz``) keeps the events read before the break; it is recorded in the counts and the next
file is read.
"""

from __future__ import annotations

import gzip
import os
import re
import sys
import zlib
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final, cast

from intelshare.errors import LogInputError
from intelshare.logs.lines import ReadCounts, line_event

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from intelshare.logs.model import LogEvent

STDIN: Final = "-"
"""The source name that means standard input."""
LOG_SUFFIXES: Final = (".log", ".jsonl", ".ndjson")
"""File endings picked up when a directory is searched."""
MAX_LINE_BYTES: Final = 1 << 20
"""Longer lines are skipped (and counted) without ever being held whole."""
_ROTATION: Final = re.compile(r"(?P<base>.+?)(?:\.(?P<number>\d+)|-(?P<date>\d{8,10}))?")
"""A log name and the mark rotation adds: ``.N`` (logrotate, Docker) or ``-YYYYMMDD[HH]``."""


def expand(sources: Sequence[str]) -> list[str]:
    """Turn the given sources into the list of files to read (``-`` kept as is).

    Raises:
        LogInputError: a source does not exist.
    """
    if not sources:
        raise LogInputError("no log source given: name files, directories, or - for stdin")
    files: list[str] = []
    for source in sources:
        if source == STDIN:
            files.append(STDIN)
            continue
        path = Path(source)
        if path.is_dir():
            files.extend(str(found) for found in log_files_in(path))
        elif path.exists():
            files.append(source)
        else:
            raise LogInputError(f"{source}: no such file or directory")
    return files


def _split_rotation(name: str) -> tuple[str, tuple[int, int | str]]:
    """The live file's name and a sort key: older rotations first, the live file last."""
    match = _ROTATION.fullmatch(name.removesuffix(".gz"))
    if match is None or not match["base"].endswith(LOG_SUFFIXES):
        return name.removesuffix(".gz"), (2, 0)
    if match["number"] is not None:
        return match["base"], (1, -int(match["number"]))  # .3 is older than .1
    if match["date"] is not None:
        return match["base"], (0, match["date"])
    return match["base"], (2, 0)


def is_log_file(name: str) -> bool:
    """Tell whether a file found in a directory search should be read (rotations included)."""
    if name.startswith("."):
        return False
    return _split_rotation(name)[0].endswith(LOG_SUFFIXES)


def is_rotated(path: str) -> bool:
    """Tell whether a file is a finished rotation (``x.log.1``, ``x.log-20261128``, ``.gz``)."""
    name = Path(path).name
    return name.endswith(".gz") or _split_rotation(name)[1][0] != 2  # noqa: PLR2004 - live


def log_files_in(root: Path) -> Iterator[Path]:
    """The log files below ``root`` (see :func:`is_log_file`), hidden folders skipped.

    Sorted by name, except that a file's rotations come before it, oldest first.
    """
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(name for name in subdirs if not name.startswith("."))
        for name in sorted((n for n in names if is_log_file(n)), key=_split_rotation):
            yield Path(directory) / name


def open_source(source: str) -> IO[bytes]:
    """Open one source for binary line reading (``.gz`` files are decompressed on the fly).

    Raises:
        LogInputError: the file cannot be opened.
    """
    if source == STDIN:
        return sys.stdin.buffer
    try:
        if source.endswith(".gz"):
            return cast("IO[bytes]", gzip.open(source, "rb"))
        return Path(source).open("rb")
    except OSError as error:
        raise LogInputError(f"{source}: cannot open: {error.strerror or error}") from error


def iter_lines(stream: IO[bytes]) -> Iterator[bytes | None]:
    """Yield each line of ``stream``; ``None`` stands for a line over the length cap."""
    while True:
        chunk = stream.readline(MAX_LINE_BYTES)
        if not chunk:
            return
        if len(chunk) == MAX_LINE_BYTES and not chunk.endswith(b"\n"):
            while True:  # drain the rest of the overlong line piece by piece
                more = stream.readline(MAX_LINE_BYTES)
                if not more or more.endswith(b"\n"):
                    break
            yield None
            continue
        yield chunk


def events_from(
    stream: IO[bytes], *, source: str, counts: ReadCounts, first_line: int = 1
) -> Iterator[LogEvent]:
    """Yield the events of one open stream, counting every line in ``counts``."""
    number = first_line - 1
    for chunk in iter_lines(stream):
        number += 1
        if chunk is None:
            counts.lines += 1
            counts.too_long += 1
            continue
        event = line_event(chunk, source=source, line=number, counts=counts)
        if event is not None:
            yield event


def read_events(sources: Sequence[str], counts: ReadCounts | None = None) -> Iterator[LogEvent]:
    """Stream the events of every source, in the order given; files are opened one by one.

    Raises:
        LogInputError: a source does not exist or cannot be opened (raised before any event
            of that source is yielded).
    """
    tally = counts if counts is not None else ReadCounts()
    return _read(expand(sources), tally)


def _read(files: Iterable[str], counts: ReadCounts) -> Iterator[LogEvent]:
    for source in files:
        stream = open_source(source)
        counts.files += 1
        before = counts.lines
        try:
            yield from events_from(stream, source=source, counts=counts)
        except (OSError, EOFError, zlib.error) as error:  # a truncated or corrupt .gz file
            counts.broken.append(
                f"{source}: {_break_reason(error)} after line {counts.lines - before}"
            )
        finally:
            if source != STDIN:
                stream.close()


def _break_reason(error: BaseException) -> str:
    """A short reason for a file that broke off while being read."""
    if isinstance(error, EOFError):
        return "the compressed file is truncated"
    if isinstance(error, gzip.BadGzipFile | zlib.error):
        return f"the compressed file is corrupt ({error})"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__
