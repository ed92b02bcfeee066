"""Time bounds for ``--since``/``--until``: ISO-8601 instants or durations back from now."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Final

from intelshare.errors import LogInputError
from intelshare.logs.model import utc_instant

_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART: Final = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_DURATION: Final = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+")


def parse_lookback(text: str) -> timedelta | None:
    """Read ``15m``, ``2h``, ``1h30m``, ``90s``, ``250ms``, ``2d``, ``1w``; ``None`` if not one."""
    compact = text.strip().lower().removesuffix("ago").strip()
    if not _DURATION.fullmatch(compact):
        return None
    seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _PART.findall(compact))
    return timedelta(seconds=seconds)


def parse_when(text: str, *, now: datetime, option: str = "--since") -> datetime:
    """Turn an option value into an aware UTC instant.

    Accepted: ``now``; a duration meaning that long before ``now`` (``15m``, ``2h``, ``1d``);
    an ISO-8601 date or time (``2026-11-28``, ``2026-11-28T09:00``, ``...Z`` or an offset;
    without an offset the time is taken as UTC, like the logs themselves).

    Raises:
        LogInputError: the text is neither.
    """
    value = text.strip()
    if value.lower() == "now":
        return now.astimezone(UTC)
    duration = parse_lookback(value)
    if duration is not None:
        return now.astimezone(UTC) - duration
    instant = utc_instant(value)
    if instant is None:
        raise LogInputError(
            f"{option} {text!r}: expected an ISO-8601 time (2026-11-28T09:00:00Z), "
            "a duration back from now (15m, 2h, 1d), or 'now'"
        )
    return instant
