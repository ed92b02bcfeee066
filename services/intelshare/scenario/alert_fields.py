"""Read the alert fields of a scenario step: enums by symbol, subjects inline, times either way.

The subject lists (persons, vehicles, ... organisations) are read against the newest Alert
schema itself, so a field the schema gains is accepted here without a code change, and a field
the schema does not have is reported as a typo.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import yaml

from intelshare.contract.alerts import SUBJECT_FIELDS, Grading
from intelshare.contract.markings import TLP_ORDER
from intelshare.contract.schemas import default_registry
from intelshare.durations import parse_duration
from intelshare.network.model import COUNTRY_CODES
from intelshare.scenario.model import AlertFields, TimeValue
from intelshare.yamlpos import NULL, TIMESTAMP, Reader

if TYPE_CHECKING:
    from collections.abc import Mapping

    from intelshare.network.model import Network

SUBJECTS: Final = tuple(name for name in SUBJECT_FIELDS if name != "related_alert_ids")
"""Subject list fields an alert step may carry inline."""
FIELD_KEYS: Final = (
    "to",
    "category",
    "priority",
    "tlp",
    "eu_handling",
    "eu_restrictions",
    "uk_handling",
    "uk_conditions",
    "grading",
    "summary",
    "case",
    "agency",
    "unit",
    "valid_until",
    "response_due",
    "route",
    "related",
    *SUBJECTS,
)
"""Keys of alert fields, in new alerts and updates alike."""
DEFAULT_KEYS: Final = (
    "category",
    "priority",
    "tlp",
    "eu_handling",
    "uk_handling",
    "uk_conditions",
    "grading",
    "valid_until",
    "response_due",
)
"""Keys the scenario's ``defaults:`` may set."""
EARLIEST_YEAR: Final = 1900
"""The earliest year a scenario's times may name."""
LATEST_YEAR: Final = 8999
"""The latest year a scenario's times may name (offsets of up to 100 years come on top)."""
_COUNTRY_FIELDS: Final = frozenset(
    {"nationality", "registration_country", "issuing_country", "country", "flag"}
)
_ADMIRALTY: Final = re.compile(r"^([A-F])([1-6])$")
_UK_3X5X2: Final = re.compile(r"^([1-3])([A-E])$")
_ENUMS: Final = {
    "category": "Category",
    "priority": "Priority",
    "uk_handling": "UkHandling",
}


@functools.cache
def symbols(enum_name: str) -> tuple[str, ...]:
    """Symbols of an enum of the newest Alert schema."""
    return default_registry().enum_symbols("Alert", enum_name)


@functools.cache
def subject_records() -> Mapping[str, Mapping[str, Any]]:
    """The record definition of each subject list's items, from the newest Alert schema."""
    fields = default_registry().newest("Alert").definition["fields"]
    return MappingProxyType(
        {f["name"]: f["type"]["items"] for f in fields if f["name"] in SUBJECTS}
    )


def _tlp(reader: Reader, node: yaml.Node) -> str | None:
    text = reader.string(node, "tlp")
    if text is None:
        return None
    # People write TLP 2.0 labels; the schema spells them as symbols without ':' or '+'.
    symbol = "TLP_" + text.removeprefix("TLP:").replace("+STRICT", "_STRICT")
    if text in TLP_ORDER or symbol in TLP_ORDER:
        return text if text in TLP_ORDER else symbol
    reader.error(node, f"tlp {text!r} is not one of {', '.join(TLP_ORDER)} (or TLP:AMBER+STRICT)")
    return None


