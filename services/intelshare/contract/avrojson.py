"""Reading the Avro JSON encoding fast: one converter compiled per schema, not per record.

fastavro's ``json_reader`` builds a grammar and a pure-Python parser for every call, about a
millisecond per alert; a producer reading alerts from JSON lines spent most of its time there.
:func:`converter` walks a parsed schema once and generates a function (:mod:`.avrocode`) from
parsed JSON to the record fastavro would have returned (enum symbols, unions untagged,
defaults for missing fields, logical types through fastavro's own readers). It is strict:
anything it does not recognise exactly raises :class:`NotPlain`, and the caller falls back to
fastavro, whose answer (or error message) stays the reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastavro.logical_readers import LOGICAL_READERS

from intelshare.contract.avrocode import NotPlain, Source

__all__ = ["NotPlain", "converter"]

if TYPE_CHECKING:
    from collections.abc import Callable


def converter(parsed: Any) -> Callable[[Any], Any]:  # noqa: ANN401 - a parsed Avro schema
    """A function from a JSON value (``json.loads`` output) to the record of ``parsed``.

    ``parsed`` is fastavro's ``parse_schema`` output (named types expanded where first used).

    Raises:
        NotPlain: the schema has a type this converter leaves to fastavro.
    """
    source = _JsonSource()
    lines, result = source.value(parsed, "value", "    ")
    main = "def convert(value):\n" + "\n".join([*lines, f"    return {result}"])
    convert: Callable[[Any], Any] = source.compile("convert", main, "<avro json>", {})
    return convert


class _JsonSource(Source):
    """The converting functions being written."""

    def value(self, node: Any, value: str, indent: str) -> tuple[list[str], str]:  # noqa: ANN401, PLR0911
        """Lines converting the local ``value`` of type ``node``; the expression of the result."""
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
    def _check(test: str, what: str, indent: str) -> list[str]:
        return [f"{indent}if {test}:", f"{indent}    _refuse({what!r})"]

    def _primitive(self, kind: str, value: str, indent: str) -> tuple[list[str], str]:
        # fastavro returns JSON values as they are (an int stays an int for a double).
        if kind == "null":
            return self._check(f"{value} is not None", "null", indent), "None"
        if kind == "boolean":
            return self._check(f"{value} is not True and {value} is not False", kind, indent), value
        if kind == "string":
            return self._check(f"{value}.__class__ is not _str", kind, indent), value
        if kind in ("int", "long"):
            return self._check(f"{value}.__class__ is not _int", kind, indent), value
        if kind in ("float", "double"):
            test = f"{value}.__class__ is not _int and {value}.__class__ is not _float"
            return self._check(test, kind, indent), value
        if kind == "bytes":
            lines = self._check(f"{value}.__class__ is not _str", kind, indent)
            return lines, f"{value}.encode('iso-8859-1')"
        raise NotPlain(f"type {kind!r}")

    def _logical(
        self, node: dict[str, Any], kind: str, logical: str, value: str, indent: str
    ) -> tuple[list[str], str]:
        lines, base = self._primitive(kind, value, indent)
        read = LOGICAL_READERS.get(f"{kind}-{logical}")
        if read is None:
            return lines, base
        function, schema = self.constant(read), self.constant(node)
        return lines, f"{function}({base}, {schema}, {schema})"

    def _named_type(self, name: str, value: str, indent: str) -> tuple[list[str], str]:
        node = self.named[name]
        kind = node["type"]
        if kind == "enum":
            symbols = self.constant(frozenset(node["symbols"]))
            test = f"{value}.__class__ is not _str or {value} not in {symbols}"
            return self._check(test, "enum symbol", indent), value
        if kind == "fixed":
            return self._primitive("bytes", value, indent)
        function = self.record_functions.get(name)
        if function is None:  # defined here (a recursive reference finds the name set first)
            function = self.record_functions[name] = self.name("convert_record")
            self._record(node, function)
        return [], f"{function}({value})"

    def _record(self, node: dict[str, Any], function: str) -> None:
        fields = node["fields"]
        names = tuple(field["name"] for field in fields)
        # A missing field reads as its default, converted like a present one (what fastavro
        # does: a union's default is untagged, so only a null one converts here).
        defaults = {f["name"]: f["default"] for f in fields if "default" in f}
        body = [
            *self._check("value.__class__ is not _dict", "record", "    "),
            f"    if _len(value) != {len(names)}:",
            f"        value = _fill(value, {self.constant(names)}, {self.constant(defaults)})",
            "    try:",
        ]
        items = []
        for field in fields:
            local = self.name("f")
            # Schema text enters the source only as repr() literals: no name can inject code.
            body.append(f"        {local} = value[{field['name']!r}]")
            lines, result = self.value(field["type"], local, "        ")
            body += lines
            items.append(f"{field['name']!r}: {result}")
        body += ["    except KeyError:", "        _refuse('record')"]
        body.append(f"    return {{{', '.join(items)}}}")
        self.functions.append(f"def {function}(value):\n" + "\n".join(body))

    def _union(self, branches: list[Any], value: str, indent: str) -> tuple[list[str], str]:
        out, label, inner = self.name("u"), self.name("l"), self.name("i")
        lines = [f"{indent}if {value} is None:"]
        if "null" in branches:
            lines.append(f"{indent}    {out} = None")
        else:
            lines.append(f"{indent}    _refuse('null in a union without null')")
        lines += [
            f"{indent}elif {value}.__class__ is not _dict or _len({value}) != 1:",
            f"{indent}    _refuse('union value not tagged')",
            f"{indent}else:",
            f"{indent}    (({label}, {inner}),) = {value}.items()",
        ]
        branch = "if"
        for node in branches:
            tag = _label(node)
            if tag == "null":
                continue
            converted, result = self.value(node, inner, indent + "        ")
            lines += [
                f"{indent}    {branch} {label} == {tag!r}:",
                *converted,
                f"{indent}        {out} = {result}",
            ]
            branch = "elif"
        if branch == "if":  # no branch but null: any other value is refused
            return [*lines, f"{indent}    _refuse('union branch')"], out
        return [*lines, f"{indent}    else:", f"{indent}        _refuse('union branch')"], out

    def _array(self, items: Any, value: str, indent: str) -> tuple[list[str], str]:  # noqa: ANN401
        out, item = self.name("a"), self.name("x")
        converted, result = self.value(items, item, indent + "    ")
        return [
            *self._check(f"{value}.__class__ is not _list", "array", indent),
            f"{indent}{out} = []",
            f"{indent}for {item} in {value}:",
            *converted,
            f"{indent}    {out}.append({result})",
        ], out

    def _map(self, values: Any, value: str, indent: str) -> tuple[list[str], str]:  # noqa: ANN401
        out, key, item = self.name("m"), self.name("k"), self.name("x")
        converted, result = self.value(values, item, indent + "    ")
        return [
            *self._check(f"{value}.__class__ is not _dict", "map", indent),
            f"{indent}{out} = {{}}",
            f"{indent}for {key}, {item} in {value}.items():",
            *converted,
            f"{indent}    {out}[{key}] = {result}",
        ], out


def _label(branch: Any) -> str:  # noqa: ANN401
    # The name a JSON union value is tagged with, as fastavro's parser labels branches.
    if isinstance(branch, dict):
        return str(branch.get("name", branch.get("type")))
    return str(branch)
