"""Writing Avro binary fast: one writer compiled per schema, not interpreted per record.

fastavro's ``schemaless_writer`` walks the schema for every record and resolves each union
by validating the value against every branch; with ``strict_allow_default`` that was ~60-90 µs
of a producer's ~250 µs per alert. :func:`writer` walks a parsed schema once and generates
Python source for it, as :mod:`.avroread` does for reading: one function per record type with
every field written inline (a short string, a small number or a union's tag costs no call),
appending the bytes fastavro writes to a ``bytearray``. Schema text enters the source only as
``repr()`` literals or as names of constants the code is given.

It is strict, and narrower than fastavro: values of exactly the expected Python types, unions
whose branch the value's type names (null or one other branch; records told apart by their
field names), records with no unknown field. Anything else raises :class:`NotPlain`, and the
caller writes the record with fastavro, whose bytes or error message stay the reference (a
test compares both on every generated record of every schema version).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Final, TypeAlias

from fastavro.write import LOGICAL_WRITERS

from intelshare.contract.avrocode import NotPlain, Source

Write: TypeAlias = Callable[[Any, bytearray], None]
"""Appends one value's Avro binary encoding to the buffer, or raises NotPlain."""

__all__ = ["NotPlain", "Write", "writer"]

_INT_RANGE: Final = (-(2**31), 2**31 - 1)
_LONG_RANGE: Final = (-(2**63), 2**63 - 1)
_FLOAT: Final = struct.Struct("<f")
_DOUBLE: Final = struct.Struct("<d")
_SEVEN_BITS: Final = 0x7F


def writer(parsed: Any) -> Write:  # noqa: ANN401 - a parsed Avro schema
    """A function writing a value of ``parsed`` (fastavro's ``parse_schema`` output).

    Raises:
        NotPlain: the schema has a type this writer leaves to fastavro.
    """
    source = _WriteSource()
    lines = source.value(parsed, "value", "    ")
    main = "def write(value, out):\n" + "\n".join(lines)
    write: Write = source.compile(
        "write", main, "<avro writer>", {"_varint": _write_varint, "_frozenset": frozenset}
    )
    return write


def _write_varint(number: int, out: bytearray) -> None:
    """A zig-zag varint of any size (the inline code writes -64..63 itself)."""
    number = (number << 1) ^ (number >> 63)
    while number > _SEVEN_BITS:
        out.append((number & _SEVEN_BITS) | 0x80)
        number >>= 7
    out.append(number)


def _varint_bytes(number: int) -> bytes:
    out = bytearray()
    _write_varint(number, out)
    return bytes(out)


