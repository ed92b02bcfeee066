"""Read a scenario's ``expect:`` list into :class:`~.expectations.Expectation` values.

Each item is a mapping with one key naming the kind, e.g.
``- receives: {country: RS, alert: van-sighting, within: 10s}``. Alert names are checked
against the steps once every step has been read (see :mod:`intelshare.scenario.parse`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import yaml

from intelshare.contract import events as ev
from intelshare.durations import format_duration
from intelshare.scenario.alert_fields import country
from intelshare.scenario.expectations import KINDS, Expectation
from intelshare.yamlpos import Reader, suggest

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import timedelta

    from intelshare.network.model import Network

_FIELDS: Final = {
    "receives": (("country", "alert"), ("within", "revision")),
    "never_receives": (("country", "alert"), ()),
    "receipt": (("to", "from", "alert"), ("status", "within")),
    "refused": (("from", "to"), ("alert", "rule")),
    "rejected": (("country",), ("alert", "rule")),
    "revoked": (("country", "alert"), ()),
    "count": (
        ("event",),
        ("country", "recipient", "alert", "rule", "status", "equals", "at_least", "at_most"),
    ),
}
_COUNTRY_KEYS: Final = frozenset({"country", "to", "from", "recipient"})


def parse_expectations(reader: Reader, node: yaml.Node, network: Network) -> list[Expectation]:
    """Every readable expectation of the ``expect:`` list; problems go to ``reader``."""
    found: list[Expectation] = []
    for item in reader.sequence(node, "expect"):
        expectation = _item(reader, item, network)
        if expectation is not None:
            found.append(expectation)
    return found


def _item(reader: Reader, node: yaml.Node, network: Network) -> Expectation | None:
    if not isinstance(node, yaml.MappingNode) or len(node.value) != 1:
        reader.error(node, f"an expectation is a mapping with one of {', '.join(KINDS)}")
        return None
    key_node, value = node.value[0]
    kind = str(key_node.value)
    if kind not in KINDS:
        reader.error(key_node, f"unknown expectation {kind!r}{suggest(kind, KINDS)}")
        return None
    if kind == "no_dead_letters":
        if reader.boolean(value, "no_dead_letters") is False:
            reader.error(value, "no_dead_letters: write true, or leave the line out")
        return Expectation(
            kind=kind,
            where=reader.where(node),
            event=ev.MESSAGE_DEADLETTERED,
            at_most=0,
            text="no dead letters",
        )
    required, optional = _FIELDS[kind]
    fields = reader.mapping(value, kind, allowed=(*required, *optional), required=required)
    text = None
    if fields is not None and all(k in fields for k in required):
        text = _texts(reader, kind, fields, network)
    if fields is None or text is None:
        return None
    within = None if "within" not in fields else reader.duration(fields["within"], "within")
    if "within" in fields and within is None:
        return None
    return _build(reader, kind=kind, node=node, fields=fields, text=text, within=within)


def _texts(
    reader: Reader, kind: str, fields: dict[str, yaml.Node], network: Network
) -> dict[str, str] | None:
    """The text fields of an expectation; None when one is unreadable (reported)."""
    text: dict[str, str] = {}
    for key, field_node in fields.items():
        if key in _COUNTRY_KEYS:
            value = country(reader, field_node, f"{kind} {key}", network)
        elif key in ("within", "equals", "at_least", "at_most", "revision"):
            continue
        else:
            value = reader.string(field_node, f"{kind} {key}")
        if value is None:
            return None
        text[key] = value
    return text


def _build(
    reader: Reader,
    *,
    kind: str,
    node: yaml.Node,
    fields: dict[str, yaml.Node],
    text: dict[str, str],
    within: timedelta | None,
) -> Expectation | None:
    if kind == "count":
        return _count(reader, node, fields, text)
    shape = _SHAPES[kind](text, text.get("alert"))
    if within is not None:
        # Only ``receives`` and ``receipt`` take ``within``; their text ends with it.
        shape["text"] += f" within {format_duration(within)}"
    if "revision" in fields:
        revision = _revision(reader, fields["revision"])
        if revision is None:
            return None
        shape["match"]["revision"] = str(revision)
    return Expectation(
        kind=kind, where=reader.where(node), alert=text.get("alert"), within=within, **shape
    )


def _shape(
    event: str,
    match: dict[str, str],
    text: str,
    *,
    at_most: int | None = None,
    sent_to: str | None = None,
) -> dict[str, Any]:
    """An expectation's fields: at least one ``event`` that matches (or at most ``at_most``)."""
    bounds = {"at_least": 1} if at_most is None else {"at_most": at_most}
    return {"event": event, "match": match, **bounds, "sent_to": sent_to, "text": text}


