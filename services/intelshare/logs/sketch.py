"""Latency percentiles in bounded memory: exact for small inputs, within 1 % for large ones.

A :class:`LatencySketch` keeps every value until it holds ``exact_limit`` of them (10,000 by
default: 80 kB in a packed array); percentiles are then exact, by the nearest-rank rule (the
smallest value with at least ``q * n`` values at or below it). When more values come, it
moves them into logarithmic buckets (the DDSketch idea): bucket ``k`` holds values in
``(gamma**(k-1), gamma**k]`` with ``gamma = (1 + a) / (1 - a)``, and reports each as a value
within a relative error ``a`` (1 % by default) of every value in it. Latencies from 1 µs to
10⁹ ms span under 1,600 buckets, so memory stays flat whatever the count. ``max``, ``min``,
``count`` and the mean are always exact.
"""

from __future__ import annotations

import math
from array import array
from typing import Final

DEFAULT_EXACT_LIMIT: Final = 10_000
"""Values kept verbatim before switching to buckets."""
DEFAULT_RELATIVE_ERROR: Final = 0.01
"""Worst relative error of a bucketed percentile."""
_SMALLEST: Final = 1e-9
"""Values at or below this (zero, negative clock skew) are counted in one zero bucket."""


class LatencySketch:
    """Percentiles of a stream of non-negative numbers (milliseconds) in bounded memory."""

    __slots__ = (
        "_buckets",
        "_exact_limit",
        "_gamma",
        "_log_gamma",
        "_values",
        "_zeros",
        "count",
        "max",
        "min",
        "total",
    )

    def __init__(
        self,
        *,
        exact_limit: int = DEFAULT_EXACT_LIMIT,
        relative_error: float = DEFAULT_RELATIVE_ERROR,
    ) -> None:
        """Keep up to ``exact_limit`` values exactly, then buckets of ``relative_error``."""
        self._exact_limit = exact_limit
        self._gamma = (1 + relative_error) / (1 - relative_error)
        self._log_gamma = math.log(self._gamma)
        self._values: array[float] | None = array("d")
        self._buckets: dict[int, int] = {}
        self._zeros = 0
        self.count = 0
        """How many values were added."""
        self.total = 0.0
        """Their sum (for the mean)."""
        self.max = -math.inf
        """The largest value (exact)."""
        self.min = math.inf
        """The smallest value (exact)."""

    @property
    def exact(self) -> bool:
        """True while every value is still held, so percentiles are exact."""
        return self._values is not None

    def add(self, value: float) -> None:
        """Add one value."""
        self.count += 1
        self.total += value
        self.max = max(self.max, value)
        self.min = min(self.min, value)
        if self._values is not None:
            self._values.append(value)
            if len(self._values) > self._exact_limit:
                values, self._values = self._values, None
                for held in values:
                    self._bucket(held)
            return
        self._bucket(value)

    def _bucket(self, value: float) -> None:
        if value <= _SMALLEST:
            self._zeros += 1
            return
        key = math.ceil(math.log(value) / self._log_gamma)
        self._buckets[key] = self._buckets.get(key, 0) + 1

    def quantile(self, q: float) -> float | None:  # noqa: PLR0911 - exact cases return early
        """The ``q``-quantile (0 < q <= 1) by nearest rank; ``None`` when empty."""
        if self.count == 0:
            return None
        rank = max(1, math.ceil(q * self.count))
        if self._values is not None:
            return sorted(self._values)[rank - 1]
        if rank == self.count:
            return self.max  # the extremes are known exactly; no need to estimate them
        if rank == 1:
            return self.min
        if rank <= self._zeros:
            return max(self.min, 0.0)
        seen = self._zeros
        for key in sorted(self._buckets):
            seen += self._buckets[key]
            if seen >= rank:
                middle = 2 * self._gamma**key / (self._gamma + 1)
                return min(max(middle, self.min), self.max)
        return self.max  # not reached: the counts add up to self.count

    def quantiles(self, qs: tuple[float, ...]) -> tuple[float | None, ...]:
        """Several quantiles at once (one sort when exact)."""
        if self._values is not None and self.count:
            ordered = sorted(self._values)
            return tuple(ordered[max(1, math.ceil(q * self.count)) - 1] for q in qs)
        return tuple(self.quantile(q) for q in qs)
