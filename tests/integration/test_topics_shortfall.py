"""`intelshare topics` on a broker whose topics already exist with less than is asked for."""

from __future__ import annotations

import subprocess

import pytest
from servicekit import INTELSHARE

pytestmark = pytest.mark.kafka


def run_topics(bootstrap: str, prefix: str, *options: str) -> subprocess.CompletedProcess[str]:
    """Run `intelshare topics` under the prefix and capture what it says."""
    return subprocess.run(
        [str(INTELSHARE), "topics", "--bootstrap", bootstrap,
         "--prefix", prefix, *options],
        capture_output=True, check=False, text=True, timeout=90,
    )  # fmt: skip


async def test_existing_topics_with_fewer_partitions_are_named_and_fail_the_command(
    kafka_bootstrap: str, topic_prefix: str, create_topics
) -> None:
    """Topics made with one partition, asked for with three: each is named SHORT, exit 1."""
    await create_topics(partitions=1)

    result = run_topics(kafka_bootstrap, topic_prefix, "--partitions", "3")

    assert result.returncode == 1, result.stderr
    inbox = f"{topic_prefix}intel.alerts.RS"
    assert f"SHORT    {inbox}  partitions 1 < 3" in result.stdout.splitlines()
    assert "existing topic(s) have less than asked for" in result.stderr
    assert "Traceback" not in result.stderr


async def test_existing_topics_with_fewer_replicas_than_asked_fail_the_command(
    kafka_bootstrap: str, topic_prefix: str, create_topics
) -> None:
    """Topics with one replica, asked for with two: the replication factor is named, exit 1."""
    made = run_topics(kafka_bootstrap, topic_prefix, "--partitions", "1")
    assert made.returncode == 0, made.stderr

    result = run_topics(
        kafka_bootstrap, topic_prefix, "--partitions", "1", "--replication-factor", "2"
    )

    assert result.returncode == 1, result.stderr
    assert f"SHORT    {topic_prefix}intel.audit  replication factor 1 < 2" in result.stdout


async def test_topics_that_match_what_is_asked_pass_on_a_second_run(
    kafka_bootstrap: str, topic_prefix: str, create_topics
) -> None:
    """A second run with the same options finds every topic there and exits 0."""
    first = run_topics(kafka_bootstrap, topic_prefix, "--min-insync-replicas", "1")
    second = run_topics(kafka_bootstrap, topic_prefix, "--min-insync-replicas", "1")

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "0 created, 49 already there" in second.stdout
    assert "SHORT" not in second.stdout
