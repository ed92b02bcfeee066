"""The compose cluster profile under fire: each node killed in turn while GB sends to RS."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from conftest import _free_port, e2e_project, network_up

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conftest import Compose

pytestmark = [pytest.mark.docker, pytest.mark.timeout(1800)]

NODES = ("kafka", "kafka-2", "kafka-3")
# Only what the drill needs runs: three nodes, the topics, GB's producer, GB's and RS's consumers.
SERVICES = (*NODES, "init", "producer-gb", "consumer-gb", "consumer-rs")
OUTAGE = 25.0
"""Seconds each node stays dead at least: well beyond Kafka's failure detection (9 s heartbeats)."""
RESUME_LIMIT = 120.0
"""Seconds a node may stay dead before GB must have sent again. Its leaders move after the
controller fences it (9 s; longer when it was the active controller and a new one is elected
first), then GB's producer learns the new leaders: usually well inside OUTAGE, but on a busy
two-core machine running three brokers it has taken longer, so the node stays down until GB's
sends resume instead of the test judging a fixed window."""
# What RS logs once for each alert copy that reaches it (new, update, revocation, refused).
ARRIVALS = frozenset({"alert.received", "alert.revoked", "alert.rejected"})


def _events(output: str) -> list[dict[str, Any]]:
    """The JSON log events in ``compose logs`` output (service prefixes removed)."""
    found = []
    for line in output.splitlines():
        text = line.partition("| ")[2].strip()
        if text.startswith("{"):
            try:
                found.append(json.loads(text))
            except json.JSONDecodeError:
                continue
    return found


def _counts(cluster: Compose) -> dict[str, Any]:
    """From the services' logs: copies GB sent RS, RS's arrivals of them, GB's receipts from RS."""
    copies = [e for e in _events(cluster.logs("producer-gb")) if e.get("event") == "alert.sent"]
    sent = {(e["alert_id"], e["revision"]) for e in copies if e.get("recipient") == "RS"}
    arrived = Counter(
        (e["alert_id"], e["revision"])
        for e in _events(cluster.logs("consumer-rs"))
        if e.get("event") in ARRIVALS and e.get("originator") == "GB"
    )
    receipts = {
        (e["alert_id"], e["revision"])
        for e in _events(cluster.logs("consumer-gb"))
        if e.get("event") == "receipt.received" and e.get("receipt_from") == "RS"
    }
    return {
        "copies": len(copies),
        "sent": len(sent),
        "missing": sorted(sent - set(arrived)),
        "twice": sorted(k for k in sent if arrived[k] > 1),
        "receipts": len(sent & receipts),
        "receipts_missing": sorted(sent - receipts),
    }


def _wait_recovered(cluster: Compose, node: str, limit: float = 300.0) -> float:
    """Wait until the restarted node is running and no partition is under-replicated.

    Killing the next node before this one has caught up would leave one in-sync replica, fewer
    than min.insync.replicas: that is losing two nodes, not one. Returns the seconds it took.
    """
    started = time.monotonic()
    other = next(n for n in NODES if n != node)
    while time.monotonic() - started < limit:
        running = cluster.containers().get(node, {}).get("Status") == "running"
        described = cluster.run(
            "exec", "-T", other, "/opt/kafka/bin/kafka-topics.sh", "--bootstrap-server",
            "localhost:19092", "--command-config", "/secrets/kafka/admin-client.properties",
            "--describe", "--under-replicated-partitions",
            check=False, timeout=120,
        )  # fmt: skip
        if running and described.returncode == 0 and "Topic:" not in described.stdout:
            return time.monotonic() - started
        time.sleep(3)
    pytest.fail(f"partitions still under-replicated {limit:.0f}s after {node} was restarted")
    raise AssertionError  # unreachable: pytest.fail raises


@pytest.fixture(scope="module")
def cluster() -> Iterator[Compose]:
    """The cluster profile (three voters, RF 3, min ISR 2); GB sends two alerts a second."""
    env = {
        **os.environ,
        "KAFKA_HOST_PORT": str(_free_port()),
        "REPLICATION_FACTOR": "3",
        "MIN_INSYNC_REPLICAS": "2",
        "ALERT_RATE": "2",
    }
    # The same project name as the single-broker network (removed by now), so scripts/ci-docker's
    # clean-up finds whatever a failed run leaves.
    with network_up(e2e_project(), env, *SERVICES, pre=("--profile", "cluster")) as network:
        yield network


def test_killing_each_node_in_turn_loses_and_doubles_nothing(cluster: Compose) -> None:
    """Kill each node in turn (the active controller among them): every alert to RS once."""
    # GB has been sending a while before the first fault (its first send can take half a
    # minute on a busy machine: metadata, producer id).
    deadline = time.monotonic() + 180
    while _counts(cluster)["copies"] < 20:
        if time.monotonic() > deadline:
            pytest.fail("GB sent fewer than 20 alert copies within 180 s of the network's start")
        time.sleep(3)
    for node in NODES:
        before = _counts(cluster)["copies"]
        cluster.run("kill", node)
        killed = time.monotonic()
        time.sleep(OUTAGE)
        during = _counts(cluster)["copies"] - before
        while not during and time.monotonic() - killed < RESUME_LIMIT:
            time.sleep(3)
            during = _counts(cluster)["copies"] - before
        down = time.monotonic() - killed
        cluster.run("start", node)
        back = _wait_recovered(cluster, node)
        print(f"{node}: killed {down:.0f}s, GB sent {during} copies meanwhile, "  # noqa: T201
              f"every replica in sync {back:.0f}s after its start")  # fmt: skip
        # The network kept working: GB's sends went on while the node was down.
        assert during > 0, f"GB sent nothing in the {down:.0f}s {node} was down"
    cluster.run("stop", "producer-gb")
    deadline = time.monotonic() + 90
    counts = _counts(cluster)
    while (counts["missing"] or counts["receipts_missing"]) and time.monotonic() < deadline:
        time.sleep(3)
        counts = _counts(cluster)
    print(f"compose drill: {counts['sent']} sent to RS, missing {len(counts['missing'])}, "  # noqa: T201
          f"twice {len(counts['twice'])}, receipts {counts['receipts']}")  # fmt: skip

    assert counts["sent"] > 0
    assert counts["missing"] == []
    assert counts["twice"] == []
    assert counts["receipts_missing"] == []