def _grading(reader: Reader, node: yaml.Node) -> Grading | None:
    if isinstance(node, yaml.MappingNode):
        found = reader.mapping(
            node, "grading", allowed=("reliability", "credibility", "source", "intelligence")
        )
        if found is None:
            return None
        parts = {key: str(getattr(value, "value", "")) for key, value in found.items()}
        text = parts.get("reliability", parts.get("source", "")) + parts.get(
            "credibility", parts.get("intelligence", "")
        )
    else:
        text = reader.string(node, "grading") or ""
    if match := _ADMIRALTY.match(text):
        return Grading(scheme="ADMIRALTY", source=match[1], information=match[2])
    if match := _UK_3X5X2.match(text):
        return Grading(scheme="UK_3X5X2", source=match[1], information=match[2])
    reader.error(
        node,
        f"grading {text!r} is neither Admiralty (A-F then 1-6, e.g. B2) "
        "nor UK 3x5x2 (1-3 then A-E, e.g. 1A)",
    )
    return None


def parse_time(reader: Reader, node: yaml.Node, what: str) -> TimeValue | None:
    """An offset (``7d``) or an aware ISO-8601 moment (``2026-11-28T09:00:00Z``)."""
    text = reader.string(node, what)
    if text is None:
        return None
    if node.tag == TIMESTAMP or re.match(r"^\d{4}-\d\d-\d\d", text):
        moment = _moment(reader, node, what, text)
        return None if moment is None else TimeValue(moment=moment)
    try:
        return TimeValue(offset=parse_duration(text))
    except ValueError as error:
        reader.error(node, f"{what}: {error}")
        return None


def _moment(reader: Reader, node: yaml.Node, what: str, text: str) -> datetime | None:
    """An aware ISO-8601 time in UTC, within the years a replay can move it across."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        reader.error(node, f"{what} {text!r} is not an ISO-8601 time")
        return None
    if moment.tzinfo is None:
        reader.error(node, f"{what} {text!r} has no time zone; add Z or +01:00")
        return None
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        # Replays move every time by (now - scenario time); the calendar must have room.
        reader.error(node, f"{what} {text!r} is not between {EARLIEST_YEAR} and {LATEST_YEAR}")
        return None
    return moment.astimezone(UTC)


def countries(
    reader: Reader, node: yaml.Node, what: str, network: Network | None
) -> tuple[str, ...]:
    """Country codes, each in ``network`` (or any ISO code when None); unknown ones are problems."""
    codes: list[str] = []
    for item in reader.sequence(node, what):
        code = country(reader, item, what, network)
        if code is not None:
            codes.append(code)
    return tuple(codes)


def country(reader: Reader, node: yaml.Node, what: str, network: Network | None) -> str | None:
    """One country code of ``network`` (or any ISO 3166-1 alpha-2 code or XK when None)."""
    code = reader.string(node, what)
    if code is None:
        return None
    if network is None:
        if code not in COUNTRY_CODES:
            reader.error(node, f"{what}: {code!r} is not a country code (ISO 3166-1 alpha-2 or XK)")
            return None
    elif network.country(code) is None:
        known = ", ".join(network.codes)
        reader.error(node, f"unknown country {code!r} in {what}; the network has {known}")
        return None
    return code


def _value(reader: Reader, node: yaml.Node, kind: Any, what: str) -> tuple[bool, Any]:  # noqa: ANN401 - any Avro type
    if isinstance(kind, list):
        if isinstance(node, yaml.ScalarNode) and node.tag == NULL:
            return True, None
        kind = next(k for k in kind if k != "null")
    if isinstance(kind, dict) and kind.get("type") == "enum":
        value = reader.symbol(node, what, kind["symbols"])
        return value is not None, value
    if isinstance(kind, dict) and kind.get("logicalType") == "date":
        text = reader.string(node, what)
        try:
            return text is not None, date.fromisoformat(text or "")
        except ValueError:
            reader.error(node, f"{what} {text!r} is not a date like 1980-05-17")
            return False, None
    if isinstance(kind, dict) and kind.get("type") == "array":
        items = [reader.string(item, what) for item in reader.sequence(node, what)]
        return None not in items, items
    readers = {
        "string": reader.string,
        "int": reader.integer,
        "long": reader.integer,
        "double": reader.number,
        "boolean": reader.boolean,
    }
    scalar: Any = readers[kind](node, what)
    return scalar is not None, scalar


# Readable defaults where the schema insists on a value the story rarely cares about.
_SUBJECT_DEFAULTS: Final = ("person_id", "quantity")


@functools.cache
def _subject_shape(list_name: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A subject list's item fields by name, and those an item must give."""
    fields = {f["name"]: f for f in subject_records()[list_name]["fields"]}
    required = tuple(
        n for n, f in fields.items() if "default" not in f and n not in _SUBJECT_DEFAULTS
    )
    return fields, required


