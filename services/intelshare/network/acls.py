"""The broker's access rules, derived from the network file: one principal per country.

A pure function of the network and the topic prefix, so the rules can be read, printed and
tested without a broker. A country (principal ``User:<CC>``):

* READs its own inbox, receipts, dead-letter and state topics, and its own consumer groups,
  and WRITEs transactions whose id starts with its consumer group (the consumer commits each
  batch in one);
* WRITEs its own state and dead-letter topics, the audit topic, and the inbox and receipts
  topic of exactly the countries it shares an agreement with.

The exercise controller (``User:controller``) alone READs the audit topic. The admin
(``User:admin``) is the broker's super user and needs no rule. With
``allow.everyone.if.no.acl.found=false`` everything not granted here is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from intelshare.network.model import (
    alerts_topic,
    audit_topic,
    deadletter_topic,
    receipts_topic,
    state_topic,
)

if TYPE_CHECKING:
    from intelshare.network.model import Network

ADMIN: Final = "admin"
"""The admin principal's name: creates topics and ACLs (the broker's super user)."""
CONTROLLER: Final = "controller"
"""The exercise controller's name (``intelshare replay``): the only reader of the audit topic."""
GROUP_PREFIX: Final = "intelshare-consumer-"
"""Consumer groups start with this (after the topic prefix), then the country code."""


@dataclass(frozen=True, kw_only=True, slots=True, order=True)
class AclBinding:
    """One ALLOW rule: a principal may do an operation on a resource."""

    resource_type: str
    """``TOPIC``, ``GROUP`` or ``TRANSACTIONAL_ID``."""
    resource_name: str
    """The topic or group name (prefix included), or a name prefix (see ``pattern``)."""
    pattern: str
    """``LITERAL``: exactly the name; ``PREFIXED``: every name starting with it."""
    principal: str
    """Who, e.g. ``User:RS``."""
    operation: str
    """``READ`` or ``WRITE`` (each implies ``DESCRIBE``)."""
    reason: str = field(default="", compare=False)
    """Why the rule exists, for people (not part of the rule's identity)."""


def principal(name: str) -> str:
    """The Kafka principal of a SCRAM user name."""
    return f"User:{name}"


def consumer_group_prefix(country: str, prefix: str = "") -> str:
    """The start of every consumer group name of ``country`` (its service's group and others)."""
    return f"{prefix}{GROUP_PREFIX}{country}"


def network_acls(network: Network, prefix: str = "") -> tuple[AclBinding, ...]:
    """Every ALLOW rule the network needs on a broker, sorted (see the module docstring)."""
    rules: set[AclBinding] = set()

    def allow(who: str, operation: str, name: str, reason: str, *, resource: str = "TOPIC") -> None:
        # Topics are named exactly; a country's groups and transactional ids by their prefix.
        rules.add(
            AclBinding(
                resource_type=resource,
                resource_name=name,
                pattern="LITERAL" if resource == "TOPIC" else "PREFIXED",
                principal=principal(who),
                operation=operation,
                reason=reason,
            )
        )

    audit = audit_topic(prefix)
    for code in network.codes:
        allow(code, "READ", alerts_topic(code, prefix), "own inbox")
        allow(code, "READ", receipts_topic(code, prefix), "own receipts")
        allow(code, "READ", deadletter_topic(code, prefix), "own dead letters")
        allow(code, "READ", state_topic(code, prefix), "own state")
        allow(code, "WRITE", state_topic(code, prefix), "own state")
        allow(code, "WRITE", deadletter_topic(code, prefix), "own dead letters")
        allow(code, "DESCRIBE_CONFIGS", deadletter_topic(code, prefix), "dead-letter size limit")
        allow(code, "WRITE", audit, "audit mirror")
        for partner in sorted(network.partners(code)):
            agreements = ", ".join(a.id for a in network.agreements_between(code, partner))
            allow(code, "WRITE", alerts_topic(partner, prefix), f"agreement {agreements}")
            allow(code, "WRITE", receipts_topic(partner, prefix), f"agreement {agreements}")
        groups = consumer_group_prefix(code, prefix)
        allow(code, "READ", groups, "own consumer groups", resource="GROUP")
        # The consumer commits each batch in a transaction whose id starts with its group.
        allow(code, "WRITE", groups, "own consumer transactions", resource="TRANSACTIONAL_ID")
    allow(CONTROLLER, "READ", audit, "exercise controller")
    return tuple(sorted(rules))


def managed(binding: AclBinding, prefix: str = "") -> bool:
    """Whether a rule found on the broker is one :func:`network_acls` manages for ``prefix``.

    Rules on this prefix's topics and consumer groups are managed (a rule there that the
    network no longer asks for is removed); rules on anything else are left alone.
    """
    if binding.resource_type == "TOPIC":
        return binding.resource_name.startswith(f"{prefix}intel.")
    if binding.resource_type in ("GROUP", "TRANSACTIONAL_ID"):
        return binding.resource_name.startswith(f"{prefix}{GROUP_PREFIX}")
    return False


@dataclass(frozen=True, kw_only=True, slots=True)
class AclChanges:
    """What to do to make the broker's rules the network's."""

    create: tuple[AclBinding, ...]
    """Rules the network needs that the broker lacks."""
    delete: tuple[AclBinding, ...]
    """Managed rules on the broker the network no longer needs."""
    kept: int
    """Rules already right."""


def acl_changes(
    wanted: tuple[AclBinding, ...], present: tuple[AclBinding, ...], prefix: str = ""
) -> AclChanges:
    """The difference between the rules wanted and those present (only managed ones go)."""
    want = set(wanted)
    have = set(present)
    return AclChanges(
        create=tuple(sorted(want - have)),
        delete=tuple(sorted(b for b in have - want if managed(b, prefix))),
        kept=len(want & have),
    )
