"""Read a scenario file's header and steps into values, collecting every problem on the way.

The header (name, seed, network, start, defaults, expect) is read first; steps are then read
one at a time (:func:`parse_step`). Checks that need more than one step (names, time order,
agreements) live in :mod:`intelshare.scenario.check`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import yaml

from intelshare.contract.schemas import default_registry
from intelshare.errors import NetworkError
from intelshare.network.model import default_network, load_network
from intelshare.scenario.alert_fields import (
    DEFAULT_KEYS,
    FIELD_KEYS,
    countries,
    country,
    parse_alert_fields,
    parse_time,
)
from intelshare.scenario.expect_parse import parse_expectations
from intelshare.scenario.model import (
    AlertFields,
    AlertStep,
    AnyStep,
    ConsentRequestStep,
    PauseStep,
    ReceiptStep,
    RevocationStep,
    Scenario,
    ShareOnwardStep,
    UpdateStep,
    end_of,
)
from intelshare.yamlpos import Reader, TopLevel, iter_step_nodes, suggest

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from intelshare.network.model import Network

DEFAULT_START: Final = datetime(2026, 1, 1, tzinfo=UTC)
"""The scenario clock's origin when a file gives no ``start``."""
HEADER_KEYS: Final = (
    "name",
    "description",
    "seed",
    "network",
    "start",
    "defaults",
    "steps",
    "expect",
)
"""Top-level keys (plus any ``x-...`` key, ignored, for YAML anchors shared by steps)."""
STEP_KINDS: Final = (
    "alert",
    "update",
    "revoke",
    "receipt",
    "consent_request",
    "share_onward",
    "pause",
)
"""The key that says what a step is."""
_STEP_KEYS: Final = {
    "alert": ("at", "alert", "from", "expect", *FIELD_KEYS),
    "update": ("at", "update", "expect", *FIELD_KEYS),
    "revoke": ("at", "revoke"),
    "receipt": ("at", "receipt", "by", "status", "note"),
    "consent_request": ("at", "consent_request", "by", "onward_to", "reason", "expect"),
    "share_onward": ("at", "share_onward", "by", "to", "expect"),
    "pause": ("at", "pause"),
}
_REQUIRED: Final = {
    "alert": ("from", "to"),
    "receipt": ("by", "status"),
    "consent_request": ("by", "onward_to"),
    "share_onward": ("by", "to"),
}


def parse_header(reader: Reader, top: TopLevel, path: Path, seed: str | None) -> Scenario | None:
    """The scenario's header and expectations; None when they are too broken to go on."""
    keys = {k: v for k, v in top.keys.items() if not k.startswith("x-")}
    _templates(reader, top)
    for key, (key_node, _) in keys.items():
        if key not in HEADER_KEYS:
            reader.error(key_node, f"unknown top-level field {key!r}{suggest(key, HEADER_KEYS)}")
    for key in ("name", "steps"):
        if key not in keys:
            reader.error(top.root, f"the scenario is missing {key!r}")

    def value(key: str) -> yaml.Node | None:
        return keys[key][1] if key in keys else None

    name = _text(reader, value("name"), "name") or path.stem
    description = _text(reader, value("description"), "description") or ""
    network = _network(reader, value("network"), path)
    start = _start(reader, value("start"))
    if seed is None:
        node = value("seed")
        seed = _text(reader, node, "seed") if node is not None else "0"
    defaults = AlertFields()
    if network is not None and (node := value("defaults")) is not None:
        found = reader.mapping(node, "defaults", allowed=DEFAULT_KEYS)
        if found is not None:
            defaults = parse_alert_fields(reader, found, network)
    if network is None:
        return None
    expect = value("expect")
    expectations = parse_expectations(reader, expect, network) if expect is not None else []
    return Scenario(
        source=reader.source,
        name=name,
        description=description,
        seed=seed or "0",
        network=network,
        start=start,
        defaults=defaults,
        expectations=tuple(expectations),
    )


