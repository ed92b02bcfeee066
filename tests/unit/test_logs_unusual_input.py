"""Log files as found in the wild: rotated, compressed, cut off, with a BOM, from Docker."""

from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from intelshare.cli import app
from intelshare.contract import events as ev
from intelshare.logs.filtering import check_event_patterns
from intelshare.logs.lines import ReadCounts
from intelshare.logs.reader import expand, is_rotated, read_events

PACKAGE = Path(__file__).resolve().parents[2] / "services" / "intelshare"


def _line(event: str = "alert.received", country: str = "RS", second: int = 0) -> str:
    return json.dumps(
        {
            "timestamp": f"2026-11-28T09:00:{second:02d}.000Z",
            "level": "info",
            "event": event,
            "service": "consumer",
            "country": country,
            "alert_id": f"GB-{second:04d}",
            "originator": "GB",
        }
    )


def _write(path: Path, lines: list[str]) -> Path:
    data = "".join(f"{line}\n" for line in lines).encode()
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb") as packed:
            packed.write(data)
    else:
        path.write_bytes(data)
    return path


def test_rotated_files_are_found_and_read_oldest_first(tmp_path: Path):
    """Numbered, dated and gzipped rotations (logrotate's, Docker's json-log) are read."""
    for name in (
        "consumer-RS.log",
        "consumer-RS.log.1",
        "consumer-RS.log.2.gz",
        "consumer-RS.log.10.gz",
        "producer-GB.log-20261127",
        "producer-GB.log",
        "abc123-json.log.1",
        "abc123-json.log",
        "notes.txt.1",
        "report.json.1",
    ):
        _write(tmp_path / name, [_line()])
    found = [Path(name).name for name in expand([str(tmp_path)])]
    assert found == [
        "abc123-json.log.1",
        "abc123-json.log",
        "consumer-RS.log.10.gz",
        "consumer-RS.log.2.gz",
        "consumer-RS.log.1",
        "consumer-RS.log",
        "producer-GB.log-20261127",
        "producer-GB.log",
    ]
    assert [is_rotated(name) for name in found] == [
        True,
        False,
        True,
        True,
        True,
        False,
        True,
        False,
    ]
    counts = ReadCounts()
    assert len(list(read_events([str(tmp_path)], counts))) == 8
    assert counts.files == 8


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        pytest.param(lambda data: data[: len(data) // 2], "truncated", id="truncated"),
        pytest.param(
            lambda data: data[:20] + b"\x00garbage\xff" * 40 + data[20:], "corrupt", id="corrupt"
        ),
    ],
)
def test_a_broken_gz_is_reported_and_every_other_file_still_counts(tmp_path, damage, why):
    """A cut-off or corrupt .gz keeps the lines before the break, is named, and the rest is read."""
    lines = [_line(second=second) for second in range(60)]
    whole = _write(tmp_path / "consumer-RS.log.2.gz", lines).read_bytes()
    (tmp_path / "consumer-RS.log.2.gz").write_bytes(damage(whole))
    _write(tmp_path / "consumer-RS.log.1", [_line(second=1), _line(second=2)])
    _write(tmp_path / "consumer-RS.log", [_line(second=3)])
    counts = ReadCounts()
    events = list(read_events([str(tmp_path)], counts))
    assert len(events) >= 3
    assert len(events) < 63
    assert [e.source.rsplit("/", 1)[1] for e in events[-3:]] == [
        "consumer-RS.log.1",
        "consumer-RS.log.1",
        "consumer-RS.log",
    ]
    assert counts.files == 3
    assert len(counts.broken) == 1
    assert "consumer-RS.log.2.gz" in counts.broken[0]
    assert why in counts.broken[0]
    assert "unreadable from there on: " in counts.summary()


def test_the_command_survives_a_truncated_gz_with_figures_from_the_rest(tmp_path: Path):
    """``intelshare logs stats`` exits 0 with the other files' figures and names the broken file."""
    whole = _write(tmp_path / "old.log.1.gz", [_line(second=s) for s in range(50)]).read_bytes()
    (tmp_path / "old.log.1.gz").write_bytes(whole[:-30])
    _write(tmp_path / "new.log", [_line(country="MK", second=59)])
    result = CliRunner().invoke(app, ["logs", "stats", "-f", "json", str(tmp_path)])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert "MK" in figures["countries"]
    assert "old.log.1.gz: the compressed file is truncated after line" in result.stderr


