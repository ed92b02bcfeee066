"""The gatherer's promises without a broker: order, shared appends, and no waiter left hanging."""

from __future__ import annotations

import asyncio

import pytest
from fake_outbox import FakeProducer

from intelshare.runtime.batches import Gatherer, OutRecord


def records(count: int) -> list[OutRecord]:
    """``count`` small records on one topic."""
    return [OutRecord("t", b"k", b"%d" % n, []) for n in range(count)]


async def test_records_added_in_one_turn_are_appended_together_in_order() -> None:
    """Everything added before the loop turns goes out in one append, in the order added."""
    producer = FakeProducer()
    gatherer = Gatherer(producer)  # type: ignore[arg-type] # the fake stands in
    laters = [later for record in records(5) for later in gatherer.add([record])]
    landed = [await later.metadata() for later in laters]
    assert [m.offset for m in landed] == [0, 1, 2, 3, 4]
    assert [s.value for s in producer.sent] == [b"0", b"1", b"2", b"3", b"4"]
    assert len({id(later.turn) for later in laters}) == 1


async def test_a_failure_while_preparing_reaches_every_waiter() -> None:
    """A prepare step that fails fails the records' acknowledgements; none waits for ever."""

    def broken(_: list[OutRecord]) -> list[OutRecord]:
        raise ValueError("no key to sign with")

    producer = FakeProducer()
    gatherer = Gatherer(producer, broken)  # type: ignore[arg-type] # the fake stands in
    laters = gatherer.add(records(2))
    for later in laters:
        with pytest.raises(ValueError, match="no key"):
            await asyncio.wait_for(later.metadata(), 5)
    assert not producer.sent
