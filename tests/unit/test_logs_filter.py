from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intelshare.errors import LogInputError
from intelshare.logs.filtering import EventFilter, normalise_tlp
from intelshare.logs.model import route_of
from intelshare.logs.reader import read_events
from intelshare.logs.when import parse_lookback, parse_when

FIXTURES = Path(__file__).parent / "fixtures" / "logs"
SOURCES = [str(FIXTURES / "story"), str(FIXTURES / "compose.txt")]
NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def _keep(**criteria: object) -> list[tuple[str, int]]:
    chosen = EventFilter.build(**criteria)  # type: ignore[arg-type]
    return [(Path(e.source).name, e.line) for e in chosen.apply(read_events(SOURCES))]


# Expected counts were taken from the fixture files by eye (see fixtures/logs/README.md).
@pytest.mark.parametrize(
    ("criteria", "count"),
    [
        pytest.param({}, 26, id="everything"),
        pytest.param({"countries": ["RS"]}, 8, id="country"),
        pytest.param({"countries": ["rs,MK"]}, 12, id="countries-comma-lowercase"),
        pytest.param({"events": ["alert.received"]}, 4, id="event"),
        pytest.param({"events": ["alert.re*"]}, 9, id="event-glob"),
        pytest.param({"events": ["receipt.*"]}, 4, id="receipts"),
        pytest.param({"alert_ids": ["GB-0002"]}, 2, id="alert"),
        pytest.param({"case_ids": ["CASE-7"]}, 20, id="case"),
        pytest.param({"case_ids": ["CASE-9"]}, 2, id="other-case"),
        pytest.param({"originators": ["GB"]}, 17, id="originator"),
        pytest.param({"originators": ["RS"]}, 4, id="onward-originator"),
        pytest.param({"recipients": ["XK"]}, 2, id="recipient"),
        pytest.param({"recipients": ["HU"]}, 4, id="onward-recipient"),
        pytest.param({"categories": ["modus_operandi"]}, 2, id="category"),
        pytest.param({"tlps": ["TLP:RED"]}, 2, id="tlp-colon"),
        pytest.param({"tlps": ["green"]}, 3, id="tlp-bare"),
        pytest.param({"tlps": ["AMBER+STRICT"]}, 0, id="tlp-strict-is-not-amber"),
        pytest.param({"handling": ["H2"]}, 9, id="eu-handling"),
        pytest.param({"handling": ["C"]}, 1, id="uk-handling-c"),
        pytest.param({"handling": ["p"]}, 8, id="uk-handling-p"),
        pytest.param(
            {"countries": ["GB"], "events": ["alert.sent"], "recipients": ["RS"]}, 3, id="and"
        ),
    ],
)
def test_each_filter_keeps_the_hand_counted_events(criteria: dict[str, object], count: int):
    """Each filter option keeps exactly the events counted by hand in the fixtures."""
    assert len(_keep(**criteria)) == count


def test_time_window_is_inclusive_at_since_and_exclusive_at_until():
    """--since keeps an event logged at that instant; --until drops it (windows tile)."""
    kept = _keep(
        since=datetime(2026, 11, 28, 9, 3, tzinfo=UTC),
        until=datetime(2026, 11, 28, 9, 5, tzinfo=UTC),
    )
    assert sorted(kept) == sorted(
        [
            ("gb.log", 10),
            ("gb.log", 11),
            ("gb.log", 14),
            ("consumer-rs.jsonl", 5),
            ("compose.txt", 4),
            ("compose.txt", 5),
        ]
    )


def test_filter_keeps_input_order_even_when_timestamps_are_not():
    """Filtering streams: out-of-order lines come out in the order they were read."""
    assert _keep(countries=["GB"], events=["receipt.overdue", "alert.received"]) == [
        ("gb.log", 13),
        ("gb.log", 14),
    ]


def test_unknown_event_name_is_rejected_with_the_known_names():
    """A typo in --event is an input error that lists the real event names."""
    with pytest.raises(LogInputError, match=r"'alert\.send' matches no event; known events"):
        EventFilter.build(events=["alert.send"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("15m", NOW - timedelta(minutes=15), id="minutes"),
        pytest.param("2h", NOW - timedelta(hours=2), id="hours"),
        pytest.param("1h30m", NOW - timedelta(minutes=90), id="compound"),
        pytest.param("1d ago", NOW - timedelta(days=1), id="ago"),
        pytest.param("250ms", NOW - timedelta(milliseconds=250), id="ms"),
        pytest.param("now", NOW, id="now"),
        pytest.param("2026-11-28", datetime(2026, 11, 28, tzinfo=UTC), id="date"),
        pytest.param("2026-11-28T09:00", datetime(2026, 11, 28, 9, tzinfo=UTC), id="naive-utc"),
        pytest.param(
            "2026-11-28T10:00:00+01:00", datetime(2026, 11, 28, 9, tzinfo=UTC), id="offset"
        ),
        pytest.param(
            "2026-11-28T09:00:00.123Z",
            datetime(2026, 11, 28, 9, 0, 0, 123000, tzinfo=UTC),
            id="zulu-ms",
        ),
    ],
)
def test_when_accepts_iso_times_and_durations_back_from_now(text: str, expected: datetime):
    """--since/--until take ISO-8601 instants or durations counted back from now."""
    assert parse_when(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "15", "m15", "1y", ""])
def test_when_rejects_anything_else_naming_the_option(text: str):
    """An unreadable time is an input error naming the option and the accepted forms."""
    with pytest.raises(LogInputError, match="--until"):
        parse_when(text, now=NOW, option="--until")
    assert parse_lookback(text) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("TLP:AMBER+STRICT", "AMBER_STRICT"),
        ("TLP_AMBER_STRICT", "AMBER_STRICT"),
        ("amber+strict", "AMBER_STRICT"),
        ("TLP:CLEAR", "CLEAR"),
    ],
)
def test_tlp_spellings_compare_alike(value: str, expected: str):
    """TLP 2.0 labels and the Avro enum symbols normalise to one form."""
    assert normalise_tlp(value) == expected


def test_route_of_names_the_hop_in_the_alerts_direction():
    """Every event maps to its (from, to) hop, whichever side logged it."""
    routes = {(e.country, e.event): route_of(e) for e in read_events(SOURCES)}
    assert routes["GB", "alert.sent"] == ("GB", "MK")  # the last one wins in this dict
    assert routes["GB", "receipt.received"] == ("GB", "RS")
    assert routes["GB", "consent.granted"] == ("RS", "HU")
    assert routes["RS", "alert.shared_onward"] == ("RS", "HU")
    assert routes["MK", "receipt.sent"] == ("GB", "MK")
    assert routes["RS", "message.deadlettered"] == (None, "RS")
