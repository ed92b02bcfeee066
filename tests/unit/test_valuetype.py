"""A value type compares and hashes by value, and mypy refuses an assignment to its fields."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from mypy import api

from intelshare.valuetype import value_type

if TYPE_CHECKING:
    from pathlib import Path


@value_type
class Point:
    """A keyword-only value."""

    x: int
    y: int = 0


@value_type(kw_only=False)
class Pair:
    """A positional value."""

    left: str
    right: str


def test_values_compare_and_hash_by_their_fields() -> None:
    """Equal fields make equal values with equal hashes, as a frozen dataclass's do."""
    assert Point(x=1) == Point(x=1, y=0)
    assert Point(x=1) != Point(x=2)
    assert len({Point(x=1), Point(x=1), Pair("a", "b"), Pair("a", "b")}) == 2
    assert not hasattr(Point(x=1), "__dict__")  # slots: no stray attribute can be added


def test_mypy_refuses_assigning_to_a_field(tmp_path: Path) -> None:
    """The type checker treats the fields as read-only and the keyword-only ones as such."""
    source = tmp_path / "uses.py"
    source.write_text(
        textwrap.dedent(
            """
            from intelshare.valuetype import value_type

            @value_type
            class Point:
                x: int

            point = Point(x=1)
            point.x = 2
            Point(3)
            """
        ),
        encoding="utf-8",
    )

    report, _, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(source)]
    )

    assert status == 1
    assert 'Property "x" defined in "Point" is read-only' in report
    assert 'Too many positional arguments for "Point"' in report
