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
    ],
)
def test_bad_replay_options_exit_2(args: list[str], message: str) -> None:
    """Contradictory or malformed replay options are refused in one line, exit 2."""
    result = intelshare("replay", str(STORY), "--dry-run", *args)
    assert result.returncode == 2
    assert message in result.stderr.strip().splitlines()[-1]


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