def _templates(reader: Reader, top: TopLevel) -> None:
    """Repeated keys in ``x-`` templates: merging would keep one of them silently."""
    for key, (_, template) in top.keys.items():
        if key.startswith("x-") and template is not None:
            reader.unique_keys(template, key)


def _start(reader: Reader, node: yaml.Node | None) -> datetime:
    if node is None:
        return DEFAULT_START
    start = parse_time(reader, node, "start")
    if start is not None and start.moment is None:
        reader.error(node, "start must be an ISO-8601 time like 2026-11-28T08:00:00Z")
    return start.moment if start is not None and start.moment is not None else DEFAULT_START


def _text(reader: Reader, node: yaml.Node | None, what: str) -> str | None:
    return None if node is None else reader.string(node, what)


def _network(reader: Reader, node: yaml.Node | None, path: Path) -> Network | None:
    if node is None:
        return default_network()
    text = reader.string(node, "network")
    if text is None:
        return None
    if text == "default":
        return default_network()
    # A relative path is read from the scenario's directory, wherever replay is started.
    network_path = Path(text) if Path(text).is_absolute() else path.parent / text
    try:
        return load_network(network_path)
    except NetworkError as error:
        reader.error(node, f"network {text!r}: {error}")
        return None


def _kind(reader: Reader, node: yaml.Node) -> str | None:
    if not isinstance(node, yaml.MappingNode):
        reader.error(node, f"a step must be a mapping with one of {', '.join(STEP_KINDS)}")
        return None
    keys = [str(k.value) for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
    kinds = list(dict.fromkeys(k for k in keys if k in STEP_KINDS))  # twice: the mapping says
    if len(kinds) > 1:
        reader.error(node, f"a step is one thing; this one has {' and '.join(kinds)}")
        return None
    if not kinds:
        guesses = [k for k in keys if k != "at" and suggest(k, STEP_KINDS).startswith("; did")]
        hint = f" ({guesses[0]!r}{suggest(guesses[0], STEP_KINDS)})" if guesses else ""
        reader.error(node, f"a step needs one of {', '.join(STEP_KINDS)}{hint}")
        return None
    return kinds[0]


def _at(reader: Reader, node: yaml.Node | None, default: timedelta) -> timedelta | None:
    if node is None:
        return default
    return reader.duration(node, "at")


def _expect_refused(reader: Reader, node: yaml.Node | None) -> bool:
    if node is None:
        return False
    text = reader.string(node, "expect")
    if text not in (None, "refused", "delivered"):
        reader.error(node, f"expect {text!r}: write refused (or delivered, the default)")
    return text == "refused"


def parse_step(
    reader: Reader, node: yaml.Node, index: int, scenario: Scenario, cursor: timedelta
) -> AnyStep | None:
    """One step; None (with problems recorded) when it cannot be read.

    ``cursor`` is when the previous step ended: the time of a step that gives no ``at``.
    """
    kind = _kind(reader, node)
    if kind is None:
        return None
    what = f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} step"
    found = reader.mapping(node, what, allowed=_STEP_KEYS[kind], required=_REQUIRED.get(kind, ()))
    if found is None:
        return None
    at = _at(reader, found.get("at"), cursor)
    head: dict[str, Any] = {"where": reader.where(node), "index": index}
    if kind == "pause":
        duration = reader.duration(found["pause"], "pause")
        if at is None or duration is None:
            return None
        return PauseStep(at=at, duration=duration, **head)
    name = reader.string(found[kind], kind)
    step_type, parser = _KINDS[kind]
    # Every field is read (and every problem recorded) even when the name or time is bad.
    fields = parser(reader, found, scenario.network)
    if at is None or name is None or fields is None:
        return None
    return step_type(at=at, name=name, **head, **fields)


