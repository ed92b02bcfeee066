"""The fault drill (scripts/fault-drill) on a three-node cluster of its own, as CI runs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(600)]


def test_every_alert_survives_node_controller_and_consumer_crashes_exactly_once(
    tmp_path: Path,
) -> None:
    """Kill -9 the inbox leader, the controller and RS's consumer, rebalance: each alert once."""
    if shutil.which("java") is None or shutil.which("mvn") is None:
        pytest.skip("the drill's local cluster needs Java and Maven")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fault-drill"), "--phase-seconds", "8",
         "--log-dir", str(tmp_path / "logs")],
        capture_output=True, check=False, text=True, timeout=580,
    )  # fmt: skip

    figures = result.stdout + result.stderr[-3000:]
    assert result.returncode == 0, figures
    assert "PASS: every alert sent to RS was received exactly once and answered" in result.stdout
    assert "missing 0, logged twice or more 0" in result.stdout
