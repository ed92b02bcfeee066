from __future__ import annotations

import asyncio
import json
import textwrap
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from intelshare.contract.alerts import AlertHeader
from intelshare.network.model import default_network
from intelshare.network.policy import check_send
from intelshare.replay.clock import FakeClock
from intelshare.replay.engine import Replay, ReplayOptions, timeline
from intelshare.replay.render import silence_hint
from intelshare.runtime.eventlog import utc_timestamp
from intelshare.scenario.expectations import Status
from intelshare.scenario.files import load_scenario

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from intelshare.replay.engine import Outgoing
    from intelshare.scenario.files import CheckReport

STORY = """\
name: timing
seed: 42
start: 2026-11-28T08:00:00Z
steps:
  - at: 0s
    alert: van
    from: GB
    to: [RS, MK]
    category: DISCREET_CHECK
    valid_until: 2h
  - at: 30s
    alert: kosovo
    from: RS
    to: [GB, XK]
    category: MODUS_OPERANDI
    tlp: TLP_GREEN
    expect: refused
  - at: 1m30s
    update: van
    priority: URGENT
  - pause: 1m
  - at: 3m
    receipt: van
    by: RS
    status: HIT
  - at: 4m
    revoke: van
expect:
  - receives: {country: RS, alert: van, within: 1s}
  - never_receives: {country: XK, alert: kosovo}
  - refused: {from: RS, to: XK, alert: kosovo, rule: no-agreement}
  - receipt: {to: GB, from: RS, alert: van, status: HIT}
  - revoked: {country: MK, alert: van}
  - no_dead_letters: true
"""


class SimulatedNetwork:
    """Plays the countries' services: policy per copy, arrival 50 ms later, audit events."""

    def __init__(self, clock: FakeClock) -> None:
        """Log events on ``clock``; ``observe`` is wired to the replay's outcome."""
        self.clock = clock
        self.network = default_network()
        self.sent: list[tuple[float, str, Mapping[str, Any]]] = []
        self.observe: Any = None
        self.silent: set[str] = set()
        """Countries whose consumer is not running: their copies never arrive."""

    def emit(self, name: str, delay: float = 0.0, **fields: Any) -> None:
        """One audit event, stamped ``delay`` seconds after now."""
        stamp = utc_timestamp(self.clock.now() + timedelta(seconds=delay))
        self.observe({"timestamp": stamp, "event": name, **fields})

    async def send(self, outgoing: Outgoing) -> None:
        """Record the send and log what the services would."""
        message, record = outgoing.message, outgoing.record
        self.sent.append((self.clock.monotonic(), message.kind, record))
        alert_id = record["alert_id"]
        if message.kind == "receipt":
            self.emit(
                "receipt.sent", country=message.sender, originator=message.to[0],
                alert_id=alert_id,
            )  # fmt: skip
            if message.to[0] not in self.silent:
                self.emit(
                    "receipt.received", 0.05, country=message.to[0],
                    receipt_from=message.sender, alert_id=alert_id, status=record["status"],
                )  # fmt: skip
            return
        header = AlertHeader.from_record(record)
        for recipient in header.recipients:
            decision = check_send(self.network, header, recipient, self.clock.now())
            if not decision.allowed:
                self.emit(
                    "alert.refused", country=message.sender, recipient=recipient,
                    alert_id=alert_id, rule=str(decision.rule),
                )  # fmt: skip
                continue
            self.emit("alert.sent", country=message.sender, recipient=recipient, alert_id=alert_id)
            if recipient in self.silent:
                continue
            arrival = "alert.revoked" if header.message_type == "REVOCATION" else "alert.received"
            self.emit(arrival, 0.05, country=recipient, alert_id=alert_id)


def checked(tmp_path: Path, text: str = STORY) -> CheckReport:
    """Write and check a scenario file."""
    path = tmp_path / "story.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_scenario(path)


async def play(
    report: CheckReport, silent: frozenset[str] = frozenset(), **options: Any
) -> tuple[Any, SimulatedNetwork, FakeClock]:
    """Replay ``report`` on a fake clock against the simulated network."""
    clock = FakeClock()
    network = SimulatedNetwork(clock)
    network.silent |= silent
    replay = Replay(report, sender=network, clock=clock, options=ReplayOptions(**options))
    network.observe = replay.outcome.observe
    return await replay.run(), network, clock


