"""Reading the Avro JSON encoding fast: one converter compiled per schema, not per record.

fastavro's ``json_reader`` builds a grammar and a pure-Python parser for every call, about a
millisecond per alert; a producer reading alerts from JSON lines spent most of its time there.
:func:`converter` walks a parsed schema once and returns a function from parsed JSON to the
record fastavro would have returned (enum symbols, unions untagged, defaults for missing
fields, logical types through fastavro's own readers). It is strict: anything it does not
recognise exactly raises :class:`NotPlain`, and the caller falls back to fastavro, whose
answer (or error message) stays the reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from fastavro.logical_readers import LOGICAL_READERS

from intelshare.contract.avrocode import NotPlain

__all__ = ["NotPlain", "converter"]

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

_NUMBER_TYPES: Final = {
    "int": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
}


def converter(parsed: Any) -> Callable[[Any], Any]:  # noqa: ANN401 - a parsed Avro schema
    """A function from a JSON value (``json.loads`` output) to the record of ``parsed``.

    ``parsed`` is fastavro's ``parse_schema`` output (named types expanded where first used).
    """
    named: dict[str, Any] = {}
    compiled: dict[str, Callable[[Any], Any]] = {}
    return _compile(parsed, named, compiled)


def _compile(  # noqa: C901, PLR0911 - one branch per Avro type
    node: Any,  # noqa: ANN401
    named: dict[str, Any],
    compiled: dict[str, Callable[[Any], Any]],
) -> Callable[[Any], Any]:
    if isinstance(node, list):
        return _union(node, named, compiled)
    if isinstance(node, str):
        if node in named:
            return _by_name(node, named, compiled)
        return _primitive(node)
    if not isinstance(node, dict):
        raise NotPlain(f"schema node {node!r}")
    kind = node["type"]
    logical = node.get("logicalType")
    if logical is not None and isinstance(kind, str):
        return _logical(node, kind, logical)
    if kind in {"record", "error"}:
        named[node["name"]] = node
        return _record(node, named, compiled)
    if kind == "enum":
        named[node["name"]] = node
        return _enum(node)
    if kind == "fixed":
        named[node["name"]] = node
        return _bytes
    if kind == "array":
        item = _compile(node["items"], named, compiled)
        return lambda value: _array(value, item)
    if kind == "map":
        entry = _compile(node["values"], named, compiled)
        return lambda value: _map(value, entry)
    return _compile(kind, named, compiled)


def _by_name(
    name: str, named: dict[str, Any], compiled: dict[str, Callable[[Any], Any]]
) -> Callable[[Any], Any]:
    # A reference to a named type defined earlier (maybe recursive): resolved on first use.
    def convert(value: Any) -> Any:  # noqa: ANN401
        found = compiled.get(name)
        if found is None:
            node = named[name]
            found = _enum(node) if node["type"] == "enum" else _compile(node, named, compiled)
            compiled[name] = found
        return found(value)

    return convert


def _primitive(kind: str) -> Callable[[Any], Any]:
    if kind == "null":
        return _null
    if kind == "boolean":
        return _boolean
    if kind == "string":
        return _string
    if kind == "bytes":
        return _bytes
    if kind in _NUMBER_TYPES:
        allowed = _NUMBER_TYPES[kind]

        def number(value: Any) -> Any:  # noqa: ANN401
            # fastavro returns JSON numbers as they are (an int stays an int for double).
            if isinstance(value, bool) or not isinstance(value, allowed):
                raise NotPlain(kind)
            return value

        return number
    raise NotPlain(f"type {kind!r}")


def _null(value: Any) -> None:  # noqa: ANN401
    if value is not None:
        raise NotPlain("null")


def _boolean(value: Any) -> bool:  # noqa: ANN401
    if not isinstance(value, bool):
        raise NotPlain("boolean")
    return value


def _string(value: Any) -> str:  # noqa: ANN401
    if not isinstance(value, str):
        raise NotPlain("string")
    return value


def _bytes(value: Any) -> bytes:  # noqa: ANN401
    if not isinstance(value, str):
        raise NotPlain("bytes")
    return value.encode("iso-8859-1")


def _logical(node: dict[str, Any], kind: str, logical: str) -> Callable[[Any], Any]:
    base = _primitive(kind)
    read = LOGICAL_READERS.get(f"{kind}-{logical}")
    if read is None:
        return base

    def convert(value: Any) -> Any:  # noqa: ANN401
        return read(base(value), node, node)

    return convert


def _enum(node: Mapping[str, Any]) -> Callable[[Any], Any]:
    symbols = frozenset(node["symbols"])

    def convert(value: Any) -> Any:  # noqa: ANN401
        if value not in symbols:
            raise NotPlain("enum symbol")
        return value

    return convert


def _array(value: Any, item: Callable[[Any], Any]) -> list[Any]:  # noqa: ANN401
    if not isinstance(value, list):
        raise NotPlain("array")
    return [item(x) for x in value]


def _map(value: Any, entry: Callable[[Any], Any]) -> dict[str, Any]:  # noqa: ANN401
    if not isinstance(value, dict):
        raise NotPlain("map")
    return {k: entry(v) for k, v in value.items()}


def _label(branch: Any) -> str:  # noqa: ANN401
    # The name a JSON union value is tagged with, as fastavro's parser labels branches.
    if isinstance(branch, dict):
        return str(branch.get("name", branch.get("type")))
    return str(branch)


def _union(
    branches: list[Any], named: dict[str, Any], compiled: dict[str, Callable[[Any], Any]]
) -> Callable[[Any], Any]:
    nullable = "null" in branches
    by_label = {_label(b): _compile(b, named, compiled) for b in branches if _label(b) != "null"}

    def convert(value: Any) -> Any:  # noqa: ANN401
        if value is None:
            if nullable:
                return None
            raise NotPlain("null in a union without null")
        if not isinstance(value, dict) or len(value) != 1:
            raise NotPlain("union value not tagged")
        ((label, inner),) = value.items()
        branch = by_label.get(label)
        if branch is None:
            raise NotPlain(f"union branch {label!r}")
        return branch(inner)

    return convert


_MISSING: Final = object()


def _record(
    node: Mapping[str, Any], named: dict[str, Any], compiled: dict[str, Callable[[Any], Any]]
) -> Callable[[Any], Any]:
    fields: list[tuple[str, Callable[[Any], Any], Any]] = []
    for field in node["fields"]:
        convert = _compile(field["type"], named, compiled)
        # A missing field reads as its default, converted like a present one (what fastavro
        # does); a missing field without a default is left to fastavro to refuse.
        fields.append((field["name"], convert, field.get("default", _MISSING)))
    names = frozenset(name for name, _, _ in fields)
    present = [(name, convert) for name, convert, _ in fields]

    def record(value: Any) -> dict[str, Any]:  # noqa: ANN401
        if value.__class__ is dict and len(value) == len(present):
            try:  # every field present (the usual case): no default to look up
                return {name: convert(value[name]) for name, convert in present}
            except KeyError:
                raise NotPlain("record") from None
        if not isinstance(value, dict) or not names.issuperset(value):
            raise NotPlain("record")
        out: dict[str, Any] = {}
        for name, convert, default in fields:
            item = value.get(name, _MISSING)
            if item is _MISSING:
                if default is _MISSING:
                    raise NotPlain(f"missing field {name!r}")
                out[name] = _default(default, convert)
            else:
                out[name] = convert(item)
        return out

    # Later references by name (resolved when first used) find this one.
    compiled.setdefault(node["name"], record)
    return record


def _default(default: Any, convert: Callable[[Any], Any]) -> Any:  # noqa: ANN401
    # A union's default is its first branch's value untagged: null reads as null here, and
    # anything else goes to fastavro (NotPlain).
    return convert(default)
