"""The audit mirror writes what queued up as one record per key; it reads back event by event."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from intelshare.runtime.audit import MAX_RECORD_BYTES, AuditMirror, audit_events


class Recorder:
    """A producer that acknowledges every record at once and keeps (key, value)."""

    def __init__(self) -> None:
        """Nothing written yet."""
        self.records: list[tuple[bytes, bytes]] = []

    async def send(self, topic: str, value: bytes, *, key: bytes) -> asyncio.Future[Any]:
        """Keep the record; its acknowledgement is already done."""
        del topic
        self.records.append((key, value))
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


async def _mirrored(offers: list[tuple[str, bytes]]) -> list[tuple[bytes, bytes]]:
    """The records a mirror writes for events offered in one go."""
    producer = Recorder()
    mirror = AuditMirror(producer, "intel.audit")  # type: ignore[arg-type]
    mirror.start()
    for key, line in offers:
        mirror.offer(key, line)
    await mirror.stop()
    return producer.records


async def test_events_logged_together_go_out_as_one_record() -> None:
    """Three events queued at once are one record, read back as the three lines in order."""
    lines = [b'{"event":"alert.sent","n":%d}' % n for n in range(3)]

    records = await _mirrored([("GB", line) for line in lines])

    assert records == [(b"GB", b"\n".join(lines))]
    assert audit_events(records[0][1]) == lines


async def test_each_key_keeps_its_order_across_records() -> None:
    """Another key's event ends a record; every key's events stay in order."""
    offers = [("GB", b"1"), ("GB", b"2"), ("RS", b"3"), ("GB", b"4")]

    records = await _mirrored(offers)

    assert records == [(b"GB", b"1\n2"), (b"RS", b"3"), (b"GB", b"4")]


async def test_a_record_stops_growing_at_its_size_limit() -> None:
    """Events beyond MAX_RECORD_BYTES start another record; none is lost or repeated."""
    line = b"x" * 1000
    count = 2 * MAX_RECORD_BYTES // len(line) + 5

    records = await _mirrored([("GB", line)] * count)

    assert len(records) >= 2
    assert all(len(value) <= MAX_RECORD_BYTES + len(line) for _, value in records)
    assert sum(len(audit_events(value)) for _, value in records) == count


@pytest.mark.parametrize("value", [b"", b"\n", b'{"event":"x"}\n'])
def test_empty_lines_are_not_events(value: bytes) -> None:
    """A record's blank lines (or an empty value) hold no event."""
    assert audit_events(value) == ([b'{"event":"x"}'] if value.strip() else [])