def read_steps(
    path: Path, reader: Reader, scenario: Scenario, *, strict: bool = False
) -> Iterator[AnyStep]:
    """A file's steps in order, each timed after the one before (its header read already).

    Stops at the first step with an error (``strict``: with any problem), recorded in
    ``reader``; the caller tells a clean end from that by its problems.

    Raises:
        FatalSyntax: the YAML itself broke off.
    """
    cursor = timedelta(0)
    for index, node in enumerate(iter_step_nodes(path, reader)):
        step = parse_step(reader, node, index, scenario, cursor)
        if step is None or (reader.problems if strict else reader.failed):
            return
        cursor = end_of(step)
        yield step


def _fields(reader: Reader, found: dict[str, yaml.Node], network: Network) -> AlertFields:
    return parse_alert_fields(reader, {k: v for k, v in found.items() if k in FIELD_KEYS}, network)


def _by(
    reader: Reader, found: dict[str, yaml.Node], network: Network, key: str = "by"
) -> str | None:
    return country(reader, found[key], key, network) if key in found else None


def _optional(reader: Reader, found: dict[str, yaml.Node], key: str) -> str | None:
    return reader.string(found[key], key) if key in found else None


_Named = (
    AlertStep | UpdateStep | RevocationStep | ReceiptStep | ConsentRequestStep | ShareOnwardStep
)
"""Steps about a named alert."""
_Fields = dict[str, Any] | None
"""A step kind's own fields (beside time, place and name); None when one cannot be read."""


def _alert(reader: Reader, found: dict[str, yaml.Node], network: Network) -> _Fields:
    originator = _by(reader, found, network, "from")
    fields = _fields(reader, found, network)
    refused = _expect_refused(reader, found.get("expect"))
    if originator is None:
        return None
    return {"originator": originator, "fields": fields, "expect_refused": refused}


def _update(reader: Reader, found: dict[str, yaml.Node], network: Network) -> _Fields:
    fields = _fields(reader, found, network)
    return {"fields": fields, "expect_refused": _expect_refused(reader, found.get("expect"))}


def _revoke(reader: Reader, found: dict[str, yaml.Node], network: Network) -> _Fields:
    del reader, found, network
    return {}


def _receipt(reader: Reader, found: dict[str, yaml.Node], network: Network) -> _Fields:
    by = _by(reader, found, network)
    statuses = default_registry().enum_symbols("Receipt", "ReceiptStatus")
    status = reader.symbol(found["status"], "status", statuses) if "status" in found else None
    note = _optional(reader, found, "note")
    if by is None or status is None:
        return None
    return {"by": by, "status": status, "note": note}


def _sharing(reader: Reader, found: dict[str, yaml.Node], network: Network, key: str) -> _Fields:
    """Who shares (``by``), with whom (``key``), and whether a refusal is meant."""
    by = _by(reader, found, network)
    to = countries(reader, found[key], key, network) if key in found else ()
    refused = _expect_refused(reader, found.get("expect"))
    if by is None or not to:
        return None
    return {"by": by, key: to, "expect_refused": refused}


def _consent_request(reader: Reader, found: dict[str, yaml.Node], network: Network) -> _Fields:
    fields = _sharing(reader, found, network, "onward_to")
    reason = _optional(reader, found, "reason")
    if fields is None:
        return None
    return fields | {"reason": reason or "onward sharing with partners on the route"}


def _share_onward(reader: Reader, found: dict[str, yaml.Node], network: Network) -> _Fields:
    return _sharing(reader, found, network, "to")


_KINDS: Final[
    dict[str, tuple[type[_Named], Callable[[Reader, dict[str, yaml.Node], Network], _Fields]]]
] = {
    "alert": (AlertStep, _alert),
    "update": (UpdateStep, _update),
    "revoke": (RevocationStep, _revoke),
    "receipt": (ReceiptStep, _receipt),
    "consent_request": (ConsentRequestStep, _consent_request),
    "share_onward": (ShareOnwardStep, _share_onward),
}
"""Each step kind's class and the reader of its own fields."""
