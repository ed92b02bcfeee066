"""Structured service logs: common fields, absent fields, listeners, the audit mirror."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

from intelshare.runtime.eventlog import EventLog, Held, utc_timestamp


class Sink:
    """An audit sink that keeps what it is offered."""

    def __init__(self) -> None:
        """Nothing offered yet."""
        self.offered: list[tuple[str, bytes]] = []

    def offer(self, key: str, line: bytes) -> None:
        """Keep one event."""
        self.offered.append((key, line))


def test_json_line_carries_common_fields_first_and_drops_none() -> None:
    """A JSON line starts with timestamp, level, event, service, country; None fields vanish."""
    out = io.StringIO()
    log = EventLog(service="consumer", country="RS", fmt="json", output=out)
    log.info("alert.received", alert_id="GB-1", rule=None, latency_ms=1.5, eu_handling=["H0"])

    line = out.getvalue()
    event = json.loads(line)
    assert list(event)[:5] == ["timestamp", "level", "event", "service", "country"]
    assert event["event"] == "alert.received"
    assert event["level"] == "info"
    assert "rule" not in event
    assert event["eu_handling"] == ["H0"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["timestamp"])
    assert line.count("\n") == 1


def test_listeners_get_each_event_as_data() -> None:
    """A listener receives every event as a dict, warnings included."""
    seen: list[dict] = []
    log = EventLog(service="producer", country="GB", fmt="json", output=io.StringIO())
    log.add_listener(seen.append)
    log.info("alert.sent", recipient="RS")
    log.warning("broker.unreachable", bootstrap="x:1")

    assert [(e["event"], e["level"]) for e in seen] == [
        ("alert.sent", "info"),
        ("broker.unreachable", "warning"),
    ]


def test_only_audit_events_are_mirrored_keyed_by_country() -> None:
    """Events named in events.py reach the audit sink as the same JSON; others do not."""
    out = io.StringIO()
    sink = Sink()
    log = EventLog(service="consumer", country="MK", fmt="json", output=out)
    log.attach_sink(sink)
    log.info("alert.received", alert_id="GB-2")
    log.info("consumer.started", topics=["a"])

    assert [key for key, _ in sink.offered] == ["MK"]
    assert json.loads(sink.offered[0][1]) == json.loads(out.getvalue().splitlines()[0])


def test_pretty_format_is_one_readable_line() -> None:
    """The pretty renderer writes the event name and fields on one line, not JSON."""
    out = io.StringIO()
    EventLog(service="consumer", country="RS", fmt="pretty", output=out).info(
        "alert.received", alert_id="GB-3"
    )

    text = out.getvalue()
    assert "alert.received" in text
    assert "alert_id=GB-3" in text
    assert not text.startswith("{")


def test_log_file_is_appended(tmp_path) -> None:
    """A path log appends lines and remembers its path (the consumer reads it back)."""
    path = tmp_path / "logs" / "consumer-RS.log"
    for number in range(2):
        log = EventLog(service="consumer", country="RS", path=path)
        log.info("alert.received", alert_id=f"GB-{number}")
        log.close()

    assert log.path == path
    assert [json.loads(x)["alert_id"] for x in path.read_text().splitlines()] == ["GB-0", "GB-1"]


def test_timestamps_have_milliseconds_and_z() -> None:
    """utc_timestamp() cuts to milliseconds and ends with Z."""
    assert utc_timestamp(datetime(2026, 11, 28, 9, 0, 0, 123456, tzinfo=UTC)) == (
        "2026-11-28T09:00:00.123Z"
    )


def test_held_events_are_written_only_when_asked_in_their_order() -> None:
    """holding() keeps lines back; write() writes them in order, then lines go out again."""
    out = io.StringIO()
    log = EventLog(service="consumer", country="RS", output=out)
    held: Held = []
    with log.holding(held):
        log.info("alert.received", alert_id="A")
        log.warning("alert.rejected", alert_id="B")
    held_at = [e for e in out.getvalue().splitlines() if e]

    assert held_at == []
    assert log.write(held) == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["event"], e["level"]) for e in lines] == [
        ("alert.received", "info"),
        ("alert.rejected", "warning"),
    ]
    log.info("consumer.stopped")
    assert json.loads(out.getvalue().splitlines()[-1])["event"] == "consumer.stopped"


def test_events_held_and_never_written_are_dropped() -> None:
    """Events held for an aborted transaction never reach the log; later lines do."""
    out = io.StringIO()
    log = EventLog(service="consumer", country="RS", output=out)
    with log.holding([]) as aborted:
        log.info("alert.received", alert_id="A")

    assert len(aborted) == 1
    log.info("alert.received", alert_id="B")
    assert [json.loads(line)["alert_id"] for line in out.getvalue().splitlines()] == ["B"]


def test_events_held_in_a_block_are_kept_apart_and_written_when_asked() -> None:
    """holding() collects one transaction's events; write() writes them even while holding."""
    out = io.StringIO()
    log = EventLog(service="consumer", country="RS", output=out)
    first: Held = []
    second: Held = []
    with log.holding(first):
        log.info("alert.received", alert_id="A")
        with log.holding(second):
            log.info("alert.received", alert_id="B")
        log.info("receipt.sent", alert_id="A")

    assert out.getvalue() == ""
    assert [event for _, event, _ in first] == ["alert.received", "receipt.sent"]
    with log.holding([]):
        assert log.write(second) == 1
        assert [json.loads(line)["alert_id"] for line in out.getvalue().splitlines()] == ["B"]
        log.info("alert.received", alert_id="C")
        assert len(out.getvalue().splitlines()) == 1
