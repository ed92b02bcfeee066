"""The compose network end to end: a scenario replayed through the ``replay`` service."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from intelshare.consumer.proof import ProofRule
from intelshare.network.model import alerts_topic

if TYPE_CHECKING:
    from conftest import Compose

# Bringing the network up and replaying the scenario take minutes, counted in the first test.
pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

# The countries of the default network, each with a producer and a consumer service.
COUNTRIES = ("GB", "RS", "MK", "XK", "AL", "TR")

# What a consumer logs about an alert that reached its inbox.
INBOX_EVENTS = frozenset({"alert.received", "alert.rejected", "alert.revoked", "alert.duplicate"})


def _events(output: str) -> list[dict[str, Any]]:
    """The JSON log events in ``compose logs`` output (service prefixes removed)."""
    events = []
    for line in output.splitlines():
        _, _, text = line.partition("| ")
        text = text.strip()
        if text.startswith("{"):
            try:
                events.append(json.loads(text))
            except json.JSONDecodeError:
                continue
    return events


@pytest.fixture(scope="module")
def replayed(compose: Compose) -> subprocess.CompletedProcess[str]:
    """The default scenario replayed once through the ``replay`` service."""
    started = time.monotonic()
    result = compose.run("run", "--rm", "replay", check=False, timeout=900)
    print(f"replay exited {result.returncode} after {time.monotonic() - started:.1f}s")  # noqa: T201
    print(result.stdout[-4000:], result.stderr[-4000:])  # noqa: T201  shown when a test fails
    return result


@pytest.fixture(scope="module")
def inbox_events(
    compose: Compose, replayed: subprocess.CompletedProcess[str]
) -> dict[str, list[dict[str, Any]]]:
    """Each country's consumer log events about alerts in its inbox, after the replay."""
    del replayed
    return {
        cc: [
            e
            for e in _events(compose.logs(f"consumer-{cc.lower()}"))
            if e.get("event") in INBOX_EVENTS
        ]
        for cc in COUNTRIES
    }


def test_replay_of_the_default_scenario_exits_zero(
    replayed: subprocess.CompletedProcess[str],
) -> None:
    """The replay service meets every expectation of the default scenario and exits 0."""
    assert replayed.returncode == 0, replayed.stderr


def test_consumers_log_alerts(inbox_events: dict[str, list[dict[str, Any]]]) -> None:
    """Alerts reached the consumers: several countries logged received alerts."""
    receiving = [
        cc
        for cc, events in inbox_events.items()
        if any(e["event"] == "alert.received" for e in events)
    ]
    assert len(receiving) >= 2, inbox_events


@pytest.mark.parametrize("country", COUNTRIES)
def test_each_consumer_reads_only_its_own_inbox(
    inbox_events: dict[str, list[dict[str, Any]]], country: str
) -> None:
    """Every alert a country's consumer logs was read from that country's inbox topic."""
    for event in inbox_events[country]:
        assert event["topic"] == alerts_topic(country), event


def test_each_alert_received_was_sent_to_that_country(
    compose: Compose, inbox_events: dict[str, list[dict[str, Any]]]
) -> None:
    """A consumer holds a producer's alert only if that producer logged a copy sent to it."""
    sent = {
        (e["alert_id"], e["revision"], e["recipient"])
        for cc in COUNTRIES
        for e in _events(compose.logs(f"producer-{cc.lower()}"))
        if e.get("event") == "alert.sent"
    }
    by_producers = {(alert_id, revision) for alert_id, revision, _ in sent}
    checked = 0
    for country, events in inbox_events.items():
        for event in events:
            key = (event["alert_id"], event["revision"])
            # The replay's own sends are not in the producers' logs; onward copies came by a
            # hop (hop_path), not from the originator's producer.
            if key in by_producers and "hop_path" not in event:
                assert (*key, country) in sent, event
                checked += 1
    assert checked > 0, "no alert of the compose producers reached a consumer"


@pytest.mark.parametrize(("sender", "receiver"), [("RS", "XK"), ("XK", "RS")])
def test_no_alert_crosses_between_rs_and_xk(
    inbox_events: dict[str, list[dict[str, Any]]], sender: str, receiver: str
) -> None:
    """With no RS-XK agreement, neither country's consumer holds an alert from the other."""
    received = [e for e in inbox_events[receiver] if e["event"] == "alert.received"]
    assert all(e.get("originator") != sender for e in received), received


@pytest.mark.parametrize("country", COUNTRIES)
def test_logs_stats_reads_a_consumers_compose_log(
    compose: Compose, replayed: subprocess.CompletedProcess[str], country: str
) -> None:
    """``compose logs consumer-xx | intelshare logs stats`` counts only alerts to that country."""
    del replayed
    stats = subprocess.run(
        [str(Path(sys.executable).with_name("intelshare")), "logs", "stats", "--format", "json"],
        input=compose.logs(f"consumer-{country.lower()}"),
        capture_output=True,
        check=True,
        text=True,
    )
    received = json.loads(stats.stdout)["received"]
    assert all(route.endswith(f">{country}") for route in received), received


def _exec(compose: Compose, service: str, *command: str) -> str:
    """Run ``command`` inside the service's running container and return its output."""
    return compose.run("exec", "-T", service, *command, timeout=120).stdout


@pytest.mark.parametrize("country", COUNTRIES)
def test_each_service_holds_only_its_own_signing_key(compose: Compose, country: str) -> None:
    """A country's producer and consumer hold its private key and no other, plus every .pub."""
    for role in ("producer", "consumer"):
        held = set(
            _exec(compose, f"{role}-{country.lower()}", "ls", "/run/intelshare/keys").split()
        )
        assert {name for name in held if name.endswith(".key")} == {f"{country}.key"}, held
        assert {name for name in held if name.endswith(".pub")} >= {f"{c}.pub" for c in COUNTRIES}


def test_the_broker_holds_no_signing_key(compose: Compose) -> None:
    """The countries' signing keys stay out of the broker's secrets volume."""
    listed = {Path(line).name for line in _exec(compose, "kafka", "find", "/secrets").split()}
    assert not listed & {f"{c}.key" for c in COUNTRIES}, listed


# Inside a consumer container: the network it runs on, and whether its keys are the demo ones.
_KEYS_IN_USE = """
import json, os
from pathlib import Path
from intelshare.contract.signing import demo_public_key
from intelshare.network.model import load_network
network = load_network(Path(os.environ["INTELSHARE_NETWORK"]))
print(json.dumps({
    "demo": network.demo_keys,
    "keys": {c: network.public_key(c) is not None for c in network.codes},
    "any_demo": any(network.public_key(c) == demo_public_key(c) for c in network.codes),
}))
"""


def test_services_verify_with_real_keys(
    compose: Compose, inbox_events: dict[str, list[dict[str, Any]]]
) -> None:
    """Consumers verify with real (non-demo) keys from the network's keys folder, none refused."""
    in_use = json.loads(_exec(compose, "consumer-rs", "python", "-c", _KEYS_IN_USE))
    assert in_use["demo"] is False
    assert in_use["any_demo"] is False
    assert all(in_use["keys"][c] for c in COUNTRIES), in_use
    assert any(e["event"] == "alert.received" for e in inbox_events["RS"]), inbox_events["RS"]
    refused = [
        e
        for cc in COUNTRIES
        for e in _events(compose.logs(f"consumer-{cc.lower()}"))
        if e.get("rule") in {rule.value for rule in ProofRule}
    ]
    assert refused == [], refused[:5]
