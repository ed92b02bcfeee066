from __future__ import annotations

import logging

import pytest

from intelshare.runtime.transient import TransientFilter


class Clock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        """Start at zero."""
        self.now = 0.0

    def __call__(self) -> float:
        """The current time."""
        return self.now


def record(message: str, level: int = logging.ERROR, name: str = "aiokafka") -> logging.LogRecord:
    """A log record as aiokafka makes one."""
    return logging.LogRecord(name, level, __file__, 1, message, None, None)


COORDINATOR = "Group Coordinator Request failed: [Error 15] GroupCoordinatorNotAvailableError"
LEADER = "Failed fetch offsets from 1: [Error 6] NotLeaderForPartitionError: TopicPartition(...)"


@pytest.mark.parametrize("message", [COORDINATOR, LEADER], ids=["coordinator", "leader"])
def test_a_transient_state_is_held_back_during_its_grace(message: str) -> None:
    """Coordinator and leader errors right after topics are created are not printed."""
    clock = Clock()
    quiet = TransientFilter(30.0, clock=clock)
    for second in (0.0, 1.0, 5.0, 29.0):
        clock.now = second
        assert not quiet.filter(record(message))


def test_a_state_that_lasts_is_shown_as_logged() -> None:
    """The same transient error still coming after the grace is shown, at its own level."""
    clock = Clock()
    quiet = TransientFilter(30.0, clock=clock)
    for second in range(31):
        clock.now = float(second)
        line = record(COORDINATOR)
        shown = quiet.filter(line)
    assert shown
    assert line.levelno == logging.ERROR
    assert line.getMessage().endswith("(lasting over 30 s)")


def test_a_state_that_ended_starts_over() -> None:
    """A leader election long after the last one is held back again."""
    clock = Clock()
    quiet = TransientFilter(30.0, clock=clock)
    assert not quiet.filter(record(LEADER))
    clock.now = 3600.0
    assert not quiet.filter(record(LEADER))


def test_real_failures_pass_at_once() -> None:
    """A broker that does not answer, or any other error, is printed immediately."""
    quiet = TransientFilter(30.0, clock=Clock())
    assert quiet.filter(record('Unable connect to "127.0.0.1:1": [Errno 111] Connect call failed'))
    assert quiet.filter(record("OffsetCommit failed for unauthorized topics {'x'}"))


def test_verbose_logging_shows_transient_states_as_info() -> None:
    """With the library at info level the held-back lines appear, demoted to info."""
    quiet = TransientFilter(30.0, verbose=True, clock=Clock())
    line = record(COORDINATOR)
    assert quiet.filter(line)
    assert (line.levelno, line.levelname) == (logging.INFO, "INFO")
