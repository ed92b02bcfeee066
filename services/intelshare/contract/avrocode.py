"""What the Avro code generators share: names, constants, compiling, the fast path's refusal.

:mod:`.avroread`, :mod:`.avrobinary` and :mod:`.avrojson` each walk a parsed schema once and
write Python source for it (one function per record type, every field handled inline), which
runs several times faster than closures calling closures. Schema text enters that source only
as ``repr()`` literals or as the names of constants the code is given, so no schema name can
inject code. Whatever the generated code does not recognise exactly raises
:class:`NotPlain`, and the caller hands the value to fastavro, whose answer stays the reference.
"""

from __future__ import annotations

import itertools
from typing import Any, Final, NoReturn


class NotPlain(ValueError):
    """The value is not what the fast path handles; read or write it with fastavro instead."""


def refuse(what: str) -> NoReturn:
    """Leave the value to fastavro (called by the generated code)."""
    raise NotPlain(what)


_MISSING: Final = object()


def fill(value: dict[str, Any], names: tuple[str, ...], defaults: dict[str, Any]) -> dict[str, Any]:
    """A record's fields in schema order, a missing one as its default (what fastavro does).

    Raises:
        NotPlain: a field the schema does not have, or a missing one without a default.
    """
    if not set(names).issuperset(value):
        raise NotPlain("record: a field the schema does not have")
    filled = {}
    for name in names:
        item = value.get(name, _MISSING)
        if item is _MISSING:
            item = defaults.get(name, _MISSING)
            if item is _MISSING:
                raise NotPlain(f"missing field {name!r}")
        filled[name] = item
    return filled


class Source:
    """Generated functions being written, the constants they use, named types met so far."""

    def __init__(self) -> None:
        """Start empty."""
        self.functions: list[str] = []
        self.constants: dict[str, Any] = {}
        self.named: dict[str, Any] = {}
        self.record_functions: dict[str, str] = {}
        self._ids = itertools.count()

    def name(self, prefix: str) -> str:
        """A fresh local or function name."""
        return f"{prefix}{next(self._ids)}"

    def constant(self, value: Any) -> str:  # noqa: ANN401 - any value the code refers to
        """The name under which the generated code finds ``value``."""
        name = self.name("_k")
        self.constants[name] = value
        return name

    def compile(self, entry: str, main: str, filename: str, helpers: dict[str, Any]) -> Any:  # noqa: ANN401
        """Compile every function written plus ``main`` (source); its function ``entry``.

        ``helpers``: further names the code calls (builtins are passed as constants too: a
        global lookup is faster than a builtin one).
        """
        text = "\n\n".join([*self.functions, main])
        names: dict[str, Any] = {
            "_refuse": refuse,
            "_fill": fill,
            "_len": len,
            "_str": str,
            "_int": int,
            "_float": float,
            "_bytes": bytes,
            "_list": list,
            "_dict": dict,
            **helpers,
            **self.constants,
        }
        exec(compile(text, filename, "exec"), names)  # noqa: S102 - source made from our schema
        return names[entry]