async def test_steps_go_out_on_the_scenario_clock(tmp_path: Path) -> None:
    """At speed 1 each step is sent at its offset; the trailing pause is waited out."""
    report, network, clock = await play(checked(tmp_path), settle=5.0)
    assert [(t, kind) for t, kind, _ in network.sent] == [
        (0.0, "alert"), (30.0, "alert"), (90.0, "alert"), (180.0, "receipt"), (240.0, "alert"),
    ]  # fmt: skip
    assert clock.monotonic() >= 240.0
    assert report.published == 5


async def test_speed_scales_the_schedule(tmp_path: Path) -> None:
    """At speed 10 the same steps go out ten times sooner."""
    _, network, _ = await play(checked(tmp_path), speed=10.0)
    assert [t for t, _, _ in network.sent] == [0.0, 3.0, 9.0, 18.0, 24.0]


async def test_as_fast_as_possible_ignores_the_schedule(tmp_path: Path) -> None:
    """Without a schedule steps go out at once; a pause only waits for the network to settle."""
    _, network, _ = await play(checked(tmp_path), as_fast_as_possible=True, quiet=1.0)
    times = [t for t, _, _ in network.sent]
    assert times[:3] == [0.0, 0.0, 0.0]
    assert times[3:] == pytest.approx([1.05, 1.05], abs=0.06)


async def test_from_and_to_select_a_window(tmp_path: Path) -> None:
    """--from skips earlier steps and starts the clock there; --to stops after its offset."""
    _, network, _ = await play(
        checked(tmp_path), start=timedelta(seconds=30), end=timedelta(minutes=3)
    )
    assert [(t, kind) for t, kind, _ in network.sent] == [
        (0.0, "alert"), (60.0, "alert"), (150.0, "receipt"),
    ]  # fmt: skip


async def test_times_are_moved_to_the_real_clock_keeping_durations(tmp_path: Path) -> None:
    """A published alert is created when it is sent; its validity keeps the written length."""
    _, network, clock = await play(checked(tmp_path), speed=2.0)
    update_time, _, update = network.sent[2]
    assert update["created_at"] == clock.start + timedelta(seconds=update_time)
    _, _, first = network.sent[0]
    assert first["valid_until"] - first["created_at"] == timedelta(hours=2)
    assert update["revision"] == 2
    assert update["priority"] == "URGENT"


async def test_the_story_meets_its_expectations(tmp_path: Path) -> None:
    """Against services that behave, every expectation of the story is met."""
    report, _, _ = await play(checked(tmp_path), as_fast_as_possible=True)
    assert [(r.expectation.text, r.status) for r in report.failed] == []
    assert report.counts["alert.refused"] == 1
    assert report.results[0].latency == timedelta(milliseconds=50)


async def test_a_broken_expectation_fails_by_name(tmp_path: Path) -> None:
    """An expectation the run does not bear out is failed, and only that one."""
    text = STORY.replace("never_receives: {country: XK", "receives: {country: XK")
    report, _, _ = await play(checked(tmp_path, text), as_fast_as_possible=True, settle=2.0)
    assert [(r.expectation.text, r.detail) for r in report.failed] == [
        ("XK receives kosovo", "never seen; alert.refused by RS (no-agreement)")
    ]
    assert report.failed[0].status is Status.FAILED


async def test_waiting_for_the_outcome_is_bounded(tmp_path: Path) -> None:
    """When an expected event never comes, the replay gives up after the settle time."""
    text = STORY.replace("revoked: {country: MK", "revoked: {country: GB")
    report, _, clock = await play(checked(tmp_path, text), as_fast_as_possible=True, settle=7.0)
    pause = 1.05  # in this mode the pause waits for quiet
    assert clock.monotonic() == pytest.approx(7.0 + pause, abs=0.2)
    assert [r.expectation.text for r in report.failed] == ["GB stops using van (revoked)"]


async def test_copies_nobody_logs_do_not_hold_the_verdict(tmp_path: Path) -> None:
    """Once every expectation is decided, copies to a silent country are given up after idle."""
    text = STORY.replace("  - revoked: {country: MK, alert: van}\n", "")
    report, _, clock = await play(
        checked(tmp_path, text), silent=frozenset({"MK"}), as_fast_as_possible=True,
        settle=60.0, idle=5.0,
    )  # fmt: skip
    assert report.failed == ()
    assert clock.monotonic() == pytest.approx(2 * 5.0, abs=0.3)  # the pause, then the end


async def test_a_failing_replay_ends_once_the_network_is_quiet(tmp_path: Path) -> None:
    """An expectation nothing will meet ends the replay after --idle of silence, not --settle."""
    text = STORY.replace("revoked: {country: MK", "revoked: {country: GB")
    report, _, clock = await play(
        checked(tmp_path, text), as_fast_as_possible=True, settle=600.0, idle=4.0
    )
    pause = 1.05  # in this mode the pause waits for quiet
    assert clock.monotonic() == pytest.approx(4.0 + pause, abs=0.2)
    assert [r.expectation.text for r in report.failed] == ["GB stops using van (revoked)"]


