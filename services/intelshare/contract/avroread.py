"""Reading Avro binary fast: one reader compiled per schema, as Python source.

fastavro's ``schemaless_reader`` walks the schema for every record it reads; for an alert that
was ~35-40 µs, the largest single item of a consumer's work per message. :func:`reader` walks
a parsed schema once and generates one Python function per record type, with every field read
inline (a one-byte varint, the usual length or enum index, costs no call), and returns the
function reading the whole value at a position of the message.

It is strict, and narrower than fastavro: anything it does not expect (an index out of range,
a varint of more than ten bytes, an array block that gives its size in bytes, a boolean byte
other than 0 or 1, a length past the end) raises, and the caller then reads the message with
fastavro, whose record or error stays the reference (tests compare both on every generated
record of every schema and on damaged bytes). Logical types go through fastavro's own
converters, so values are the same objects fastavro returns.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Final, TypeAlias

from fastavro.read import LOGICAL_READERS

from intelshare.contract.avrocode import NotPlain, Source

Read: TypeAlias = Callable[[bytes, int], tuple[Any, int]]
"""Reads one value from ``data`` at ``pos``: the value and the position after it."""

__all__ = ["NotPlain", "Read", "reader"]

_INT_MIN: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1
_LONGEST: Final = 10
"""Bytes of the longest varint a 64-bit long takes."""
_SIZES: Final = {"float": 4, "double": 8}


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """A zig-zag varint of more than one byte (the inline code reads one-byte ones)."""
    number = shift = 0
    for end in range(pos, pos + _LONGEST):
        byte = data[end]
        number |= (byte & 0x7F) << shift
        if byte < 0x80:  # noqa: PLR2004 - the continuation bit
            if number >= 1 << 64:
                raise ValueError("varint beyond 64 bits")
            return (number >> 1) ^ -(number & 1), end + 1
        shift += 7
    raise ValueError("varint longer than ten bytes")


def _varint32(data: bytes, pos: int) -> tuple[int, int]:
    """As :func:`_varint`, for an ``int``: outside 32 bits is fastavro's to judge."""
    number, end = _varint(data, pos)
    if not _INT_MIN <= number <= _INT_MAX:
        raise ValueError("int beyond 32 bits")
    return number, end


def reader(parsed: Any) -> Read:  # noqa: ANN401 - a parsed Avro schema
    """A function reading a value of ``parsed`` (fastavro's ``parse_schema`` output).

    Raises:
        NotPlain: the schema has a type this reader leaves to fastavro.
    """
    source = _ReadSource()
    lines = source.value(parsed, "value", "    ")
    main = "def read(data, pos):\n" + "\n".join(lines) + "\n    return value, pos"
    helpers = {"_varint": _varint, "_varint32": _varint32}
    read: Read = source.compile("read", main, "<avro reader>", helpers)
    return read


