"""The services as processes: killed and restarted, stopped by signal, without a broker."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections import Counter

import pytest
from servicekit import (
    INTELSHARE,
    log_lines,
    make_topics,
    read_topic,
    services,
    start_cli,
    stderr_path,
    terminate,
    wait_for_lines,
)

from intelshare.contract import codec
from intelshare.contract.alerts import new_alert
from intelshare.contract.schemas import default_registry
from intelshare.network.model import default_network


def alert(number: int) -> dict:
    """Alert number ``number`` from GB to RS, spread over a few cases."""
    return new_alert(
        originator="GB",
        recipients=["RS"],
        category="MODUS_OPERANDI",
        case_id=f"GB-CASE-{number % 7}",
        summary=f"Lorry {number} seen at Tabanovce.",
        tlp="TLP_GREEN",
        seed=("process-test", number),
    )


@pytest.fixture
async def topics(kafka_bootstrap: str, topic_prefix: str, create_topics) -> str:
    """Every topic of the default network under the test's prefix, with three partitions."""
    await make_topics(kafka_bootstrap, topic_prefix, partitions=3)
    return topic_prefix


def consumer_args(bootstrap: str, prefix: str) -> list[str]:
    """Command-line arguments of RS's consumer under the test's prefix."""
    return ["consumer", "--country", "RS", "--bootstrap", bootstrap, "--prefix", prefix]


@pytest.mark.timeout(240)
async def test_consumer_killed_mid_stream_loses_nothing_and_logs_no_duplicate(
    kafka_bootstrap, topics, tmp_path
):
    """SIGKILL RS's consumer mid-stream, restart it with a new log file: each alert logged once.

    The restarted consumer writes to another file (as a container logging to standard output
    does), so nothing it could read back tells it what the first one did: only Kafka does.
    """
    log = tmp_path / "consumer-RS.log"
    log2 = tmp_path / "consumer-RS-restarted.log"
    sent: list[str] = []
    killed = asyncio.Event()
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        gb = await net.publisher("GB")

        async def stream() -> None:
            # Alerts keep coming until well after the kill, however slow the machine is.
            after_kill = 0
            while after_kill < 150:
                record = alert(len(sent))
                await gb.publish(record)
                sent.append(record["alert_id"])
                after_kill += killed.is_set()
                await asyncio.sleep(0.005)

        sending = asyncio.create_task(stream())
        first = start_cli(*consumer_args(kafka_bootstrap, topics), log_file=log)
        try:
            # Killed once batches have been committed, while later ones are in hand.
            await wait_for_lines(log, "receipt.sent", 60, first)
        finally:
            first.kill()
            first.wait()
            killed.set()
        logged_before = len([e for e in log_lines(log) if e["event"] == "alert.received"])
        second = start_cli(*consumer_args(kafka_bootstrap, topics), log_file=log2)
        try:
            await sending
            await wait_for_lines(log2, "alert.received", len(sent) - logged_before, second)
        finally:
            assert terminate(second) == 0

    received = [
        e["alert_id"] for e in [*log_lines(log), *log_lines(log2)] if e["event"] == "alert.received"
    ]
    assert logged_before < len(sent)
    assert set(received) == set(sent)
    assert [a for a, n in Counter(received).items() if n > 1] == []


async def test_sigterm_stops_the_consumer_cleanly_with_offsets_committed(
    kafka_bootstrap, topics, tmp_path
):
    """SIGTERM: exit 0 after the message in hand; a restart handles nothing a second time."""
    log = tmp_path / "consumer-RS.log"
    async with services(kafka_bootstrap, topics, tmp_path) as net:
        gb = await net.publisher("GB")
        process = start_cli(*consumer_args(kafka_bootstrap, topics), log_file=log)
        try:
            for number in range(30):
                await gb.publish(alert(number))
            await wait_for_lines(log, "receipt.sent", 30, process)
        finally:
            code = terminate(process)
        assert code == 0
        stopped = [e for e in log_lines(log) if e["event"] == "consumer.stopped"]
        assert [e["handled"] for e in stopped] == [30]

        for number in range(30, 40):
            await gb.publish(alert(number))
        again = start_cli(*consumer_args(kafka_bootstrap, topics), log_file=log)
        try:
            await wait_for_lines(log, "alert.received", 40, again)
        finally:
            assert terminate(again, signal.SIGINT) == 0

    events = Counter(e["event"] for e in log_lines(log))
    assert events["alert.received"] == 40
    assert events["alert.duplicate"] == 0
    assert events["consumer.stopped"] == 2


async def test_sigterm_stops_the_producer_cleanly(kafka_bootstrap, topics, tmp_path):
    """The producer exits 0 on SIGTERM; each copy it logged as sent is on Kafka where it says."""
    log = tmp_path / "producer-GB.log"
    args = ["producer", "--country", "GB", "--bootstrap", kafka_bootstrap, "--prefix", topics]
    process = start_cli(*args, "--rate", "20", log_file=log)
    try:
        await wait_for_lines(log, "alert.sent", 10, process)
    finally:
        code = terminate(process)
    assert code == 0
    sent = [e for e in log_lines(log) if e["event"] == "alert.sent"]
    on_kafka = {
        (r.topic, r.partition, r.offset): r
        for topic in {e["topic"] for e in sent}
        for r in await read_topic(kafka_bootstrap, topic)
    }
    registry = default_registry()
    for event in sent:
        record = on_kafka.get((event["topic"], event["partition"], event["offset"]))
        assert record is not None, event
        written = codec.decode(registry, record.value).record
        assert (written["alert_id"], written["revision"]) == (event["alert_id"], event["revision"])
        assert event["recipient"] in written["recipients"], event


async def test_unreachable_broker_is_said_once_then_given_up(tmp_path):
    """With no broker, the consumer logs one broker.unreachable line, retries, then exits 2."""
    log = tmp_path / "consumer-RS.log"
    args = ["consumer", "--country", "RS", "--bootstrap", "127.0.0.1:1", "--connect-timeout", "2"]
    process = start_cli(*args, log_file=log)
    process.wait(timeout=60)

    assert process.returncode == 2
    last = stderr_path(log).read_text().strip().splitlines()[-1]
    assert last.startswith("intelshare: error: Kafka broker at 127.0.0.1:1 unreachable")
    assert [e["event"] for e in log_lines(log)] == ["broker.unreachable"]


async def test_topics_command_is_idempotent(kafka_bootstrap, topic_prefix, create_topics):
    """`intelshare topics` creates every topic once; run again it changes nothing and exits 0."""
    args = [str(INTELSHARE), "topics", "--bootstrap", kafka_bootstrap, "--prefix", topic_prefix]
    first = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: ASYNC221
    second = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: ASYNC221

    count = len(default_network().codes) * 4 + 1
    assert (first.returncode, second.returncode) == (0, 0)
    # The summary line; an ACLs line may follow it (none on a plaintext broker).
    summaries = [
        next(line for line in run.stdout.splitlines() if " already there, at " in line)
        for run in (first, second)
    ]
    assert summaries[0].startswith(f"{count} created, 0 already there")
    assert summaries[1].startswith(f"0 created, {count} already there")
    assert f"created  {topic_prefix}intel.state.RS  cleanup.policy=compact" in first.stdout
