"""Alert sources: JSON lines in the Avro JSON encoding."""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING

import pytest

from intelshare.contract import codec
from intelshare.contract.alerts import new_alert
from intelshare.contract.schemas import default_registry
from intelshare.errors import BrokerUnavailable
from intelshare.producer.sources import Line, from_json_lines, parse_line, pump
from intelshare.runtime.eventlog import EventLog

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator


def alert_json() -> str:
    """One alert as intelshare decode prints it."""
    record = new_alert(
        originator="GB", recipients=["RS"], category="MODUS_OPERANDI", case_id="C1", summary="s"
    )
    return codec.to_json(default_registry().get("Alert"), record).strip()


def test_a_decoded_alert_line_parses_back_to_the_record() -> None:
    """A line as intelshare decode writes it is read as an Alert record."""
    line = parse_line(alert_json(), 3)

    assert line.record is not None
    assert line.record["recipients"] == ["RS"]
    assert line.error is None


def test_a_bad_line_names_its_number() -> None:
    """A line that is not an alert says which line and why."""
    line = parse_line('{"alert_id": 1}', 7)

    assert line.record is None
    assert line.error is not None
    assert line.error.startswith("line 7:")


async def test_a_file_yields_each_non_blank_line_in_order(tmp_path) -> None:
    """Blank lines are skipped; numbers count every line of the file."""
    path = tmp_path / "alerts.jsonl"
    path.write_text(f"{alert_json()}\n\nnot json\n")

    lines = [line async for line in from_json_lines(path)]

    assert [(line.number, line.record is not None) for line in lines] == [(1, True), (3, False)]


def test_a_line_reads_the_same_by_the_fast_path_and_by_fastavro() -> None:
    """parse_line's record equals fastavro's reading of the same line."""
    text = alert_json()

    line = parse_line(text, 1)

    assert line.record == codec.from_json(default_registry().newest("Alert"), text)


class FakePublisher:
    """What pump needs of a Publisher: enqueue in order, settle when the test says so."""

    def __init__(self, *, fail_at: int | None = None) -> None:
        """Acknowledge every write, except number ``fail_at``'s."""
        self.log = EventLog(service="producer", country="GB", fmt="json", output=io.StringIO())
        self.enqueued: list[int] = []
        self.bulk: list[bool] = []
        self.settled: list[int] = []
        self.acks: dict[int, asyncio.Future[None]] = {}
        self.fail_at = fail_at

    async def enqueue(self, record: dict[str, object], *, bulk: bool = False) -> int:
        """Note the record's number (and whether it came in bulk); its ack is decided at once."""
        self.bulk.append(bulk)
        number = int(str(record["n"]))
        self.enqueued.append(number)
        self.acks[number] = asyncio.get_running_loop().create_future()
        if number == self.fail_at:
            self.acks[number].set_exception(BrokerUnavailable("no acknowledgement"))
        else:
            self.acks[number].set_result(None)
        return number

    async def settle(self, number: int) -> int:
        """Wait for the acknowledgement, as Publisher.settle does."""
        await self.acks[number]
        self.settled.append(number)
        return number


async def numbered(count: int) -> AsyncGenerator[Line, None]:
    """Records that only carry their number."""
    for n in range(count):
        yield Line(number=n + 1, record={"n": n})


async def test_pump_settles_in_the_order_it_read() -> None:
    """Every alert read is enqueued and settled, in source order, and counted."""
    publisher = FakePublisher()
    results: list[object] = []

    published = await pump(
        publisher,  # type: ignore[arg-type]
        numbered(50),
        rate=0,
        count=None,
        stop=asyncio.Event(),
        on_result=results.append,  # type: ignore[arg-type]
        window=4,
    )

    assert published == 50
    assert publisher.bulk == [True] * 50  # as fast as acknowledged: gathered into batches
    assert publisher.enqueued == list(range(50))
    assert publisher.settled == list(range(50))
    assert results == list(range(50))


async def test_pump_raises_when_an_acknowledgement_fails_and_reads_no_further() -> None:
    """A write the broker did not acknowledge ends the pump with BrokerUnavailable."""
    publisher = FakePublisher(fail_at=3)

    with pytest.raises(BrokerUnavailable):
        await pump(
            publisher,  # type: ignore[arg-type]
            numbered(10_000),
            rate=0,
            count=None,
            stop=asyncio.Event(),
            window=2,
        )

    assert publisher.settled == [0, 1, 2]
    assert len(publisher.enqueued) < 10_000


async def test_pump_stops_after_count_with_everything_in_flight_settled() -> None:
    """The count option bounds what is read; all enqueued is settled before pump returns."""
    publisher = FakePublisher()

    published = await pump(
        publisher,  # type: ignore[arg-type]
        numbered(100),
        rate=0,
        count=7,
        stop=asyncio.Event(),
        window=16,
    )

    assert published == 7
    assert publisher.settled == publisher.enqueued == list(range(7))
