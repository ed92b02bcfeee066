"""A healthy start is quiet: no error-level lines from a replay or a service on fresh topics."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.kafka

STORY = Path(__file__).resolve().parents[2] / "scenarios" / "receipts.yaml"
INTELSHARE = str(Path(sys.executable).with_name("intelshare"))


def error_lines(stderr: str) -> list[str]:
    """Lines of standard error at error level (JSON library lines or plain text)."""
    found = []
    for line in stderr.splitlines():
        try:
            level = json.loads(line).get("level")
        except (ValueError, AttributeError):
            level = "error" if " ERROR " in line else None
        if level == "error":
            found.append(line)
    return found


async def run(*args: str, stop_after: float | None = None) -> tuple[int, str]:
    """Run intelshare; with ``stop_after``, SIGTERM it then. Exit code and standard error."""
    process = await asyncio.create_subprocess_exec(
        INTELSHARE, *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    if stop_after is not None:
        await asyncio.sleep(stop_after)
        process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, err.decode()


async def test_a_replay_on_fresh_topics_prints_no_errors(kafka_bootstrap: str) -> None:
    """Replaying with local consumers on topics made for it shows no error-level line.

    Fresh topics have no leader for a moment and fresh groups no coordinator; the client's
    error lines about that are transient states, not failures.
    """
    code, err = await run(
        "replay", str(STORY), "--bootstrap", kafka_bootstrap, "--with-consumers",
        "--as-fast-as-possible", "--settle", "20",
    )  # fmt: skip
    assert code == 0, err
    assert error_lines(err) == []


async def test_a_consumer_on_fresh_topics_prints_no_errors(
    kafka_bootstrap: str, topic_prefix: str
) -> None:
    """A country's consumer started right after its topics are created logs no error line."""
    code, err = await run("topics", "--bootstrap", kafka_bootstrap, "--prefix", topic_prefix)
    assert code == 0, err
    code, err = await run(
        "consumer", "--country", "RS", "--bootstrap", kafka_bootstrap, "--prefix", topic_prefix,
        "--log-format", "json", stop_after=8.0,
    )  # fmt: skip
    assert code == 0, err
    assert error_lines(err) == []


async def test_a_broker_that_does_not_answer_still_prints_errors() -> None:
    """A real failure is not hidden: an unreachable broker gives error lines and exit 2."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    code, err = await run(
        "replay", str(STORY), "--bootstrap", closed, "--connect-timeout", "2", "--no-create-topics"
    )
    assert code == 2
    lines = error_lines(err)
    assert any("kafka.client" in line and "Unable connect" in line for line in lines), err
    assert "unreachable" in err.strip().splitlines()[-1]
