"""A replay nobody answers: it fails soon after the network goes quiet, and says why."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.kafka

STORY = Path(__file__).resolve().parents[2] / "scenarios" / "receipts.yaml"
INTELSHARE = str(Path(sys.executable).with_name("intelshare"))


async def test_a_replay_without_consumers_ends_after_idle_and_says_so(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """With no consumer on the prefix, the verdict comes after --idle, not --settle, in one line."""
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        INTELSHARE, "replay", str(STORY), "--bootstrap", kafka_bootstrap,
        "--prefix", topic_prefix, "--as-fast-as-possible", "--idle", "3", "--settle", "120",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), timeout=150)
    took = time.monotonic() - began
    stderr = err.decode()
    assert process.returncode == 1, stderr
    assert took < 60, f"waited {took:.0f} s; --settle is 120 s, --idle 3 s"
    silent = [line for line in stderr.splitlines() if line.startswith("no consumer answered")]
    assert len(silent) == 1, stderr
    assert "none of the 5 messages sent to AL, GB, TR was logged as arriving" in silent[0]
    assert "--with-consumers" in silent[0]
