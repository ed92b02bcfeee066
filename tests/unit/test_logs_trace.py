from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from intelshare.logs.reader import read_events
from intelshare.logs.trace import trace

FIXTURES = Path(__file__).parent / "fixtures" / "logs"
SOURCES = [str(FIXTURES / "story"), str(FIXTURES / "compose.txt")]


def test_alert_trace_orders_every_country_by_time():
    """An alert's trace gathers its events from all sources and sorts them by time."""
    found = trace(read_events(SOURCES), "GB-0001")
    steps = [(s.event.country, s.event.event, round(s.offset_ms)) for s in found.steps]
    assert steps == [
        ("GB", "alert.sent", 0),
        ("GB", "alert.sent", 5),
        ("GB", "alert.refused", 10),
        ("RS", "alert.received", 312),
        ("MK", "alert.received", 430),
        ("RS", "receipt.sent", 500),
        ("GB", "receipt.received", 650),
        ("MK", "alert.duplicate", 900),
        ("MK", "receipt.sent", 1900),
        ("GB", "consent.requested", 59900),
        ("GB", "consent.granted", 59950),
        ("RS", "alert.shared_onward", 60200),
        ("HU", "alert.received", 60800),
        ("GB", "alert.sent", 179900),
        ("GB", "alert.sent", 179901),
        ("RS", "alert.revoked", 180080),
        ("MK", "alert.revoked", 180190),
        ("GB", "receipt.overdue", 599900),
    ]
    assert found.alerts == ("GB-0001",)


def test_lanes_say_what_became_of_each_copy():
    """Each recipient's lane records sending, acceptance, receipt, refusal and revocation."""
    found = trace(read_events(SOURCES), "GB-0001")
    lanes = {lane.recipient: lane for lane in found.lanes}
    assert list(lanes) == ["RS", "MK", "XK", "HU"]
    rs = lanes["RS"]
    assert rs.sent == datetime(2026, 11, 28, 9, 0, 0, 100000, tzinfo=UTC)
    assert rs.received == datetime(2026, 11, 28, 9, 0, 0, 412000, tzinfo=UTC)
    assert (rs.latency_ms, rs.receipt, rs.refused) == (312.0, "RECEIVED", None)
    assert rs.revoked == datetime(2026, 11, 28, 9, 3, 0, 180000, tzinfo=UTC)
    mk = lanes["MK"]
    assert (mk.receipt, mk.duplicates, mk.overdue) == ("HIT", 1, True)
    assert (lanes["XK"].refused, lanes["XK"].sent, lanes["XK"].received) == (
        "category-not-covered",
        None,
        None,
    )
    hu = lanes["HU"]
    assert (hu.onward, hu.originator, hu.latency_ms) == (True, "GB", 600.0)


def test_case_trace_spans_its_alerts_and_unknown_ids_find_nothing():
    """A case id gathers all its alerts' events; an unknown id gives an empty trace."""
    found = trace(read_events(SOURCES), "CASE-7")
    assert len(found.steps) == 20
    assert found.alerts == ("GB-0001", "GB-0002")
    assert [(lane.alert_id, lane.recipient, lane.refused) for lane in found.lanes][-1] == (
        "GB-0002",
        "RS",
        "handling-above-cap",
    )
    assert not trace(read_events(SOURCES), "NOPE").found


def test_real_onward_sharing_capture_reads_as_refused_then_shared_with_consent():
    """On logs from a real consent run, RS's first try is refused and HU gets it via RS."""
    onward = FIXTURES / "captured" / "onward"
    events = list(read_events([str(onward)]))
    alert_id = next(e.alert_id for e in events if e.event == "alert.shared_onward")
    assert alert_id is not None
    found = trace(events, alert_id)
    names = [(s.event.country, s.event.event) for s in found.steps]
    assert names.index(("RS", "alert.refused")) < names.index(("RS", "consent.requested"))
    assert names.index(("GB", "consent.granted")) < names.index(("RS", "alert.shared_onward"))
    assert names.index(("RS", "alert.shared_onward")) < names.index(("HU", "alert.received"))
    lanes = {lane.recipient: lane for lane in found.lanes}
    assert set(lanes) == {"RS", "HU"}
    hu = lanes["HU"]
    assert (hu.onward, hu.refused, hu.receipt) == (True, "onward-needs-consent", "RECEIVED")
    assert hu.outcome() == "refused at first (onward-needs-consent), then accepted"
    assert lanes["RS"].outcome() == ""