class _WriteSource(Source):
    """The writing functions being written."""

    def value(self, node: Any, value: str, indent: str) -> list[str]:  # noqa: ANN401, PLR0911
        """Lines appending the local ``value``, of type ``node``, to ``out``."""
        if isinstance(node, list):
            return self._union(node, value, indent)
        if isinstance(node, str):
            if node in self.named:
                return self._named_type(node, value, indent)
            return self._primitive(node, value, indent)
        if not isinstance(node, dict):
            raise NotPlain(f"schema node {node!r}")
        kind = node["type"]
        logical = node.get("logicalType")
        if logical is not None and isinstance(kind, str):
            return self._logical(node, kind, logical, value, indent)
        if kind in ("record", "error", "enum", "fixed"):
            self.named[node["name"]] = node
            return self._named_type(node["name"], value, indent)
        if kind == "array":
            return self._array(node["items"], value, indent)
        if kind == "map":
            return self._map(node["values"], value, indent)
        return self.value(kind, value, indent)  # {"type": "string"} and the like

    @staticmethod
    def _varint(number: str, indent: str) -> list[str]:
        """A number known to be an int: one byte inline when it is -64..63."""
        return [
            f"{indent}if -64 <= {number} < 64:",
            f"{indent}    out.append((({number} << 1) ^ ({number} >> 63)) & 0xFF)",
            f"{indent}else:",
            f"{indent}    _varint({number}, out)",
        ]

    def _primitive(self, kind: str, value: str, indent: str) -> list[str]:
        if kind == "null":
            return [f"{indent}if {value} is not None:", f"{indent}    _refuse('null')"]
        if kind == "boolean":
            return [
                f"{indent}if {value} is True:",
                f"{indent}    out.append(1)",
                f"{indent}elif {value} is False:",
                f"{indent}    out.append(0)",
                f"{indent}else:",
                f"{indent}    _refuse('boolean')",
            ]
        if kind in ("int", "long"):
            low, high = _INT_RANGE if kind == "int" else _LONG_RANGE
            return [
                f"{indent}if {value}.__class__ is not _int or not {low} <= {value} <= {high}:",
                f"{indent}    _refuse('integer')",
                *self._varint(value, indent),
            ]
        if kind in ("float", "double"):
            pack = self.constant((_FLOAT if kind == "float" else _DOUBLE).pack)
            # fastavro writes float(value) for a float or double field: an int is a number too.
            return [
                f"{indent}if {value}.__class__ is not _float and {value}.__class__ is not _int:",
                f"{indent}    _refuse('float')",
                f"{indent}out += {pack}({value})",
            ]
        if kind == "string":
            data, size = self.name("d"), self.name("n")
            return [
                f"{indent}if {value}.__class__ is not _str:",
                f"{indent}    _refuse('string')",
                # A lone surrogate raises: fastavro then says what is wrong.
                f"{indent}{data} = {value}.encode()",
                f"{indent}{size} = _len({data})",
                *self._varint(size, indent),
                f"{indent}out += {data}",
            ]
        if kind == "bytes":
            size = self.name("n")
            return [
                f"{indent}if {value}.__class__ is not _bytes:",
                f"{indent}    _refuse('bytes')",
                f"{indent}{size} = _len({value})",
                *self._varint(size, indent),
                f"{indent}out += {value}",
            ]
        raise NotPlain(f"type {kind!r}")

    def _logical(
        self, node: dict[str, Any], kind: str, logical: str, value: str, indent: str
    ) -> list[str]:
        prepare = LOGICAL_WRITERS.get(f"{kind}-{logical}")
        if prepare is None:
            return self.value(kind, value, indent)
        # fastavro's own conversion (e.g. datetime to epoch milliseconds), then the base type.
        function, schema, prepared = self.constant(prepare), self.constant(node), self.name("p")
        return [
            f"{indent}{prepared} = {function}({value}, {schema})",
            *self.value(kind, prepared, indent),
        ]

    def _named_type(self, name: str, value: str, indent: str) -> list[str]:
        node = self.named[name]
        kind = node["type"]
        if kind == "enum":
            indexes = {symbol: _varint_bytes(i) for i, symbol in enumerate(node["symbols"])}
            table, encoded = self.constant(indexes), self.name("e")
            return [
                f"{indent}{encoded} = {table}.get({value}) if {value}.__class__ is _str else None",
                f"{indent}if {encoded} is None:",
                f"{indent}    _refuse('enum symbol')",
                f"{indent}out += {encoded}",
            ]
        if kind == "fixed":
            size = int(node["size"])
            return [
                f"{indent}if {value}.__class__ is not _bytes or _len({value}) != {size}:",
                f"{indent}    _refuse('fixed')",
                f"{indent}out += {value}",
            ]
        function = self.record_functions.get(name)
        if function is None:  # defined here (a recursive reference finds the name set first)
            function = self.record_functions[name] = self.name("write_record")
            self._record(node, function)
        return [f"{indent}{function}({value}, out)"]

    def _record(self, node: dict[str, Any], function: str) -> None:
        fields = node["fields"]
        names = tuple(field["name"] for field in fields)
        defaults = {f["name"]: f["default"] for f in fields if "default" in f}
        body = [
            "    if value.__class__ is not _dict:",
            "        _refuse('record')",
            # Every field present is the usual case; otherwise defaults fill the gaps.
            f"    if _len(value) != {len(names)}:",
            f"        value = _fill(value, {self.constant(names)}, {self.constant(defaults)})",
            "    try:",
        ]
        for field in fields:
            local = self.name("f")
            # Schema text enters the source only as repr() literals: no name can inject code.
            body.append(f"        {local} = value[{field['name']!r}]")
            body += self.value(field["type"], local, "        ")
        body += ["    except KeyError:", "        _refuse('record field')"]
        self.functions.append(f"def {function}(value, out):\n" + "\n".join(body))

    def _union(self, branches: list[Any], value: str, indent: str) -> list[str]:
        # fastavro takes the first branch the value validates against (for records: the one
        # sharing the most field names). Only unions where the value's type settles that are
        # written here: null and one other branch, or records told apart by their exact names.
        others = [(i, b) for i, b in enumerate(branches) if b != "null"]
        if len(others) == 1:
            index, branch = others[0]
            none = (
                [f"{indent}    out += {self.constant(_varint_bytes(branches.index('null')))}"]
                if "null" in branches
                # Only "null" validates None (a logical type's conversion keeps None as None).
                else [f"{indent}    _refuse('null in a union without null')"]
            )
            return [
                f"{indent}if {value} is None:",
                *none,
                f"{indent}else:",
                f"{indent}    out += {self.constant(_varint_bytes(index))}",
                *self.value(branch, value, indent + "    "),
            ]
        records = [(i, self.named.get(b, b) if isinstance(b, str) else b) for i, b in others]
        if "null" in branches or not all(
            isinstance(b, dict) and b.get("type") == "record" for _, b in records
        ):
            return [f"{indent}_refuse('union')"]
        return self._records_union(records, value, indent)

    def _records_union(
        self, records: list[tuple[int, dict[str, Any]]], value: str, indent: str
    ) -> list[str]:
        # A dict with exactly one branch's field names shares all of them with it; another
        # branch could tie only if its names include all of these, so such key sets are left
        # to fastavro.
        names = [frozenset(f["name"] for f in node["fields"]) for _, node in records]
        keys = self.name("s")
        lines = [
            f"{indent}if {value}.__class__ is not _dict:",
            f"{indent}    _refuse('union record')",
            f"{indent}{keys} = _frozenset({value})",
        ]
        branch = "if"
        for (index, node), own in zip(records, names, strict=True):
            if sum(own <= other for other in names) != 1:
                continue
            lines += [
                f"{indent}{branch} {keys} == {self.constant(own)}:",
                f"{indent}    out += {self.constant(_varint_bytes(index))}",
                *self.value(node, value, indent + "    "),
            ]
            branch = "elif"
        if branch == "if":
            return [*lines, f"{indent}_refuse('union record')"]
        return [*lines, f"{indent}else:", f"{indent}    _refuse('union record')"]

    def _blocks(self, value: str, size: str, indent: str, each: list[str]) -> list[str]:
        """One block of every item (``each`` writes one), then the empty block that ends it."""
        return [
            f"{indent}if {value}:",
            f"{indent}    {size} = _len({value})",
            *self._varint(size, indent + "    "),
            *each,
            f"{indent}out.append(0)",
        ]

    def _array(self, items: Any, value: str, indent: str) -> list[str]:  # noqa: ANN401
        item, size = self.name("a"), self.name("n")
        inner = indent + "        "
        each = [f"{indent}    for {item} in {value}:", *self.value(items, item, inner)]
        return [
            f"{indent}if {value}.__class__ is not _list:",
            f"{indent}    _refuse('array')",
            *self._blocks(value, size, indent, each),
        ]

    def _map(self, values: Any, value: str, indent: str) -> list[str]:  # noqa: ANN401
        key, item, size = self.name("k"), self.name("v"), self.name("n")
        inner = indent + "        "
        each = [
            f"{indent}    for {key}, {item} in {value}.items():",
            *self._primitive("string", key, inner),
            *self.value(values, item, inner),
        ]
        return [
            f"{indent}if {value}.__class__ is not _dict:",
            f"{indent}    _refuse('map')",
            *self._blocks(value, size, indent, each),
        ]