def _receives_shape(text: dict[str, str], alert: str | None) -> dict[str, Any]:
    country = text["country"]
    return _shape(
        ev.ALERT_RECEIVED, {"country": country}, f"{country} receives {alert}", sent_to=country
    )


def _never_receives_shape(text: dict[str, str], alert: str | None) -> dict[str, Any]:
    country = text["country"]
    return _shape(
        ev.ALERT_RECEIVED, {"country": country}, f"{country} never receives {alert}", at_most=0
    )


def _receipt_shape(text: dict[str, str], alert: str | None) -> dict[str, Any]:
    status = f" ({text['status']})" if "status" in text else ""
    match = {"country": text["to"], "receipt_from": text["from"]}
    return _shape(
        ev.RECEIPT_RECEIVED,
        match | ({"status": text["status"]} if status else {}),
        f"{text['to']} gets a receipt{status} from {text['from']} for {alert}",
        sent_to=text["from"],
    )


def _refused_shape(text: dict[str, str], alert: str | None) -> dict[str, Any]:
    return _shape(
        ev.ALERT_REFUSED,
        {"country": text["from"], "recipient": text["to"]} | _rule_field(text),
        f"{text['from']} refuses {alert or 'an alert'} to {text['to']}{_why(text)}",
    )


def _rejected_shape(text: dict[str, str], alert: str | None) -> dict[str, Any]:
    return _shape(
        ev.ALERT_REJECTED,
        {"country": text["country"]} | _rule_field(text),
        f"{text['country']} rejects {alert or 'an alert'}{_why(text)}",
    )


def _revoked_shape(text: dict[str, str], alert: str | None) -> dict[str, Any]:
    return _shape(
        ev.ALERT_REVOKED,
        {"country": text["country"]},
        f"{text['country']} stops using {alert} (revoked)",
    )


_SHAPES: Final[dict[str, Callable[[dict[str, str], str | None], dict[str, Any]]]] = {
    "receives": _receives_shape,
    "never_receives": _never_receives_shape,
    "receipt": _receipt_shape,
    "refused": _refused_shape,
    "rejected": _rejected_shape,
    "revoked": _revoked_shape,
}
"""What each kind of expectation counts, and how the results table names it."""


def _revision(reader: Reader, node: yaml.Node) -> int | None:
    """A revision an alert can have: a whole number from 1."""
    revision = reader.integer(node, "revision")
    if revision is not None and revision < 1:
        reader.error(node, f"revision {revision}: revisions count from 1")
        return None
    return revision


def _rule_field(text: dict[str, str]) -> dict[str, str]:
    return {"rule": text["rule"]} if "rule" in text else {}


def _why(text: dict[str, str]) -> str:
    return f" ({text['rule']})" if "rule" in text else ""


def _count(
    reader: Reader, node: yaml.Node, fields: dict[str, yaml.Node], text: dict[str, str]
) -> Expectation | None:
    event = text["event"]
    if event not in ev.ALL_EVENTS:
        reader.error(fields["event"], f"unknown event {event!r}{suggest(event, ev.ALL_EVENTS)}")
        return None
    bounds: dict[str, int | None] = {
        k: reader.integer(fields[k], k) for k in ("equals", "at_least", "at_most") if k in fields
    }
    if not bounds:
        reader.error(node, "count needs equals, at_least or at_most")
        return None
    if None in bounds.values():
        return None
    if "equals" in bounds and len(bounds) > 1:
        reader.error(node, "count takes equals, or at_least and/or at_most, not both")
        return None
    if not _possible(reader, fields, bounds):
        return None
    at_least = bounds.get("equals", bounds.get("at_least"))
    at_most = bounds.get("equals", bounds.get("at_most"))
    match: dict[str, str] = {
        k: text[k] for k in ("country", "recipient", "rule", "status") if k in text
    }
    scope = "".join(f" {k}={v}" for k, v in match.items())
    if "alert" in text:
        scope += f" alert={text['alert']}"
    bound = " ".join(f"{k.replace('_', ' ')} {v}" for k, v in bounds.items())
    return Expectation(
        kind="count",
        where=reader.where(node),
        event=event,
        match=match,
        alert=text.get("alert"),
        at_least=at_least or None,
        at_most=at_most,
        text=f"count {event}{scope}: {bound}",
    )


def _possible(
    reader: Reader, fields: dict[str, yaml.Node], bounds: Mapping[str, int | None]
) -> bool:
    """Whether a count's bounds can be met at all; each impossible one is reported."""
    ok = True
    for key, value in bounds.items():
        if value is not None and value < 0:
            reader.error(fields[key], f"{key} {value}: a count cannot be negative")
            ok = False
    low, high = bounds.get("at_least"), bounds.get("at_most")
    if ok and low is not None and high is not None and low > high:
        reader.error(
            fields["at_least"], f"at_least {low} is more than at_most {high}: it can never hold"
        )
        ok = False
    return ok
