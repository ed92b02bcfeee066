"""Synthetic scenarios of any size, shaped like the route, for load runs.

Alerts flow the way the route runs: a country warns the next one or two countries ahead of it
and the UK, under the route working group's terms (its categories, TLP:GREEN); now and then
the UK shares bilaterally with a partner under a bilateral agreement instead. Some alerts
are updated, revoked or answered a little later. Every copy is checked against the policy
as it is written, so the file checks clean and its expectations are exact counts: every copy
sent, received and answered, nothing rejected, no dead letters.

The file is written one step at a time (only counters and a short window of recent alerts
are held), so a million-alert scenario costs no more memory than a hundred.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final, NamedTuple, TextIO

from intelshare.contract.alerts import AlertHeader, new_alert
from intelshare.durations import format_duration
from intelshare.network.policy import check_send_all

if TYPE_CHECKING:
    from collections.abc import Sequence

    from intelshare.network.model import Network

ROUTE: Final = ("TR", "GR", "BG", "MK", "RS", "HU", "HR", "DE", "FR", "GB")
"""The Western Balkans route, from Türkiye to the Channel."""
ROUTE_CATEGORIES: Final = (
    ("MODUS_OPERANDI", 4),
    ("IMMINENT_THREAT", 2),
    ("OBJECT_FOR_SEIZURE", 2),
    ("REQUEST_FOR_INFORMATION", 2),
)
BILATERAL_CATEGORIES: Final = ("WANTED_FOR_ARREST", "MISSING_PERSON", "REQUEST_FOR_INFORMATION")
PRIORITIES: Final = (("NORMAL", 6), ("HIGH", 3), ("URGENT", 1))
VEHICLES: Final = ("VAN", "LORRY", "CAR", "BUS")
RECENT: Final = 64
"""How many recent alerts later updates, revocations and receipts may refer to."""


@dataclass(frozen=True, kw_only=True, slots=True)
class GenerateOptions:
    """What to generate."""

    alerts: int
    """Number of new alerts."""
    seed: int = 1
    """Random seed: the same seed gives the same file."""
    countries: tuple[str, ...] = ()
    """Only these countries take part (default: every country of the network)."""
    updates: float = 0.02
    """Share of alerts that get an update later."""
    revocations: float = 0.01
    """Share of alerts that get revoked later."""
    receipts: float = 0.01
    """Share of alerts that a recipient answers with hit, no hit or actioned."""
    bilateral: float = 0.1
    """Share of alerts the UK sends bilaterally rather than along the route."""
    interval: timedelta = timedelta(seconds=2)
    """Mean time between steps on the scenario clock."""


@dataclass(kw_only=True, slots=True)
class _Counts:
    copies: int = 0
    revoked: int = 0
    steps: int = 0
    alerts: int = 0


class _Recent(NamedTuple):
    """An alert written lately, which later steps may update, revoke or answer."""

    name: str
    originator: str
    allowed: tuple[str, ...]


class _Writer:
    def __init__(self, out: TextIO, network: Network, options: GenerateOptions) -> None:
        self.out = out
        self.network = network
        self.options = options
        self.random = random.Random(options.seed)  # noqa: S311 - reproducible data, not secrets
        members = set(options.countries or network.codes)
        self.route = [c for c in ROUTE if c in members and network.country(c) is not None]
        # Bilateral partners of the UK: those with an agreement of their own, not only the group.
        self.partners = sorted(
            p
            for a in network.agreements
            if len(a.parties) == 2 and "GB" in a.parties  # noqa: PLR2004 - two parties: bilateral
            for p in a.parties
            if p != "GB" and p in members
        )
        self.counts = _Counts()
        self.recent: deque[_Recent] = deque(maxlen=RECENT)
        self.clock = timedelta(0)
        self.start = datetime(2026, 11, 28, 6, tzinfo=UTC)

    def pick(self, weighted: Sequence[tuple[str, int]]) -> str:
        names, weights = zip(*weighted, strict=True)
        return str(self.random.choices(names, weights)[0])

    def tick(self) -> str:
        step = self.options.interval.total_seconds() * self.random.expovariate(1.0)
        self.clock += timedelta(milliseconds=max(1, round(step * 1000)))
        self.counts.steps += 1
        return format_duration(self.clock)

    def alert(self, index: int) -> None:
        name = f"a{index:07d}"
        if self.partners and ("GB" in self.route) and self.random.random() < self.options.bilateral:
            originator, recipients = "GB", [self.random.choice(self.partners)]
            category, tlp = self.random.choice(BILATERAL_CATEGORIES), "TLP_AMBER"
        else:
            position = self.random.randrange(len(self.route) - 1)
            originator = self.route[position]
            ahead = self.route[position + 1 : position + 1 + self.random.randint(1, 2)]
            recipients = list(dict.fromkeys([*ahead, self.route[-1]]))
            category, tlp = self.pick(ROUTE_CATEGORIES), "TLP_GREEN"
        allowed = self._allowed(originator, recipients, category, tlp)
        if not allowed:
            return
        priority = self.pick(PRIORITIES)
        vehicle = self.random.choice(VEHICLES)
        plate = f"{originator} {self.random.randrange(10, 99)} {self.random.randrange(1000, 9999)}"
        self.out.write(
            f"  - {{at: {self.tick()}, alert: {name}, from: {originator}, "
            f"to: [{', '.join(allowed)}], category: {category}, tlp: {tlp}, "
            f"priority: {priority}, summary: {vehicle.lower()} {plate} on the route, "
            f"vehicles: [{{kind: {vehicle}, registration: '{plate}'}}]}}\n"
        )
        self.counts.copies += len(allowed)
        self.counts.alerts += 1
        self.recent.append(_Recent(name=name, originator=originator, allowed=allowed))

    def _allowed(
        self, originator: str, recipients: list[str], category: str, tlp: str
    ) -> tuple[str, ...]:
        record = new_alert(
            originator=originator,
            recipients=recipients,
            category=category,
            case_id="generated",
            summary="generated",
            tlp=tlp,
            alert_id=f"{originator}-GENERATED",
            created_at=self.start + self.clock,
        )
        decisions = check_send_all(
            self.network, AlertHeader.from_record(record), self.start + self.clock
        )
        return tuple(d.recipient for d in decisions if d.allowed)

    def follow_up(self) -> None:
        """Maybe update, revoke or answer one of the recent alerts."""
        if not self.recent:
            return
        roll = self.random.random()
        options = self.options
        if roll < options.updates:
            target = self.random.choice(self.recent)
            self.out.write(
                f"  - {{at: {self.tick()}, update: {target.name}, priority: URGENT, "
                f"summary: seen again further along the route}}\n"
            )
            self.counts.copies += len(target.allowed)
        elif roll < options.updates + options.revocations:
            target = self.recent.popleft()
            self.out.write(f"  - {{at: {self.tick()}, revoke: {target.name}}}\n")
            self.counts.revoked += len(target.allowed)
        elif roll < options.updates + options.revocations + options.receipts:
            target = self.random.choice(self.recent)
            status = self.random.choice(("HIT", "NO_HIT", "ACTIONED"))
            by = self.random.choice(target.allowed)
            self.out.write(
                f"  - {{at: {self.tick()}, receipt: {target.name}, by: {by}, status: {status}}}\n"
            )


def generate(out: TextIO, network: Network, options: GenerateOptions) -> int:
    """Write a synthetic scenario to ``out``; the number of steps written."""
    writer = _Writer(out, network, options)
    if len(writer.route) < 2:  # noqa: PLR2004 - a route needs a start and an end
        raise ValueError("at least two countries of the route must take part")
    out.write(
        f"# Generated by intelshare scenario generate --alerts {options.alerts} "
        f"--seed {options.seed}\n"
        f"name: generated-{options.alerts}\n"
        f"description: {options.alerts} synthetic alerts along the Western Balkans route\n"
        f"seed: {options.seed}\n"
        f"start: {writer.start.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
        "defaults: {grading: B2, eu_handling: [H0], uk_handling: P}\n"
        "steps:\n"
    )
    index = 0
    while writer.counts.alerts < options.alerts:
        index += 1
        writer.alert(index)
        writer.follow_up()
    counts = writer.counts
    received = counts.copies
    out.write(
        "expect:\n"
        f"  - count: {{event: alert.sent, equals: {counts.copies + counts.revoked}}}\n"
        f"  - count: {{event: alert.received, equals: {received}}}\n"
        f"  - count: {{event: alert.revoked, equals: {counts.revoked}}}\n"
        f"  - count: {{event: receipt.received, at_least: {received + counts.revoked}}}\n"
        "  - count: {event: alert.refused, equals: 0}\n"
        "  - count: {event: alert.rejected, equals: 0}\n"
        "  - no_dead_letters: true\n"
    )
    return counts.steps
