"""Stream log events out of files, directories, standard input, or any mix of them.

A directory is searched recursively for ``*.log``, ``*.jsonl`` and ``*.ndjson`` files (and
their ``.gz`` forms), hidden entries skipped, in sorted order. ``*.json`` is left out of the
search on purpose: such files are usually one JSON document (configs, reports), not lines; name
one explicitly to read it anyway. Every named file is read whatever its name. ``-`` is
standard input. Lines are read one at a time with a length cap, so memory stays flat however
large the input.
"""

from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final, cast

from intelshare.errors import LogInputError
from intelshare.logs.lines import ReadCounts, parse_line

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from intelshare.logs.model import LogEvent

STDIN: Final = "-"
"""The source name that means standard input."""
LOG_SUFFIXES: Final = (".log", ".jsonl", ".ndjson")
"""File endings picked up when a directory is searched."""
MAX_LINE_BYTES: Final = 1 << 20
"""Longer lines are skipped (and counted) without ever being held whole."""


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


def is_log_file(name: str) -> bool:
    """Tell whether a file found in a directory search should be read."""
    if name.startswith("."):
        return False
    return name.removesuffix(".gz").endswith(LOG_SUFFIXES)


def log_files_in(root: Path) -> Iterator[Path]:
    """The log files below ``root`` (see :func:`is_log_file`), hidden folders skipped, sorted."""
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(name for name in subdirs if not name.startswith("."))
        for name in sorted(names):
            if is_log_file(name):
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
        event = parse_line(chunk, source=source, line=number, counts=counts)
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
        try:
            yield from events_from(stream, source=source, counts=counts)
        except (OSError, EOFError) as error:  # e.g. a truncated .gz file
            raise LogInputError(f"{source}: read failed: {error}") from error
        finally:
            if source != STDIN:
                stream.close()
