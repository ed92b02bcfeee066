"""Replay options checked against each other and against the scenario, before any broker.

Each refusal names the flag and says why in one line (exit 2): a speed that is not a finite
positive number, a window whose ``--from`` comes after its ``--to``, or a window that holds
no step of the scenario (``--from`` after the last one, ``--to`` before the first).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from intelshare.durations import format_duration
from intelshare.errors import SettingsError

if TYPE_CHECKING:
    from intelshare.replay.engine import ReplayOptions
    from intelshare.scenario.model import Outline


def finite(value: float, flag: str, *, zero: bool = False) -> float:
    """``value`` when it is a finite positive number (or zero, if ``zero``).

    Raises:
        SettingsError: ``nan``, ``inf``, a negative number, or zero where it is not allowed.
    """
    if not math.isfinite(value):
        raise SettingsError(f"{flag}: {value} is not a finite number")
    if value < 0 or (value == 0 and not zero):
        wanted = "zero or more" if zero else "positive"
        raise SettingsError(f"{flag}: {value} must be {wanted}")
    return value


def check_window(options: ReplayOptions, outline: Outline) -> None:
    """Refuse a ``--from``/``--to`` window that is inverted or holds no step of the scenario.

    Raises:
        SettingsError: naming the flag, the offset and the scenario's first or last step.
    """
    start, end = options.start, options.end
    if end is not None and end < start:
        raise SettingsError(
            f"--from {format_duration(start)} is after --to {format_duration(end)}; "
            "the window is inverted"
        )
    first, last = outline.first_message, outline.last_message
    if first is None or last is None:
        return  # nothing to publish in any window; the replay says so itself
    if start > last:
        raise SettingsError(
            f"--from {format_duration(start)} is after the scenario's last step "
            f"(at {format_duration(last)}); nothing would be replayed"
        )
    if end is not None and end < first:
        raise SettingsError(
            f"--to {format_duration(end)} is before the scenario's first step "
            f"(at {format_duration(first)}); nothing would be replayed"
        )
