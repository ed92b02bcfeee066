"""No two modules of the package define a class, function or type of the same name."""

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
    return [n for n in names if not n.isupper()]


def test_every_name_is_defined_once_in_the_package() -> None:
    """A name found in two modules means two things; rename one (or say why it is shared)."""
    where: dict[str, list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        for name in _defined(ast.parse(path.read_text(encoding="utf-8"))):
            where[name].append(str(path.relative_to(PACKAGE)))
    twice = {n: places for n, places in where.items() if len(places) > 1}

    assert set(twice) <= set(SHARED_ON_PURPOSE), twice