class _ReadSource(Source):
    """The reading functions being written."""

    def value(self, node: Any, out: str, indent: str) -> list[str]:  # noqa: ANN401, PLR0911
        """Lines reading a value of ``node`` into the local ``out``."""
        if isinstance(node, list):
            return self._union(node, out, indent)
        if isinstance(node, str):
            if node in self.named:
                return self._named_type(node, out, indent)
            return self._primitive(node, out, indent)
        if not isinstance(node, dict):
            raise NotPlain(f"schema node {node!r}")
        kind = node["type"]
        logical = node.get("logicalType")
        if logical is not None and isinstance(kind, str):
            return self._logical(node, kind, logical, out, indent)
        if kind in ("record", "error", "enum", "fixed"):
            self.named[node["name"]] = node
            return self._named_type(node["name"], out, indent)
        if kind == "array":
            return self._array(node["items"], out, indent)
        if kind == "map":
            return self._map(node["values"], out, indent)
        return self.value(kind, out, indent)  # {"type": "string"} and the like

    def _varint(self, out: str, indent: str, *, wide: bool = True) -> list[str]:
        byte = self.name("b")
        slow = "_varint" if wide else "_varint32"
        return [
            f"{indent}{byte} = data[pos]",
            f"{indent}if {byte} < 128:",
            f"{indent}    {out} = ({byte} >> 1) ^ -({byte} & 1)",
            f"{indent}    pos += 1",
            f"{indent}else:",
            f"{indent}    {out}, pos = {slow}(data, pos)",
        ]

    def _primitive(self, kind: str, out: str, indent: str) -> list[str]:
        if kind == "null":
            return [f"{indent}{out} = None"]
        if kind == "boolean":
            return [
                f"{indent}{out} = data[pos]",
                f"{indent}if {out} > 1:",
                f"{indent}    _refuse('boolean')",
                f"{indent}{out} = {out} == 1",
                f"{indent}pos += 1",
            ]
        if kind in ("int", "long"):
            return self._varint(out, indent, wide=kind == "long")
        if kind in _SIZES:
            unpack = self.constant(struct.Struct("<f" if kind == "float" else "<d").unpack_from)
            return [f"{indent}{out} = {unpack}(data, pos)[0]", f"{indent}pos += {_SIZES[kind]}"]
        if kind in ("string", "bytes"):
            size = self.name("n")
            take = f"data[pos:pos + {size}]"
            return [
                *self._varint(size, indent),
                f"{indent}if {size} < 0 or pos + {size} > _len(data):",
                f"{indent}    _refuse('length')",
                f"{indent}{out} = "
                + (f"{take}.decode()" if kind == "string" else f"_bytes({take})"),
                f"{indent}pos += {size}",
            ]
        raise NotPlain(f"type {kind!r}")

    def _logical(
        self, node: dict[str, Any], kind: str, logical: str, out: str, indent: str
    ) -> list[str]:
        lines = self.value(kind, out, indent)
        convert = LOGICAL_READERS.get(f"{kind}-{logical}")
        if convert is None:  # fastavro reads an unknown logical type as its base type
            return lines
        # fastavro passes the schema node as both writer and reader schema.
        function, schema = self.constant(convert), self.constant(node)
        return [*lines, f"{indent}{out} = {function}({out}, {schema}, {schema})"]

    def _named_type(self, name: str, out: str, indent: str) -> list[str]:
        node = self.named[name]
        kind = node["type"]
        if kind == "enum":
            symbols = self.constant(tuple(node["symbols"]))
            index = self.name("i")
            return [
                *self._varint(index, indent),
                f"{indent}if not 0 <= {index} < {len(node['symbols'])}:",
                f"{indent}    _refuse('enum index')",
                f"{indent}{out} = {symbols}[{index}]",
            ]
        if kind == "fixed":
            size = int(node["size"])
            return [
                f"{indent}if pos + {size} > _len(data):",
                f"{indent}    _refuse('fixed')",
                f"{indent}{out} = _bytes(data[pos:pos + {size}])",
                f"{indent}pos += {size}",
            ]
        function = self.record_functions.get(name)
        if function is None:  # defined here (a recursive reference finds the name set first)
            function = self.record_functions[name] = self.name("read_record")
            self._record(node, function)
        return [f"{indent}{out}, pos = {function}(data, pos)"]

    def _record(self, node: dict[str, Any], function: str) -> None:
        body, items = [], []
        for field in node["fields"]:
            local = self.name("f")
            body += self.value(field["type"], local, "    ")
            # Schema text enters the source only as repr() literals: no name can inject code.
            items.append(f"{field['name']!r}: {local}")
        self.functions.append(
            f"def {function}(data, pos):\n"
            + "\n".join(body)
            + f"\n    return {{{', '.join(items)}}}, pos"
        )

    def _union(self, branches: list[Any], out: str, indent: str) -> list[str]:
        index = self.name("u")
        if len(branches) == 2 and "null" in branches:  # noqa: PLR2004 - an optional value
            # Two branches: the index is one byte, 0 or 2 (zig-zag); anything else is damage.
            present = 0 if branches[0] != "null" else 2
            return [
                f"{indent}{index} = data[pos]",
                f"{indent}pos += 1",
                f"{indent}if {index} == {present}:",
                *self.value(branches[present // 2], out, indent + "    "),
                f"{indent}elif {index} == {2 - present}:",
                f"{indent}    {out} = None",
                f"{indent}else:",
                f"{indent}    _refuse('union index')",
            ]
        lines = self._varint(index, indent)
        for number, branch in enumerate(branches):
            lines.append(f"{indent}{'if' if number == 0 else 'elif'} {index} == {number}:")
            lines += self.value(branch, out, indent + "    ")
        return [*lines, f"{indent}else:", f"{indent}    _refuse('union index')"]

    def _blocks(self, out: str, start: str, indent: str, each: list[str]) -> list[str]:
        """A loop over the blocks of an array or map; ``each`` reads one item into it."""
        count = self.name("c")
        return [
            f"{indent}{out} = {start}",
            f"{indent}while True:",
            *self._varint(count, indent + "    "),
            f"{indent}    if {count} == 0:",
            f"{indent}        break",
            # A block with its byte size (a negative count) is fastavro's; each item takes at
            # least one byte, so a count beyond what is left is damage, not a long loop.
            f"{indent}    if {count} < 0 or {count} > _len(data) - pos:",
            f"{indent}        _refuse('block count')",
            f"{indent}    for _ in range({count}):",
            *each,
        ]

    def _array(self, items: Any, out: str, indent: str) -> list[str]:  # noqa: ANN401
        if items == "null":
            raise NotPlain("an array of nulls")  # items of no bytes: the count guard fails
        item = self.name("a")
        inner = indent + "        "
        each = [*self.value(items, item, inner), f"{inner}{out}.append({item})"]
        return self._blocks(out, "[]", indent, each)

    def _map(self, values: Any, out: str, indent: str) -> list[str]:  # noqa: ANN401
        key, item = self.name("k"), self.name("v")
        inner = indent + "        "
        each = [
            *self._primitive("string", key, inner),
            *self.value(values, item, inner),
            f"{inner}{out}[{key}] = {item}",
        ]
        return self._blocks(out, "{}", indent, each)
