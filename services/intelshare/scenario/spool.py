"""A checked scenario's timeline, built while it was checked and kept in a temporary file.

The check already reads every step and builds every alert's record; a replay that read the
file again would pay for the YAML twice (composing nodes from libyaml's events costs more than
anything else in a check) and would play whatever the file held by then. So the check of a
scenario about to be replayed hands each step to a :class:`~.timeline.TimelineBuilder` and
appends the entry to a :class:`TimelineSpool`: an unnamed temporary file (gone when it is
closed or the process ends) of pickled chunks of plain tuples (unpickling one costs a fiftieth
of building it). Memory holds one chunk while writing and one while reading, whatever the
file's length; a replay plays exactly what was checked.

A step is kept without its alert fields (the record built from them is kept with it);
nothing in a replay reads them.
"""

from __future__ import annotations

import pickle
import tempfile
from dataclasses import fields
from typing import TYPE_CHECKING, Any, Final

from intelshare.scenario.model import AlertFields
from intelshare.scenario.timeline import StepMessage, TimelineEntry
from intelshare.yamlpos import Where

if TYPE_CHECKING:
    from collections.abc import Iterator

    from intelshare.scenario.model import AnyStep

CHUNK: Final = 256
"""Entries per pickled chunk (pickle shares a chunk's repeated keys and classes)."""
_NO_FIELDS: Final = AlertFields()
_NOT_KEPT: Final = frozenset({"where", "fields"})


def flat(entry: TimelineEntry) -> tuple[Any, ...]:
    """One entry as a tuple of plain values (classes pickle by name)."""
    step = entry.step
    values = {f.name: getattr(step, f.name) for f in fields(step) if f.name not in _NOT_KEPT}
    where = (step.where.file, step.where.line, step.where.column)
    message = entry.message
    sent = None
    if message is not None:
        sent = (
            message.kind, message.sender, message.to, message.record, message.name,
            message.alert_id, message.alert, message.consent_id,
        )  # fmt: skip
    return (type(step), values, where, entry.time, sent)


def unflat(item: tuple[Any, ...]) -> TimelineEntry:
    """The entry :func:`flat` took apart."""
    cls, values, (file, line, column), time, sent = item
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


class TimelineSpool:
    """Timeline entries written once, in order, then read back as often as asked."""

    def __init__(self) -> None:
        """An empty spool in a new unnamed temporary file."""
        self._file = tempfile.TemporaryFile(prefix="intelshare-timeline-")  # noqa: SIM115 - owned
        self._chunk: list[tuple[Any, ...]] = []
        self.count = 0
        """Entries written."""
        self._sealed = False

    def add(self, entry: TimelineEntry) -> None:
        """Append the next entry."""
        assert not self._sealed, "a sealed spool takes no more entries"
        self._chunk.append(flat(entry))
        self.count += 1
        if len(self._chunk) >= CHUNK:
            self._write()

    def seal(self) -> None:
        """Write what is pending; from now on the spool is read only."""
        if self._chunk:
            self._write()
        self._file.flush()
        self._sealed = True

    def entries(self) -> Iterator[TimelineEntry]:
        """Every entry, in the order written (the spool must be sealed)."""
        assert self._sealed, "seal the spool before reading it"
        offset = 0
        for _ in range(0, self.count, CHUNK):
            # Reading from a remembered offset lets two readers take turns on one file.
            self._file.seek(offset)
            chunk = pickle.load(self._file)  # noqa: S301 - written by this process just now
            offset = self._file.tell()
            for item in chunk:
                yield unflat(item)

    def close(self) -> None:
        """Remove the file (closing it is enough: it never had a name)."""
        self._file.close()

    def _write(self) -> None:
        pickle.dump(self._chunk, self._file, pickle.HIGHEST_PROTOCOL)
        self._chunk = []