def _subject(reader: Reader, node: yaml.Node, list_name: str, index: int) -> dict[str, Any] | None:
    fields, required = _subject_shape(list_name)
    defaults: dict[str, Any] = {"person_id": f"P{index + 1}", "quantity": 1}
    found = reader.mapping(node, f"an item of {list_name}", allowed=fields, required=required)
    if found is None:
        return None
    result: dict[str, Any] = {}
    ok = True
    for name, field in fields.items():
        if name not in found:
            result[name] = defaults.get(name, field.get("default"))
            continue
        good, value = _value(reader, found[name], field["type"], f"{list_name} {name}")
        if good and name in _COUNTRY_FIELDS and value is not None and value not in COUNTRY_CODES:
            reader.error(found[name], f"{list_name} {name} {value!r} is not a country code")
            good = False
        ok = ok and good
        result[name] = value
    return result if ok else None


def _subjects(
    reader: Reader, values: Mapping[str, yaml.Node]
) -> Mapping[str, tuple[Mapping[str, Any], ...]] | None:
    lists: dict[str, tuple[Mapping[str, Any], ...]] = {}
    for name in SUBJECTS:
        if name in values:
            items = [
                _subject(reader, item, name, i)
                for i, item in enumerate(reader.sequence(values[name], name))
            ]
            lists[name] = tuple(MappingProxyType(i) for i in items if i is not None)
    return MappingProxyType(lists) if lists else None


def _handling(reader: Reader, values: Mapping[str, yaml.Node], get: dict[str, Any]) -> None:
    for key, enum_name in _ENUMS.items():
        if key in values:
            get[key] = reader.symbol(values[key], key, symbols(enum_name))
    if "tlp" in values:
        get["tlp"] = _tlp(reader, values["tlp"])
    if "eu_handling" in values:
        codes = [
            reader.symbol(n, "eu_handling", symbols("EuHandling"))
            for n in reader.sequence(values["eu_handling"], "eu_handling")
        ]
        get["eu_handling"] = tuple(c for c in codes if c is not None)
    if "grading" in values:
        get["grading"] = _grading(reader, values["grading"])


def _times(reader: Reader, values: Mapping[str, yaml.Node], get: dict[str, Any]) -> None:
    if "valid_until" in values:
        get["valid_until"] = parse_time(reader, values["valid_until"], "valid_until")
    if "response_due" in values:
        node = values["response_due"]
        if isinstance(node, yaml.ScalarNode) and (node.tag == NULL or node.value == "none"):
            get["expect_response"] = False
        else:
            get["response_due"] = parse_time(reader, node, "response_due")
            get["expect_response"] = True


def parse_alert_fields(
    reader: Reader, values: Mapping[str, yaml.Node], network: Network
) -> AlertFields:
    """Read the alert field keys of a step (or of ``defaults:``); problems go to ``reader``."""
    get: dict[str, Any] = {}
    _handling(reader, values, get)
    _times(reader, values, get)
    for key in ("eu_restrictions", "uk_conditions", "summary", "case", "unit", "agency"):
        if key in values:
            get[key] = reader.string(values[key], key)
    if "to" in values:
        get["recipients"] = countries(reader, values["to"], "to", network)
    if "route" in values:
        # The route may cross countries outside the sharing network (e.g. Bosnia, Romania).
        get["route"] = countries(reader, values["route"], "route", None)
    if "related" in values:
        names = [reader.string(n, "related") for n in reader.sequence(values["related"], "related")]
        get["related"] = tuple(n for n in names if n is not None)
    get["subjects"] = _subjects(reader, values)
    return AlertFields(**get)