def test_a_byte_order_mark_does_not_lose_the_first_event(tmp_path: Path):
    """A UTF-8 BOM before the first line is dropped, so that line's event is read."""
    path = tmp_path / "bom.log"
    path.write_bytes(b"\xef\xbb\xbf" + f"{_line(second=1)}\n{_line(second=2)}\n".encode())
    counts = ReadCounts()
    assert [e.line for e in read_events([str(path)], counts)] == [1, 2]
    assert counts.skipped == 0


def test_docker_logs_t_output_is_read(tmp_path: Path):
    """``docker logs -t`` lines (an RFC 3339 timestamp first, no compose prefix) give events."""
    path = tmp_path / "docker-t.txt"
    path.write_text(
        f"2026-11-28T09:00:01.123456789Z {_line(second=1)}\n"
        f"2026-11-28T09:00:02.000000000+00:00 {_line(second=2)}\n"
        "2026-11-28T09:00:03.000000000Z \n"
        "2026-11-28T09:00:04.000000000Z Starting consumer\n"
    )
    counts = ReadCounts()
    assert len(list(read_events([str(path)], counts))) == 2
    assert (counts.blank, counts.not_json) == (1, 1)


def test_blank_lines_in_compose_t_and_json_file_output_count_as_blank(tmp_path: Path):
    """An empty line wrapped by compose ``-t`` or Docker's json-file driver counts as blank."""
    path = tmp_path / "wrapped.txt"
    path.write_text(
        "consumer-rs-1  | 2026-11-28T09:00:01.000000000Z \n"
        "consumer-rs-1  | 2026-11-28T09:00:01.000000000Z\n"
        '{"log":"\\n","stream":"stdout","time":"2026-11-28T09:00:01.5Z"}\n'
        f"consumer-rs-1  | 2026-11-28T09:00:02.000000000Z {_line(second=2)}\n"
    )
    counts = ReadCounts()
    assert len(list(read_events([str(path)], counts))) == 1
    assert (counts.blank, counts.skipped) == (3, 0)


def _logged_names() -> set[str]:
    """Event names the package passes to a logger as a string literal or an events constant."""
    names: set[str] = set()
    methods = {"debug", "info", "warning", "error", "exception", "critical"}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Dict):  # {"event": "kafka.client", ...} built by hand
                names.update(
                    value.value
                    for key, value in zip(node.keys, node.values, strict=True)
                    if isinstance(key, ast.Constant)
                    and key.value == "event"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                )
                continue
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in methods
                and node.args
            ):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                if "." in first.value and " " not in first.value:
                    names.add(first.value)
            elif isinstance(first, ast.Attribute) and isinstance(
                getattr(ev, first.attr, None), str
            ):
                names.add(getattr(ev, first.attr))
    return names


def test_every_event_a_service_logs_is_in_the_one_list():
    """Each event name passed to a service's logger is in events.LOGGED_EVENTS (and so read)."""
    logged = _logged_names()
    assert {"consumer.started", "consumer.stopped", "kafka.client", "alert.received"} <= logged
    assert logged <= ev.LOGGED_EVENTS, sorted(logged - ev.LOGGED_EVENTS)


@pytest.mark.parametrize("name", sorted(ev.LOGGED_EVENTS))
def test_every_logged_event_name_is_accepted_by_the_event_option(name: str):
    """``-e NAME`` accepts every name the services log (e.g. commit.failed)."""
    assert check_event_patterns([name]) == (name,)


def test_commit_failed_is_read_and_filtered(tmp_path: Path):
    """A consumer's ``commit.failed`` line is an event the filter keeps, not "other JSON"."""
    path = _write(tmp_path / "consumer-RS.log", [_line("commit.failed"), _line(second=1)])
    result = CliRunner().invoke(app, ["logs", "-e", "commit.failed", "-f", "jsonl", str(path)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["event"] for line in result.stdout.splitlines()] == ["commit.failed"]
    assert "2 events, 0 skipped" in result.stderr


def test_the_report_names_a_broken_file_on_the_page(tmp_path: Path):
    """``logs report`` over a truncated .gz writes the page and says which file broke off."""
    whole = _write(tmp_path / "old.log.1.gz", [_line(second=s) for s in range(50)]).read_bytes()
    (tmp_path / "old.log.1.gz").write_bytes(whole[:-30])
    page = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["logs", "report", "-o", str(page), str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "old.log.1.gz: the compressed file is truncated after line" in page.read_text()
