"""Quiet the Kafka client's transient states: expected right after topics are created.

A new consumer group or topic has no coordinator or leader for a moment: aiokafka logs
``GroupCoordinatorNotAvailable``, ``NotLeaderForPartition`` and the like at error level,
retries, and carries on. Those lines are normal, and a user reads them as failures. The filter
here holds such a line back (shown at info level when the library logs at info) until the
same state has lasted :data:`GRACE` seconds; only then is it shown as logged, saying so.
Anything else (a broker that does not answer, an authorisation failure) passes at once.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable

GRACE: Final = 30.0
"""Seconds a transient state may last before its lines are shown as the library logged them."""
TRANSIENT: Final = re.compile(
    r"GroupCoordinatorNotAvailable|CoordinatorNotAvailable|NotCoordinator|"
    r"CoordinatorLoadInProgress|NotLeaderForPartition|NotLeaderOrFollower|"
    r"LeaderNotAvailable|RebalanceInProgress|Marking the coordinator dead"
)
"""What the client logs while a coordinator or leader is being chosen (retriable states)."""


class TransientFilter(logging.Filter):
    """Hold back a transient state's lines for its first ``grace`` seconds.

    A state is a (logger, matched name) pair; it starts over once ``grace`` seconds pass
    without a line about it, so a leader election hours later is quiet again.
    """

    def __init__(
        self,
        grace: float = GRACE,
        *,
        verbose: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``verbose``: the library logs at info level, so held-back lines show as info."""
        super().__init__()
        self._grace = grace
        self._verbose = verbose
        self._clock = clock
        self._since: dict[tuple[str, str], tuple[float, float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """False to drop a held-back line; a long-lasting state's line is marked and passed."""
        found = TRANSIENT.search(record.getMessage())
        if found is None or record.levelno < logging.WARNING:
            return True
        key = (record.name, found.group())
        now = self._clock()
        first, last = self._since.get(key, (now, now))
        if now - last > self._grace:
            first = now  # the earlier state ended; this is a new one
        self._since[key] = (first, now)
        if now - first < self._grace:
            if not self._verbose:
                return False
            record.levelno, record.levelname = logging.INFO, "INFO"
            return True
        # A fixed note, so the repeat filter after this one still sees the same message.
        record.msg = f"{record.msg} (lasting over {self._grace:.0f} s)"
        return True
