"""The seeded alert generator: valid, addressed where allowed, repeatable."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice

import pytest

from intelshare.contract import codec
from intelshare.contract.alerts import AlertHeader
from intelshare.contract.schemas import default_registry
from intelshare.network.model import default_network
from intelshare.network.policy import check_send
from intelshare.producer.generator import AlertGenerator

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def generate(country: str, count: int = 150, **options) -> list[dict]:
    """``count`` alerts from ``country``'s generator at a fixed time."""
    generator = AlertGenerator(default_network(), country, clock=lambda: NOW, **options)
    return list(islice(generator, count))


@pytest.mark.parametrize("country", default_network().codes)
def test_every_alert_fits_the_schema_and_every_copy_is_allowed(country: str) -> None:
    """Each generated alert encodes, and the policy allows every recipient it addresses."""
    network = default_network()
    for record in generate(country):
        codec.encode(default_registry(), "Alert", record)
        header = AlertHeader.from_record(record)
        assert header.recipients
        for recipient in header.recipients:
            assert check_send(network, header, recipient, NOW).allowed, (record, recipient)


def test_the_same_seed_gives_the_same_alerts() -> None:
    """Two generators with one seed produce identical sequences; another seed differs."""
    assert generate("GB", 40, seed=7) == generate("GB", 40, seed=7)
    assert generate("GB", 40, seed=7) != generate("GB", 40, seed=8)


def test_misaddressed_alerts_add_a_recipient_the_policy_refuses() -> None:
    """With misaddress=1 every new alert also names a country the policy refuses."""
    network = default_network()
    for record in generate("XK", 30, misaddress=1.0, changes=0.0):
        header = AlertHeader.from_record(record)
        refused = [r for r in header.recipients if not check_send(network, header, r, NOW).allowed]
        assert len(refused) == 1


def test_updates_and_revocations_follow_earlier_alerts() -> None:
    """Changes reuse an earlier alert's id with the next revision, never a new id."""
    records = generate("GB", 300)
    first_seen: dict[str, int] = {}
    for record in records:
        if record["message_type"] == "ALERT":
            assert record["revision"] == 1
            first_seen[record["alert_id"]] = 1
        else:
            assert record["alert_id"] in first_seen
            assert record["revision"] > 1
    kinds = {r["message_type"] for r in records}
    assert kinds == {"ALERT", "UPDATE", "REVOCATION"}


def test_content_comes_from_the_story() -> None:
    """Alerts carry route countries, located places and the smuggling subjects."""
    records = generate("GB", 200)

    assert all(r["route_countries"] and r["route_countries"][-1] == "GB" for r in records)
    assert all(-90 <= r["locations"][0]["latitude"] <= 90 for r in records)
    assert any(r["equipment"] for r in records)
    assert any(p["method"] == "HAWALA" for r in records for p in r["payments"])
