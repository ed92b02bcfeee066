"""``--follow``: read files to their end, then keep yielding events as lines are appended.

Like ``tail -F`` it survives rotation (the path now names a new file: the old one is read to
its end, the new one from its start) and truncation (``copytruncate``: read again from the
start). Directories are searched again on every idle poll so new log files are picked up.
A line still being written (no newline yet) is held back until its newline arrives.
Unlike ``tail -f`` it starts at the beginning of each file, because a filter over the whole
history is usually what is wanted; stop it with Ctrl-C or by setting ``stop``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from intelshare.errors import LogInputError
from intelshare.logs.lines import ReadCounts, line_event
from intelshare.logs.reader import (
    MAX_LINE_BYTES,
    STDIN,
    expand,
    is_rotated,
    log_files_in,
    read_events,
)

if TYPE_CHECKING:
    import threading
    from collections.abc import Iterator, Sequence

    from intelshare.logs.model import LogEvent


class _Tail:
    """One followed path: its open file, its identity, and a partial last line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.handle: IO[bytes] | None = None
        self.identity: tuple[int, int] | None = None
        self.partial = b""
        self.overlong = False
        self.line = 0

    def _open(self) -> bool:
        try:
            handle = Path(self.path).open("rb")  # noqa: SIM115 - kept open across polls
        except OSError:
            return False  # not there (yet, or between rotation steps)
        stat = os.fstat(handle.fileno())
        self.handle, self.identity = handle, (stat.st_dev, stat.st_ino)
        self.partial, self.overlong, self.line = b"", False, 0
        return True

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def poll(self, counts: ReadCounts) -> Iterator[LogEvent]:
        """Yield events from complete lines appended since the last poll."""
        if self.handle is None and not self._open():
            return
        yield from self._drain(counts)
        # At the end of what is there: has the path been rotated or truncated meanwhile?
        try:
            stat = Path(self.path).stat()
        except OSError:
            return  # removed; keep the old handle until a new file appears
        assert self.handle is not None
        if (stat.st_dev, stat.st_ino) != self.identity:
            yield from self._drain(counts)  # whatever was appended before the rename
            self.close()
            if self._open():
                yield from self._drain(counts)
        elif stat.st_size < self.handle.tell():
            self.handle.seek(0)
            self.partial, self.overlong = b"", False
            yield from self._drain(counts)

    def _drain(self, counts: ReadCounts) -> Iterator[LogEvent]:
        assert self.handle is not None
        while True:
            chunk = self.handle.readline(MAX_LINE_BYTES)
            if not chunk:
                return
            if not chunk.endswith(b"\n"):
                self.partial += chunk
                if len(self.partial) > MAX_LINE_BYTES:
                    self.partial, self.overlong = b"", True
                continue
            line, self.partial = self.partial + chunk, b""
            self.line += 1
            if self.overlong or len(line) > MAX_LINE_BYTES:
                self.overlong = False
                counts.lines += 1
                counts.too_long += 1
                continue
            event = line_event(line, source=self.path, line=self.line, counts=counts)
            if event is not None:
                yield event


def follow_events(
    sources: Sequence[str],
    counts: ReadCounts,
    *,
    stop: threading.Event,
    poll_seconds: float = 0.25,
) -> Iterator[LogEvent]:
    """Yield events from ``sources`` and keep following them until ``stop`` is set.

    Standard input (``-``) cannot be mixed with files here: a pipe already follows itself
    (``docker compose logs -f | intelshare logs - --follow``), so it is read to its end.
    """
    files = expand(sources)
    if STDIN in files:
        if len(files) > 1:
            raise LogInputError("--follow reads either - (a pipe) or files, not both")
        yield from read_events([STDIN], counts)
        return
    # Rotated files (x.log.1, x.log.2.gz) are finished: read once, never followed, or a
    # rotation renaming x.log.1 to x.log.2 would be read again.
    rotated = [path for path in files if is_rotated(path)]
    if rotated:
        yield from read_events(rotated, counts)
    directories = [source for source in sources if Path(source).is_dir()]
    tails = {path: _Tail(path) for path in files if not is_rotated(path)}
    counts.files += len(tails)
    try:
        while not stop.is_set():
            got = False
            for tail in list(tails.values()):
                for event in tail.poll(counts):
                    got = True
                    yield event
            if not got:
                for path in _new_files(directories, tails):
                    tails[path] = _Tail(path)
                    counts.files += 1
                # Not stop.wait(): Ctrl-C raised inside Condition.wait can leave the
                # event's lock held, and the caller's stop.set() then blocks forever.
                time.sleep(poll_seconds)
    finally:
        for tail in tails.values():
            tail.close()


def _new_files(directories: Sequence[str], known: dict[str, _Tail]) -> list[str]:
    found: list[str] = []
    for directory in directories:
        for file in log_files_in(Path(directory)):
            path = str(file)
            # Rotated files are finished, never appended to.
            if not is_rotated(path) and path not in known:
                found.append(path)
    return found
