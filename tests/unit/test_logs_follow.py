from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path  # noqa: TC003 - pytest resolves fixture annotations

import pytest

from intelshare.errors import LogInputError
from intelshare.logs.follow import follow_events
from intelshare.logs.lines import ReadCounts

WAIT = 10.0  # an upper bound for each step, not an expected duration


def _line(n: int, country: str = "RS") -> str:
    return json.dumps(
        {
            "timestamp": f"2026-11-28T09:00:{n:02d}.000Z",
            "level": "info",
            "event": "alert.received",
            "service": "consumer",
            "country": country,
            "alert_id": f"GB-{n:04d}",
            "originator": "GB",
            "latency_ms": float(n),
        }
    )


class Follower:
    """Runs follow_events in a thread and hands each event over through a queue."""

    def __init__(self, sources: list[str]) -> None:
        """Start following ``sources``."""
        self.counts = ReadCounts()
        self.stop = threading.Event()
        self.events: queue.Queue[str] = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(sources,), daemon=True)
        self.thread.start()

    def _run(self, sources: list[str]) -> None:
        for event in follow_events(sources, self.counts, stop=self.stop, poll_seconds=0.01):
            self.events.put(event.alert_id or "")

    def next(self) -> str:
        """The next event's alert id (waits, with a bound)."""
        return self.events.get(timeout=WAIT)

    def close(self) -> None:
        """Stop following and wait for the thread to end."""
        self.stop.set()
        self.thread.join(timeout=WAIT)
        assert not self.thread.is_alive()


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """A log file with one event in it."""
    path = tmp_path / "consumer-rs.log"
    path.write_text(_line(1) + "\n")
    return path


def _append(path: Path, text: str) -> None:
    with path.open("a") as handle:
        handle.write(text)


def test_follow_reads_existing_lines_then_appended_ones(log: Path):
    """Existing lines come first, then each appended line, a partial one once it is complete."""
    follower = Follower([str(log)])
    try:
        assert follower.next() == "GB-0001"
        _append(log, _line(2) + "\n")
        assert follower.next() == "GB-0002"
        whole = _line(3)
        _append(log, whole[:20])  # a writer in the middle of a line
        _append(log, "not json\n")
        # The partial line and its tail form one line: neither half is an event on its own.
        _append(log, _line(4) + "\n")
        assert follower.next() == "GB-0004"
        assert follower.events.empty()
    finally:
        follower.close()
    assert (follower.counts.events, follower.counts.not_json) == (3, 1)


def test_follow_survives_rotation_and_truncation(log: Path):
    """A renamed-and-recreated file and a truncated file are both read again from the start."""
    follower = Follower([str(log)])
    try:
        assert follower.next() == "GB-0001"
        log.rename(log.with_suffix(".log.1"))
        log.write_text(_line(5) + "\n")
        assert follower.next() == "GB-0005"
        _append(log, _line(6) + "\n")
        assert follower.next() == "GB-0006"
        with log.open("w") as handle:  # copytruncate: same file, now shorter
            handle.write(_line(7) + "\n")
        assert follower.next() == "GB-0007"
    finally:
        follower.close()


def test_follow_picks_up_new_files_in_a_directory(tmp_path: Path):
    """A log file created in a followed directory is read as it appears."""
    (tmp_path / "a.log").write_text(_line(1) + "\n")
    follower = Follower([str(tmp_path)])
    try:
        assert follower.next() == "GB-0001"
        (tmp_path / "ignored.txt").write_text(_line(8) + "\n")
        new = tmp_path / "sub" / "b.jsonl"
        new.parent.mkdir()
        partial = new.with_suffix(".tmp")
        partial.write_text(_line(9) + "\n")
        partial.replace(new)
        assert follower.next() == "GB-0009"
        assert follower.events.empty()
    finally:
        follower.close()
    assert follower.counts.files == 2


def test_follow_refuses_stdin_mixed_with_files(log: Path):
    """A pipe follows itself; mixing it with files under --follow is an input error."""
    with pytest.raises(LogInputError, match="either -"):
        next(follow_events(["-", str(log)], ReadCounts(), stop=threading.Event()))


def test_follow_command_streams_appended_lines_through_a_pipe(log: Path):
    """``intelshare logs --follow`` flushes each event into a pipe and stops cleanly on Ctrl-C."""
    # A shell without job control starts background jobs with SIGINT ignored and the child
    # would inherit that; Ctrl-C is what this test is about, so the child restores it first.
    restore = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)"
    command = [sys.executable, "-c", f"{restore}; from intelshare.cli import main; main()", "logs"]
    with subprocess.Popen(
        [*command, "--follow", "-f", "jsonl", "--event", "alert.received", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        stdout = child.stdout
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: [*map(lines.put, stdout)], daemon=True)
        reader.start()
        try:
            assert json.loads(lines.get(timeout=WAIT))["alert_id"] == "GB-0001"
            _append(log, _line(2) + "\n")
            assert json.loads(lines.get(timeout=WAIT))["alert_id"] == "GB-0002"
            child.send_signal(signal.SIGINT)
            assert child.wait(timeout=WAIT) == 0
        finally:
            child.kill()  # a failed step must not leave the test waiting on the child
        assert "2 events" in child.stderr.read()


def test_numbered_rotations_are_read_once_not_followed(tmp_path: Path):
    """x.log.1 is a finished rotation: read once; a rotation renaming it is not read again."""
    (tmp_path / "consumer-RS.log.1").write_text(_line(1) + "\n")
    live = tmp_path / "consumer-RS.log"
    live.write_text(_line(2) + "\n")
    follower = Follower([str(tmp_path)])
    try:
        assert [follower.next(), follower.next()] == ["GB-0001", "GB-0002"]
        # logrotate: .1 -> .2, live -> .1, a new live file
        (tmp_path / "consumer-RS.log.1").rename(tmp_path / "consumer-RS.log.2")
        live.rename(tmp_path / "consumer-RS.log.1")
        live.write_text(_line(3) + "\n")
        assert follower.next() == "GB-0003"
        with pytest.raises(queue.Empty):
            follower.events.get(timeout=0.5)
    finally:
        follower.close()
