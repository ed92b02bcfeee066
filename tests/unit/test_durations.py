from __future__ import annotations

from datetime import timedelta

import pytest

from intelshare.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("90s", timedelta(seconds=90), id="seconds"),
        pytest.param("5m", timedelta(minutes=5), id="minutes"),
        pytest.param("1h30m", timedelta(hours=1, minutes=30), id="hours-minutes"),
        pytest.param("2d", timedelta(days=2), id="days"),
        pytest.param("1s500ms", timedelta(seconds=1, milliseconds=500), id="milliseconds"),
        pytest.param("0", timedelta(0), id="bare-zero"),
    ],
)
def test_durations_parse(text: str, value: timedelta) -> None:
    """Whole numbers with units d, h, m, s, ms, largest first, read as durations."""
    assert parse_duration(text) == value


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param("90", "needs a unit", id="no-unit"),
        pytest.param("1m30", "malformed", id="trailing-number"),
        pytest.param("5 m", "malformed", id="space"),
        pytest.param("30s5m", "largest first", id="wrong-order"),
        pytest.param("1m1m", "largest first", id="unit-twice"),
        pytest.param("1.5s", "malformed", id="fraction"),
        pytest.param("", "empty", id="empty"),
    ],
)
def test_malformed_durations_say_why(text: str, reason: str) -> None:
    """Anything else is refused with a reason, never read as something else."""
    with pytest.raises(ValueError, match=reason):
        parse_duration(text)


@pytest.mark.parametrize("text", ["0s", "1h30m", "2d3h", "1s500ms", "45m"])
def test_format_is_the_inverse_of_parse(text: str) -> None:
    """Formatting a parsed duration gives back the shortest spelling."""
    assert format_duration(parse_duration(text)) == text
