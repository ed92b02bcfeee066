from __future__ import annotations

import gzip
import io
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from intelshare.errors import LogInputError
from intelshare.logs.lines import ReadCounts, line_event, unwrap
from intelshare.logs.reader import MAX_LINE_BYTES, events_from, expand, read_events

FIXTURES = Path(__file__).parent / "fixtures" / "logs"
STORY = FIXTURES / "story"
COMPOSE = FIXTURES / "compose.txt"


def test_directory_search_takes_log_files_recursively_and_nothing_else():
    """A directory yields its *.log and *.jsonl files, nested too, but no .json/.txt/hidden."""
    files = expand([str(STORY)])
    assert [Path(name).relative_to(STORY).as_posix() for name in files] == [
        "gb.log",
        "rs/consumer-rs.jsonl",
    ]


def test_counts_match_the_hand_counted_fixture_table():
    """Every line of every fixture is classified as the fixture README counts it."""
    counts = ReadCounts()
    events = list(read_events([str(STORY), str(COMPOSE)], counts))
    assert len(events) == 26
    assert (counts.files, counts.lines, counts.events) == (3, 36, 26)
    assert (counts.blank, counts.not_json, counts.foreign, counts.invalid) == (2, 6, 1, 1)
    assert counts.skipped == 8
    assert counts.summary() == (
        "read 36 lines from 3 sources: 26 events, 8 skipped "
        "(6 not JSON, 1 other JSON, 1 invalid events)"
    )


def test_events_keep_source_line_and_typed_fields():
    """Events carry where they came from and their common fields as typed values."""
    events = list(read_events([str(STORY / "gb.log")]))
    assert [event.line for event in events] == [1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 13, 14]
    first = events[0]
    assert first.timestamp == datetime(2026, 11, 28, 9, 0, 0, 100000, tzinfo=UTC)
    assert (first.event, first.country, first.service, first.level) == (
        "alert.sent",
        "GB",
        "producer",
        "info",
    )
    assert (first.alert_id, first.case_id, first.recipient) == ("GB-0001", "CASE-7", "RS")
    assert first.texts("eu_handling") == ("H0", "H2")
    assert first.raw["offset"] == 0
    assert events[-1].latency_ms == 80.0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param('consumer-rs-1  | {"a":1}', '{"a":1}', id="compose"),
        pytest.param('consumer-rs  | {"a":1}', '{"a":1}', id="compose-no-index"),
        pytest.param('\x1b[36mconsumer-rs-1  | \x1b[0m{"a":1}', '{"a":1}', id="coloured"),
        pytest.param(
            'consumer-rs-1  | 2026-11-28T09:00:00.123456789Z {"a":1}', '{"a":1}', id="with-time"
        ),
        pytest.param('  {"a":1}\r\n', '{"a":1}', id="bare"),
        pytest.param("\x1b[1mplain text\x1b[0m", "plain text", id="plain"),
    ],
)
def test_unwrap_strips_compose_prefixes_and_colours(line: str, expected: str):
    """Compose prefixes, compose timestamps and ANSI colour codes are removed before parsing."""
    assert unwrap(line) == expected


def test_docker_json_file_lines_are_unwrapped():
    """A line in Docker's json-file form yields the intelshare event inside its ``log`` field."""
    counts = ReadCounts()
    events = list(read_events([str(COMPOSE)], counts))
    assert events[-1].event == "receipt.sent"
    assert events[-1].text("status") == "HIT"
    assert events[-1].line == 10


def test_stdin_dash_is_read_in_a_mix_with_files(monkeypatch: pytest.MonkeyPatch):
    """``-`` reads standard input alongside named files, in the order given."""
    data = (STORY / "rs" / "consumer-rs.jsonl").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    counts = ReadCounts()
    events = list(read_events([str(COMPOSE), "-"], counts))
    assert [event.source for event in events].count("-") == 8
    assert events[0].source == str(COMPOSE)
    assert counts.files == 2


def test_gzip_files_are_read_and_found_in_directories(tmp_path: Path):
    """A rotated ``.log.gz`` file is searched for and decompressed while streaming."""
    with gzip.open(tmp_path / "gb.log.gz", "wb") as packed:
        packed.write((STORY / "gb.log").read_bytes())
    shutil.copy(STORY / "notes.txt", tmp_path / "notes.txt.gz")
    assert len(list(read_events([str(tmp_path)]))) == 12


def test_missing_source_is_a_clear_input_error():
    """A path that does not exist is a one-line input error naming it."""
    with pytest.raises(LogInputError, match=r"nope\.log: no such file"):
        expand(["nope.log"])
    with pytest.raises(LogInputError, match="no log source"):
        expand([])


def test_overlong_lines_are_skipped_without_breaking_the_next_line():
    """A line over the cap is counted as too long and the following event still parses."""
    good = (STORY / "gb.log").read_bytes().splitlines(keepends=True)[0]
    data = b"{" + b"x" * (MAX_LINE_BYTES * 2 + 5) + b"\n" + good
    counts = ReadCounts()
    events = list(events_from(io.BytesIO(data), source="big", counts=counts))
    assert [event.line for event in events] == [2]
    assert (counts.too_long, counts.lines, counts.skipped) == (1, 2, 1)


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"\xff\xfe\x00garbage", id="binary"),
        pytest.param(b'{"event": "alert.sent", "timestamp": 5, "country": "GB"}', id="bad-time"),
        pytest.param(b'{"event": "alert.sent", "timestamp": "yesterday"}', id="no-country"),
        pytest.param(b'{"event": ["alert.sent"]}', id="odd-name"),
        pytest.param(b'{"log": 3, "stream": "stdout"}', id="odd-docker"),
        pytest.param(b'"just a string"', id="json-string"),
        pytest.param(b"{" * 100_000, id="deep"),
    ],
)
def test_malformed_lines_never_raise(line: bytes):
    """Malformed input is counted as skipped and never raises."""
    counts = ReadCounts()
    assert line_event(line, source="x", line=1, counts=counts) is None
    assert counts.skipped == 1
