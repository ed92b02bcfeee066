"""The package's shape: parts import only the parts below them, and every name means one thing."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import intelshare

PACKAGE = Path(intelshare.__file__).parent
SHARED_ON_PURPOSE = {
    "register": "every commands module adds its sub-commands to the app through register(app)",
    "main": "a module run with python -m has its entry point main(), as cli.py has",
}
"""Names that mean the same in each module that defines them, and why."""


def _defined(tree: ast.Module) -> list[str]:
    """Classes, functions and type aliases a module defines at its top level."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            # Constants (ALL_CAPS) are values, not names of ideas; CapWords are types.
            names += [t.id for t in targets if isinstance(t, ast.Name) and t.id[:1].isupper()]
    # Overloads of one function are one name.
    return list(dict.fromkeys(n for n in names if not n.isupper()))


def test_every_name_is_defined_once_in_the_package() -> None:
    """A name found in two modules means two things; rename one (or say why it is shared)."""
    where: dict[str, list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in _defined(ast.parse(path.read_text(encoding="utf-8"))):
            where[name].append(str(path.relative_to(PACKAGE)))
    twice = {n: places for n, places in where.items() if len(places) > 1}

    assert set(twice) <= set(SHARED_ON_PURPOSE), twice


LAYERS = (
    ("errors", "durations", "valuetype"),
    ("yamlpos",),
    ("contract",),
    ("network",),
    ("logs", "runtime", "scenario"),
    ("state",),
    ("producer",),
    ("consumer",),
    ("replay", "demo"),
    ("commands",),
    ("cli",),
)
"""The parts from the bottom up, as the README's Layout draws them; a part may import a part of a
lower row (``errors``, ``durations`` and ``valuetype`` are leaves open to all)."""


def _part(path: Path) -> str:
    """The part a module belongs to: its top-level folder, or its own name at the top level."""
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _imported_parts(tree: ast.Module) -> set[str]:
    """The parts of intelshare a module imports, type-only imports included."""
    parts: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("intelshare.")
        ):
            parts.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            parts |= {a.name.split(".")[1] for a in node.names if a.name.startswith("intelshare.")}
    return parts


def test_each_part_imports_only_parts_below_it() -> None:
    """No part imports its own row or a higher one, so no two parts can import each other."""
    row = {part: number for number, parts in enumerate(LAYERS) for part in parts}
    upward = [
        f"{path.relative_to(PACKAGE)} imports {used}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if _part(path) != "__init__"
        for used in _imported_parts(ast.parse(path.read_text(encoding="utf-8"))) - {_part(path)}
        if row[used] >= row[_part(path)]
    ]

    assert set(row) >= {_part(p) for p in PACKAGE.rglob("*.py")} - {"__init__", "data"}
    assert upward == []
