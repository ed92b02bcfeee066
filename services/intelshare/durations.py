"""Durations as people write them in scenario files and flags: ``90s``, ``5m``, ``1h30m``, ``2d``.

Units run from days to milliseconds (``d h m s ms``), largest first, each at most once, whole
numbers only, no spaces. A bare ``0`` is zero. Anything else is refused with a reason, so a
typo like ``1m30`` or ``5 m`` never silently means something else. Nothing longer than
:data:`LONGEST` (100 years) is accepted: a longer one is a typo, and would overflow the
clocks it is added to.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

_UNITS: Final = (
    ("d", timedelta(days=1)),
    ("h", timedelta(hours=1)),
    ("m", timedelta(minutes=1)),
    ("s", timedelta(seconds=1)),
    ("ms", timedelta(milliseconds=1)),
)
LONGEST: Final = timedelta(days=36500)
"""The longest duration accepted (``36500d``, about 100 years)."""
_PART: Final = re.compile(r"(\d+)(ms|d|h|m|s)")
_SHAPE: Final = re.compile(r"^(?:\d+(?:ms|d|h|m|s))+$")
# The well-formed case in one match (a long scenario has a duration on every step).
_WELL_FORMED: Final = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?")
_MILLIS: Final = tuple(size // timedelta(milliseconds=1) for _, size in _UNITS)


def parse_duration(text: str) -> timedelta:
    """Read ``1h30m``-style text; raise ValueError with a reason people can act on."""
    text = text.strip()
    if text == "0":
        return timedelta(0)
    well_formed = _WELL_FORMED.fullmatch(text)
    if well_formed is not None and well_formed.lastindex is not None:
        numbers = zip(well_formed.groups(), _MILLIS, strict=True)
        millis = sum(int(number) * size for number, size in numbers if number)
        return _bounded(text, millis)
    if not text:
        raise ValueError("empty duration")
    if text.isdigit():
        raise ValueError(f"duration {text!r} needs a unit, e.g. {text}s or {text}m")
    if not _SHAPE.match(text):
        raise ValueError(
            f"malformed duration {text!r}; write whole numbers with units d, h, m, s, ms "
            "largest first, e.g. 90s, 5m, 1h30m"
        )
    order = [unit for unit, _ in _UNITS]
    millis = 0
    last = -1
    for number, unit in _PART.findall(text):
        position = order.index(unit)
        if position <= last:
            raise ValueError(
                f"malformed duration {text!r}: units go largest first, each once (d h m s ms)"
            )
        last = position
        # Whole milliseconds in Python ints: no overflow however many digits are written.
        millis += int(number) * _MILLIS[position]
    return _bounded(text, millis)


def _bounded(text: str, millis: int) -> timedelta:
    """``millis`` as a duration, refused when longer than :data:`LONGEST`."""
    if millis > LONGEST // timedelta(milliseconds=1):
        raise ValueError(
            f"duration {text!r} is too long; at most {format_duration(LONGEST)} (100 years)"
        )
    return timedelta(milliseconds=millis)


def format_duration(value: timedelta) -> str:
    """The shortest ``1h30m``-style text for a non-negative duration (``0s`` for zero)."""
    if value < timedelta(0):
        return "-" + format_duration(-value)
    millis = value // timedelta(milliseconds=1)
    parts: list[str] = []
    for unit, size in _UNITS:
        count, millis = divmod(millis, size // timedelta(milliseconds=1))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
