from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

INTELSHARE = str(Path(sys.executable).with_name("intelshare"))
STORY = Path(__file__).resolve().parents[2] / "scenarios" / "western-balkans.yaml"


def intelshare(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the intelshare command, output captured."""
    return subprocess.run([INTELSHARE, *args], capture_output=True, text=True, check=False)


def test_check_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    """A bad file gets one file:line:column line per problem, then one summary error line."""
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\nsteps:\n  - alert: a\n    from: QQ\n    to: GB\n  - pause: 90\n",
        encoding="utf-8",
    )
    result = intelshare("scenario", "check", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"{path}:4:11: error: unknown country 'QQ' in from;")
    assert lines[1].startswith(f"{path}:6:12: error: pause: duration '90' needs a unit")
    assert lines[-1] == f"intelshare: error: {path}: 2 error(s), 0 warning(s)"
    assert "Traceback" not in result.stderr


def test_check_passes_a_good_file_with_its_warnings() -> None:
    """The default story checks with exit 0, printing its expected refusals as warnings."""
    result = intelshare("scenario", "check", str(STORY))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{STORY}: ok, 15 steps")
    assert result.stderr.count("(expected)") == 2


def test_dry_run_prints_the_same_timeline_every_time() -> None:
    """--dry-run --records prints one JSON line per step, identical on every run."""
    first = intelshare("replay", str(STORY), "--dry-run", "--records")
    second = intelshare("replay", str(STORY), "--dry-run", "--records")
    assert first.returncode == 0, first.stderr
    assert (
        hashlib.sha256(first.stdout.encode()).digest()
        == hashlib.sha256(second.stdout.encode()).digest()
    )
    steps = [json.loads(line) for line in first.stdout.splitlines()]
    assert len(steps) == 15
    assert steps[0]["record"]["alert_id"] == "TR-3A5E06F50BD2"
    assert steps[0]["record"]["created_at"] == "2026-11-28T06:00:00+00:00"


def test_dry_run_window() -> None:
    """--from and --to limit the printed timeline to the steps in between."""
    result = intelshare("replay", str(STORY), "--dry-run", "--from", "2h", "--to", "3h")
    offsets = [line.split()[0] for line in result.stdout.splitlines()]
    assert offsets == ["+2h", "+2h10m", "+2h10m", "+2h20m", "+2h30m", "+3h"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--speed", "2", "--as-fast-as-possible"], "contradict each other", id="speed-and-fast"
        ),
        pytest.param(["--from", "1m30"], "--from: malformed duration", id="bad-offset"),
        pytest.param(["--speed", "0"], "--speed: 0.0 must be positive", id="zero-speed"),
        pytest.param(["--speed", "nan"], "--speed: nan is not a finite number", id="nan-speed"),
        pytest.param(["--speed", "inf"], "--speed: inf is not a finite number", id="inf-speed"),
        pytest.param(["--speed", "-2"], "--speed: -2.0 must be positive", id="negative-speed"),
        pytest.param(["--settle", "nan"], "--settle: nan is not a finite number", id="nan-settle"),
        pytest.param(["--idle", "0"], "--idle: 0.0 must be positive", id="zero-idle"),
        pytest.param(
            ["--connect-timeout", "-inf"], "--connect-timeout: -inf is not", id="inf-timeout"
        ),
        pytest.param(
            ["--from", "12m", "--to", "5m"],
            "--from 12m is after --to 5m; the window is inverted",
            id="inverted-window",
        ),
        pytest.param(
            ["--from", "5h"],
            "--from 5h is after the scenario's last step (at 3h45m); nothing would be replayed",
            id="from-past-the-end",
        ),
        pytest.param(
            ["--from", "9999999999d"], "--from: duration '9999999999d' is too long", id="huge-from"
        ),
        pytest.param(["--to", "9999999999d"], "--to: duration '9999999999d' is too", id="huge-to"),
    ],
)
def test_bad_replay_options_exit_2(args: list[str], message: str) -> None:
    """Contradictory, malformed or out-of-scenario replay options are refused in one line."""
    result = intelshare("replay", str(STORY), "--dry-run", *args)
    assert result.returncode == 2
    assert message in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_a_missing_file_is_named_once_without_a_position(tmp_path: Path) -> None:
    """A scenario file that does not exist reads 'FILE: cannot read: ...', no doubled prefix."""
    missing = tmp_path / "nope.yaml"
    result = intelshare("replay", str(missing), "--dry-run")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"intelshare: error: {missing}: cannot read: No such file or directory"
    )


def test_check_prints_the_first_problems_and_counts_the_rest(tmp_path: Path) -> None:
    """A file with 300 bad steps prints 50 problems, then one line counting the other 250."""
    path = tmp_path / "many.yaml"
    path.write_text("name: many\nsteps:\n" + "  - pause: 90\n" * 300, encoding="utf-8")
    result = intelshare("scenario", "check", str(path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 52
    assert lines[50] == (
        "... and 250 more error(s), 0 more warning(s) (--max-problems 0 prints them all)"
    )
    everything = intelshare("scenario", "check", "--max-problems", "0", str(path))
    assert len(everything.stderr.strip().splitlines()) == 301


def test_generate_writes_a_scenario_that_checks(tmp_path: Path) -> None:
    """A generated scenario is deterministic for its seed and checks clean."""
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    for path in (one, two):
        result = intelshare(
            "scenario", "generate", "--alerts", "50", "--seed", "9", "-o", str(path)
        )
        assert result.returncode == 0, result.stderr
    assert one.read_bytes() == two.read_bytes()
    check = intelshare("scenario", "check", str(one))
    assert check.returncode == 0, check.stderr
    assert ": 50 alerts" in check.stdout
