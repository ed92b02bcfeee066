from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from intelshare.cli import app
from intelshare.errors import CheckFailed, LogInputError

FIXTURES = Path(__file__).parent / "fixtures" / "logs"
SOURCES = [str(FIXTURES / "story"), str(FIXTURES / "compose.txt")]


@pytest.fixture
def runner():
    """A CLI runner for the intelshare command."""
    return CliRunner()


def test_logs_without_a_sub_command_filters_as_jsonl_when_piped(runner: CliRunner):
    """``intelshare logs -c RS SOURCES`` filters; off a terminal it prints JSON lines."""
    result = runner.invoke(app, ["logs", "-c", "RS", "-q", *SOURCES])
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(objects) == 8
    assert {obj["country"] for obj in objects} == {"RS"}
    assert objects[0]["alert_id"] == "GB-0001"


def test_filter_sub_command_writes_csv_with_a_header(runner: CliRunner):
    """``--format csv`` writes one header row and one row per kept event."""
    result = runner.invoke(
        app, ["logs", "filter", "--event", "alert.refused", "-f", "csv", "-q", *SOURCES]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(row["country"], row["recipient"], row["rule"]) for row in rows] == [
        ("GB", "XK", "category-not-covered"),
        ("RS", "XK", "no-agreement"),
    ]
    assert rows[0]["eu_handling"] == "H0 H2"
    assert rows[0]["line"] == "3"


def test_table_format_shows_one_row_per_event_and_counts_on_stderr(runner: CliRunner):
    """The table has a header and a row per event; the skipped lines are counted on stderr."""
    result = runner.invoke(app, ["logs", "-f", "table", "--alert", "GB-0002", *SOURCES])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["time", "cc", "event"]
    assert len(lines) == 3
    assert "handling-above-cap" in lines[2]
    assert "26 events, 8 skipped" in result.stderr


def test_stats_json_carries_the_hand_counted_figures(runner: CliRunner):
    """``logs stats -f json`` prints the figures as one JSON document."""
    result = runner.invoke(app, ["logs", "stats", "-f", "json", "-q", *SOURCES])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["sent"] == {"GB>MK": 1, "GB>RS": 2, "TR>GB": 1}
    assert figures["refusals_by_rule"]["no-agreement"] == {"refused": 1, "rejected": 0}
    assert figures["latency_ms"]["GB>MK"]["p99"] == 425.0


def test_stats_table_and_trace_table_render(runner: CliRunner):
    """The people's views of stats and trace render with the countries' names."""
    stats = runner.invoke(app, ["logs", "stats", "--since", "2026-11-28T09:00Z", *SOURCES])
    assert stats.exit_code == 0, stats.output
    assert "North Macedonia" in stats.stdout
    assert "category-not-covered" in stats.stdout
    traced = runner.invoke(app, ["logs", "trace", "GB-0001", *SOURCES])
    assert traced.exit_code == 0, traced.output
    assert "GB > HU (onward)" in traced.stdout


def test_trace_json_lists_steps_with_their_source_lines(runner: CliRunner):
    """``logs trace -f json`` gives each step's offset, wording and where it was logged."""
    result = runner.invoke(app, ["logs", "trace", "GB-0002", "-f", "json", "-q", *SOURCES])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert [(Path(s["source"]).name, s["line"]) for s in found["steps"]] == [
        ("gb.log", 9),
        ("consumer-rs.jsonl", 4),
    ]
    assert found["steps"][1]["offset_ms"] == 250.0


def test_trace_of_an_unknown_id_is_a_failed_check(runner: CliRunner):
    """Tracing an id no event names fails the check (exit code 1)."""
    result = runner.invoke(app, ["logs", "trace", "NOPE", "-q", *SOURCES])
    assert isinstance(result.exception, CheckFailed)


def test_bad_input_is_a_log_input_error(runner: CliRunner):
    """A missing file or a bad --since value raises the input error (exit code 2)."""
    missing = runner.invoke(app, ["logs", "missing.log"])
    assert isinstance(missing.exception, LogInputError)
    bad_time = runner.invoke(app, ["logs", "--since", "last tuesday", *SOURCES])
    assert isinstance(bad_time.exception, LogInputError)


def test_the_command_reads_stdin_and_exits_2_with_one_line_on_bad_input():
    """Run as a process: stdin is read by default; bad input is one stderr line and exit 2."""
    command = [sys.executable, "-c", "from intelshare.cli import main; main()", "logs"]
    piped = subprocess.run(
        [*command, "--event", "alert.duplicate"],
        input=(FIXTURES / "compose.txt").read_bytes(),
        capture_output=True,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["country"] == "MK"
    bad = subprocess.run([*command, "nope.log"], capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert bad.stderr == "intelshare: error: nope.log: no such file or directory\n"


@pytest.mark.parametrize("fmt", ["table", "jsonl", "csv"])
def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path, fmt: str):
    """``intelshare logs ... | head -1`` exits 0 without a traceback when head goes away."""
    big = tmp_path / "big.log"
    big.write_bytes((FIXTURES / "story" / "gb.log").read_bytes() * 3000)
    command = [sys.executable, "-c", "from intelshare.cli import main; main()", "logs"]
    with subprocess.Popen(
        [*command, "-q", "-f", fmt, str(big)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        assert child.stdout.readline()
        child.stdout.close()
        errors = child.stderr.read()
        assert child.wait(timeout=60) == 0
    assert b"Traceback" not in errors
