"""A large generated log for the report at scale: 130 routes, 36 hours, 41,000 alerts.

Shaped like a busy exercise of twenty countries: route volumes fall off steeply (a few busy
routes, a long tail), latency is ~50 ms in the bulk with rare outliers of seconds, and
refusals name the countries of their route in the reason, as the policy's reasons do.
Deterministic for a given seed, so figures can be asserted.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

COUNTRIES = (
    "GB", "FR", "BE", "NL", "DE", "AT", "SI", "HR", "HU", "RO",
    "RS", "BA", "ME", "XK", "AL", "MK", "GR", "BG", "TR", "IT",
)  # fmt: skip
ROUTES = 130
ALERTS = 41_000
HOURS = 36
START = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
LOSSY_ROUTE = ("TR", "GR")
"""One route where a fifth of the copies are rejected on arrival: the matrix must mark it."""
CATEGORIES = ("DISCREET_CHECK", "MODUS_OPERANDI", "WANTED_FOR_ARREST", "OBJECT_FOR_SEIZURE")
TLPS = ("TLP_GREEN", "TLP_AMBER", "TLP_AMBER", "TLP_AMBER_STRICT", "TLP_RED", "TLP_CLEAR")


@dataclass(kw_only=True)
class ScaleLog:
    """What was generated, for the assertions."""

    routes: list[tuple[str, str]] = field(default_factory=list)
    """The routes alerts were sent on."""
    refused_routes: set[tuple[str, str]] = field(default_factory=set)
    """Routes with refusals before sending."""
    alerts: list[str] = field(default_factory=list)
    """Alert ids in reading order."""
    lines: int = 0
    """Lines written."""


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _routes(rng: random.Random) -> list[tuple[str, str]]:
    pairs = [(a, b) for a in COUNTRIES for b in COUNTRIES if a != b]
    rng.shuffle(pairs)
    return [LOSSY_ROUTE, *[pair for pair in pairs if pair != LOSSY_ROUTE][: ROUTES - 1]]


def generate(folder: Path, *, seed: int = 7) -> ScaleLog:
    """Write one producer and one consumer log per country into ``folder``."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    folder.mkdir(parents=True, exist_ok=True)
    made = ScaleLog(routes=_routes(rng))
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(made.routes))]
    outputs = {
        (country, service): (folder / f"{service}-{country}.log").open("w")
        for country in COUNTRIES
        for service in ("producer", "consumer")
    }

    def emit(at: datetime, service: str, country: str, **fields: object) -> None:
        record = {"timestamp": _stamp(at), "level": "info", "service": service, "country": country}
        outputs[country, service].write(json.dumps({**record, **fields}) + "\n")
        made.lines += 1

    span = HOURS * 3600
    try:
        for number in range(ALERTS):
            at = START + timedelta(seconds=span * number / ALERTS + rng.random())
            first = rng.choices(made.routes, weights)[0]
            origin = first[0]
            targets = {first[1]}
            if rng.random() < 0.3:
                targets.update(r[1] for r in rng.sample(made.routes, 8) if r[0] == origin)
            alert = f"{origin}-{number:06X}"
            made.alerts.append(alert)
            base = {
                "alert_id": alert,
                "revision": 1,
                "message_type": "ALERT",
                "case_id": f"CASE-{number // 7}",
                "originator": origin,
                "category": rng.choice(CATEGORIES),
                "tlp": rng.choice(TLPS),
            }
            for target in sorted(targets):
                _copy(emit, rng, at, base, origin, target, made)
    finally:
        for out in outputs.values():
            out.close()
    return made


def _copy(emit, rng, at, base, origin, target, made) -> None:  # noqa: PLR0917
    """One copy's events: sent and received, or refused, rejected, overdue, revoked."""
    if rng.random() < 0.04:
        rule = rng.choice(("no-agreement", "handling-above-cap", "category-not-covered"))
        reason = {
            "no-agreement": f"no agreement between {origin} and {target}",
            "handling-above-cap": f"TLP:RED is above the {origin}-{target} cap (TLP:AMBER)",
            "category-not-covered": f"the {origin}-{target} agreement does not cover it",
        }[rule]
        made.refused_routes.add((origin, target))
        emit(at, "producer", origin, event="alert.refused", recipient=target, rule=rule,
             reason=reason, **base)  # fmt: skip
        return
    emit(at, "producer", origin, event="alert.sent", recipient=target, **base)
    latency = rng.lognormvariate(3.9, 0.35)  # ~50 ms in the bulk
    if rng.random() < 0.01:
        latency = rng.uniform(2_000, 30_000)
    arrived = at + timedelta(milliseconds=latency)
    lossy = (origin, target) == LOSSY_ROUTE and rng.random() < 0.2
    if lossy or rng.random() < 0.002:
        emit(arrived, "consumer", target, event="alert.rejected", level="warning", rule="expired",
             reason=f"expired before it reached {target}", **base)  # fmt: skip
        return
    emit(arrived, "consumer", target, event="alert.received", latency_ms=round(latency, 1), **base)
    if rng.random() < 0.003:
        emit(arrived + timedelta(hours=8), "consumer", origin, event="receipt.overdue",
             recipient=target, due=_stamp(arrived + timedelta(hours=8)), **base)  # fmt: skip
    if rng.random() < 0.002:
        emit(arrived + timedelta(minutes=5), "consumer", target, event="alert.revoked",
             **{**base, "revision": 2, "message_type": "REVOCATION"})  # fmt: skip
