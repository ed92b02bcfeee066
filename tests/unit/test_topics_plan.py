"""The topics a network needs."""

from __future__ import annotations

import pytest

from intelshare.errors import IntelshareError
from intelshare.network.model import default_network, state_topic
from intelshare.runtime.topics import plan_topics


def test_plan_has_four_topics_per_country_and_the_audit_topic() -> None:
    """Inbox, receipts, dead letters, compacted state per country; one audit topic; prefixed."""
    network = default_network()
    specs = plan_topics(network, prefix="x.", partitions=2, replication_factor=1)

    assert len(specs) == 4 * len(network.codes) + 1
    assert all(s.name.startswith("x.") and s.partitions == 2 for s in specs)
    state = {s.name: s.config for s in specs if ".intel.state." in s.name}
    assert state[state_topic("RS", "x.")] == {"cleanup.policy": "compact"}
    assert {s.name for s in specs} - set(state) == set(network.all_topics("x."))


@pytest.mark.parametrize(("partitions", "replicas"), [(0, 1), (1, 0)])
def test_plan_refuses_zero_partitions_or_replicas(partitions: int, replicas: int) -> None:
    """Partitions and replication factor must be at least one."""
    with pytest.raises(IntelshareError, match="at least 1"):
        plan_topics(default_network(), partitions=partitions, replication_factor=replicas)


def test_plan_sets_min_insync_replicas_on_every_topic_when_asked() -> None:
    """--min-insync-replicas becomes each topic's setting, the state topics' compaction kept."""
    specs = plan_topics(default_network(), replication_factor=3, min_insync_replicas=2)

    assert all(s.config["min.insync.replicas"] == "2" for s in specs)
    assert plan_topics(default_network())[0].config == {}


@pytest.mark.parametrize("min_isr", [0, 4])
def test_plan_refuses_min_insync_replicas_outside_one_to_the_replicas(min_isr: int) -> None:
    """A write cannot need more replicas than a topic has, nor none."""
    with pytest.raises(IntelshareError, match=r"min\.insync\.replicas"):
        plan_topics(default_network(), replication_factor=3, min_insync_replicas=min_isr)
