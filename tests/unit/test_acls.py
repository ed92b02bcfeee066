from __future__ import annotations

import pytest

from intelshare.network.acls import AclBinding, acl_changes, managed, network_acls
from intelshare.network.model import default_network, parse_network

TWO_AGREEMENTS = """\
countries:
  - {code: GB, name: United Kingdom}
  - {code: RS, name: Serbia}
  - {code: XK, name: Kosovo}
agreements:
  - {id: GB-RS, parties: [GB, RS], categories: [DISCREET_CHECK], max_tlp: TLP_AMBER,
     retention_days: 30}
  - {id: GB-XK, parties: [GB, XK], categories: [DISCREET_CHECK], max_tlp: TLP_AMBER,
     retention_days: 30}
"""


def grants(bindings: tuple[AclBinding, ...], who: str, operation: str) -> set[str]:
    """The resource names one principal may do one operation on."""
    return {
        b.resource_name
        for b in bindings
        if b.principal == f"User:{who}" and b.operation == operation
    }


def test_a_country_reads_only_its_own_topics_and_groups() -> None:
    """RS reads its inbox, receipts, dead letters, state topic and its own consumer groups."""
    rules = network_acls(default_network())
    assert grants(rules, "RS", "READ") == {
        "intel.alerts.RS",
        "intel.receipts.RS",
        "intel.deadletter.RS",
        "intel.state.RS",
        "intelshare-consumer-RS",
    }
    group = next(b for b in rules if b.resource_type == "GROUP" and b.principal == "User:RS")
    assert group.pattern == "PREFIXED"


def test_a_country_writes_exactly_its_partners_inboxes_and_receipts() -> None:
    """RS writes GB's and the route group's inboxes, never XK's (no RS-XK agreement)."""
    network = default_network()
    rules = network_acls(network)
    writes = grants(rules, "RS", "WRITE")
    partners = network.partners("RS")
    assert {w for w in writes if w.startswith("intel.alerts.")} == {
        f"intel.alerts.{p}" for p in partners
    }
    assert {w for w in writes if w.startswith("intel.receipts.")} == {
        f"intel.receipts.{p}" for p in partners
    }
    assert "intel.alerts.XK" not in writes
    assert "intel.alerts.XK" in grants(rules, "GB", "WRITE")
    assert "RS" not in {w.rsplit(".", 1)[1] for w in writes if w.startswith("intel.alerts.")}
    assert {"intel.state.RS", "intel.deadletter.RS", "intel.audit"} <= writes


def test_only_the_controller_reads_the_audit_topic() -> None:
    """Nobody but User:controller has READ on intel.audit, and nobody reads another's state."""
    rules = network_acls(default_network())
    readers = {
        b.principal for b in rules if b.resource_name == "intel.audit" and b.operation == "READ"
    }
    assert readers == {"User:controller"}
    for rule in rules:
        if rule.resource_name.startswith("intel.state."):
            assert rule.principal == f"User:{rule.resource_name.rsplit('.', 1)[1]}"


def test_rules_follow_the_topic_prefix() -> None:
    """With a prefix every topic and group name in the rules carries it."""
    rules = network_acls(default_network(), "t.x.")
    assert all(b.resource_name.startswith("t.x.") for b in rules)
    assert "t.x.intel.alerts.RS" in grants(rules, "GB", "WRITE")


def test_removing_an_agreement_removes_exactly_its_grants() -> None:
    """Dropping GB-XK from the file deletes GB's writes to XK and XK's to GB, nothing else."""
    before = network_acls(parse_network(TWO_AGREEMENTS, source="a.yaml"))
    after_text = TWO_AGREEMENTS.split("  - {id: GB-XK", maxsplit=1)[0]
    after = network_acls(parse_network(after_text, source="b.yaml"))
    changes = acl_changes(after, before)
    assert changes.create == ()
    assert {(b.principal, b.resource_name) for b in changes.delete} == {
        ("User:GB", "intel.alerts.XK"),
        ("User:GB", "intel.receipts.XK"),
        ("User:XK", "intel.alerts.GB"),
        ("User:XK", "intel.receipts.GB"),
    }
    assert changes.kept == len(after)


def test_changes_leave_other_prefixes_and_resources_alone() -> None:
    """Rules of another prefix or on the cluster are never deleted by a sync."""
    foreign = (
        AclBinding(
            resource_type="TOPIC",
            resource_name="t.other.intel.alerts.RS",
            pattern="LITERAL",
            principal="User:RS",
            operation="READ",
        ),
        AclBinding(
            resource_type="CLUSTER",
            resource_name="kafka-cluster",
            pattern="LITERAL",
            principal="User:ops",
            operation="DESCRIBE",
        ),
    )
    wanted = network_acls(default_network(), "t.mine.")
    changes = acl_changes(wanted, foreign, "t.mine.")
    assert changes.delete == ()
    assert len(changes.create) == len(wanted)
    assert not any(managed(b, "t.mine.") for b in foreign)


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        pytest.param("intel.alerts.RS", "TOPIC", True, id="topic"),
        pytest.param("intelshare-consumer-RS", "GROUP", True, id="group"),
        pytest.param("p.intel.alerts.RS", "TOPIC", False, id="other-prefix"),
        pytest.param("billing", "TOPIC", False, id="unrelated-topic"),
    ],
)
def test_managed_rules_are_those_on_the_prefix_names(name: str, kind: str, expected: bool) -> None:
    """Only rules on the prefix's intel.* topics and intelshare-consumer-* groups are managed."""
    rule = AclBinding(
        resource_type=kind,
        resource_name=name,
        pattern="LITERAL",
        principal="User:RS",
        operation="READ",
    )
    assert managed(rule) is expected