async def test_countries_that_never_answer_are_named(tmp_path: Path) -> None:
    """A country sent copies that logs no arrival is named; with none answering, all are."""
    report, _, _ = await play(
        checked(tmp_path), silent=frozenset({"MK"}), as_fast_as_possible=True, idle=2.0
    )
    assert report.unanswered == ("MK",)
    hint = silence_hint(report)
    assert hint is not None
    assert hint.startswith("no answer from MK (3 messages sent to them")
    report, _, _ = await play(
        checked(tmp_path), silent=frozenset({"MK", "RS", "GB"}), as_fast_as_possible=True,
        idle=2.0,
    )  # fmt: skip
    hint = silence_hint(report)
    assert hint is not None
    assert hint.startswith("no consumer answered: none of the 8 messages sent to GB, MK, RS")


def test_the_timeline_is_deterministic(tmp_path: Path) -> None:
    """The same file and seed give the same ids and the same records, byte for byte."""
    report = checked(tmp_path)
    first = [json.dumps(dict(e.message.record), default=str) for e in timeline(report) if e.message]
    again = [json.dumps(dict(e.message.record), default=str) for e in timeline(report) if e.message]
    assert first == again
    assert report.ids == {"van": "GB-CC9C37735477", "kosovo": "RS-F5A3BC69ECC3"}


def test_another_seed_gives_other_ids(tmp_path: Path) -> None:
    """A different seed changes every generated id and nothing else."""
    path = tmp_path / "story.yaml"
    path.write_text(STORY, encoding="utf-8")
    one, two = load_scenario(path), load_scenario(path, seed="43")
    assert set(one.ids.values()).isdisjoint(two.ids.values())
    records = [e.message.record for e in timeline(two) if e.message]
    assert {r["alert_id"] for r in records} == set(two.ids.values())


@pytest.mark.parametrize("speed", [0.5, 1.0, 4.0])
async def test_the_run_lasts_the_scenario_over_the_speed(tmp_path: Path, speed: float) -> None:
    """A four-minute scenario takes 4 minutes / speed on the (fake) clock, plus settling."""
    _, _, clock = await play(checked(tmp_path), speed=speed, settle=3.0)
    assert 240 / speed <= clock.monotonic() <= 240 / speed + 3.0


ORDERED = """\
name: ordering
seed: 7
start: 2026-11-28T08:00:00Z
steps:
  - {at: 0s, alert: first, from: GB, to: [RS], category: DISCREET_CHECK, case: shared}
  - {at: 1s, alert: other, from: GB, to: [RS], category: DISCREET_CHECK}
  - {at: 2s, update: first, priority: URGENT}
  - {at: 3s, alert: later, from: GB, to: [RS], category: DISCREET_CHECK}
  - {at: 4s, alert: same-case, from: GB, to: [RS], category: DISCREET_CHECK, case: shared}
  - {at: 5s, revoke: other}
expect:
  - no_dead_letters: true
"""


class SlowSender:
    """A sender whose every send takes a few turns of the loop; it logs starts and ends."""

    def __init__(self) -> None:
        """Nothing sent yet."""
        self.log: list[str] = []

    async def send(self, outgoing: Outgoing) -> None:
        """Log the start, let other tasks run, log the end."""
        record = outgoing.message.record
        name = f"{outgoing.message.name} r{record.get('revision')}"
        self.log.append(f"start {name}")
        for _ in range(5):
            await asyncio.sleep(0)
        self.log.append(f"end {name}")


async def test_follow_ups_wait_for_their_alert_and_nothing_else(tmp_path: Path) -> None:
    """An update or revocation goes out once its alert is acknowledged; other alerts do not wait."""
    sender = SlowSender()
    options = ReplayOptions(as_fast_as_possible=True, idle=1.0)
    replay = Replay(checked(tmp_path, ORDERED), sender=sender, clock=FakeClock(), options=options)
    report = await replay.run()
    log = sender.log
    assert report.published == 6
    assert log.index("end first r1") < log.index("start first r2")
    assert log.index("end other r1") < log.index("start other r2")
    # Alerts after a waiting update go out at once, but not ahead of one of their own case.
    assert log.index("start later r1") < log.index("start first r2")
    assert log.index("end first r2") < log.index("start same-case r1")
