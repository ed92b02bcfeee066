"""The report's tables as plain values: figures, the route matrix, refusals by rule, alerts.

Nothing here writes markup: the templates do, with every value escaped by Jinja2.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from intelshare.logs.describe import country_name

if TYPE_CHECKING:
    from collections.abc import Iterator

    from intelshare.logs.report.collect import AlertSummary, ReportData
    from intelshare.logs.stats import LogStats, Route

LISTED_ALERTS: Final = 400
"""Alerts listed as rows; the search box finds every summarised one."""
FOLDED_ROUTES: Final = 6
"""Routes shown in a refusal rule's row before the rest fold into "and N more"."""
STANDS_OUT: Final = 0.05
"""A matrix cell is marked when this share of its copies (and at least two) was not received."""


def svg_number(value: float) -> str:
    """A coordinate or a length in an SVG drawing: one decimal is finer than a pixel."""
    return f"{value:.1f}"


def ms(value: float | None) -> str:
    """Milliseconds for people: ``85 ms``, ``12.3 s``; empty when unknown."""
    if value is None:
        return ""
    return f"{value / 1000:.1f} s" if value >= 10_000 else f"{value:.0f} ms"  # noqa: PLR2004


@dataclass(frozen=True, kw_only=True, slots=True)
class Card:
    """One figure at the top of the page."""

    key: str
    """A stable name for tests and styles."""
    value: str
    """The figure."""
    label: str
    """What it counts."""
    tone: str
    """``bad`` / ``warn`` when non-zero and worth a look, else empty."""


def cards(stats: LogStats) -> list[Card]:
    """The headline figures."""
    by_rule = stats.refusals_by_rule().values()
    slowest = max((row.p95 for row in stats.latency), default=None)
    counted = [
        ("sent", sum(stats.sent.values()), "alerts & updates sent", ""),
        ("received", sum(stats.received.values()), "received and in use", ""),
        ("refused", sum(a for a, _ in by_rule), "refused before sending", "bad"),
        ("rejected", sum(b for _, b in by_rule), "rejected on arrival", "bad"),
        ("deadletters", sum(stats.dead_letters.values()), "dead letters", "bad"),
        ("duplicates", sum(stats.duplicates.values()), "duplicates suppressed", "warn"),
        ("overdue", sum(stats.overdue.values()), "receipts overdue", "warn"),
    ]
    shown = [
        Card(key=k, value=str(v), label=label, tone=t if v else "") for k, v, label, t in counted
    ]
    shown.append(
        Card(key="p95", value=ms(slowest) or "\u2013", label="slowest route, p95", tone="")
    )
    return shown


@dataclass(frozen=True, kw_only=True, slots=True)
class MatrixCell:
    """One route of the sent / received matrix."""

    route: str
    """``GB>RS``."""
    sent: int
    """Copies sent (alerts and updates)."""
    received: int
    """Copies accepted."""
    heat: int
    """0-4: how busy the route is, relative to the busiest (a light background)."""
    stands_out: bool
    """True when enough copies were not received to be worth a look."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MatrixRow:
    """One sending country."""

    code: str
    """Its code."""
    name: str
    """Its name."""
    cells: list[MatrixCell | None]
    """One per receiving country; ``None`` where nothing went."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Matrix:
    """Senders down, receivers across."""

    receivers: list[str]
    """Column countries."""
    rows: list[MatrixRow]
    """Row countries."""
    marked: int
    """Cells that stand out."""


def matrix(stats: LogStats) -> Matrix:
    """The route matrix, with only the cells that stand out marked."""
    routes = {*stats.sent, *stats.received}
    senders = sorted({route[0] for route in routes})
    receivers = sorted({route[1] for route in routes})
    busiest = max([*stats.sent.values(), *stats.received.values(), 1])
    marked = 0
    rows = []
    for source in senders:
        cells: list[MatrixCell | None] = []
        for target in receivers:
            sent = stats.sent.get((source, target), 0)
            got = stats.received.get((source, target), 0)
            if not sent and not got:
                cells.append(None)
                continue
            missing = sent - got
            out = missing >= 2 and missing >= STANDS_OUT * sent  # noqa: PLR2004
            marked += out
            heat = min(4, int(5 * max(sent, got) / busiest))
            cells.append(
                MatrixCell(
                    route=f"{source}>{target}", sent=sent, received=got, heat=heat, stands_out=out
                )
            )
        rows.append(MatrixRow(code=source, name=country_name(source), cells=cells))
    return Matrix(receivers=receivers, rows=rows, marked=marked)


@dataclass(frozen=True, kw_only=True, slots=True)
class CountryRow:
    """One country's totals."""

    code: str
    """Its code."""
    name: str
    """Its name."""
    figures: list[int]
    """sent, received, dead letters, duplicates, revoked, overdue."""


def per_country(stats: LogStats) -> list[CountryRow]:
    """Each country's totals."""
    sent_by: Counter[str] = Counter()
    got_by: Counter[str] = Counter()
    overdue: Counter[str] = Counter()
    for (source, _), count in stats.sent.items():
        sent_by[source] += count
    for (_, target), count in stats.received.items():
        got_by[target] += count
    for (origin, _), count in stats.overdue.items():
        overdue[origin] += count
    return [
        CountryRow(
            code=code,
            name=country_name(code),
            figures=[
                sent_by[code],
                got_by[code],
                stats.dead_letters.get(code, 0),
                stats.duplicates.get(code, 0),
                stats.revoked.get(code, 0),
                overdue[code],
            ],
        )
        for code in stats.countries
    ]


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleRoute:
    """One route a rule refused on, folded into the rule's row.

    Attributes:
        route: ``GB → HR``.
        count: Refusals on it.
        reason: The reason logged most often on this route.
    """

    route: str
    count: int
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RuleRow:
    """One policy rule: totals, its routes, its reasons."""

    rule: str
    """The rule id."""
    before_sending: int
    """``alert.refused`` by the sender."""
    on_arrival: int
    """``alert.rejected`` by the recipient."""
    routes: list[RuleRoute]
    """Its routes, busiest first."""
    reasons: list[tuple[str, int]]
    """Its distinct reasons with counts, commonest first (the first few)."""
    reason_kinds: int
    """How many distinct reasons were kept for it."""

    @property
    def total(self) -> int:
        """Refusals under this rule."""
        return self.before_sending + self.on_arrival


def refusal_rules(stats: LogStats) -> list[RuleRow]:
    """Refusals as one row per rule, busiest first, with routes and reasons folded in."""
    by_rule: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    routes: dict[str, Counter[Route]] = defaultdict(Counter)
    reasons: dict[str, Counter[str]] = defaultdict(Counter)
    route_reasons: dict[tuple[str, Route], Counter[str]] = defaultdict(Counter)
    for refusal, count in stats.refusals.items():
        by_rule[refusal.rule][0 if refusal.event == "alert.refused" else 1] += count
        routes[refusal.rule][refusal.route] += count
        for reason, times in stats.refusal_reasons.get(refusal, {}).items():
            reasons[refusal.rule][reason] += times
            route_reasons[refusal.rule, refusal.route][reason] += times
    rows = [
        RuleRow(
            rule=rule,
            before_sending=counts[0],
            on_arrival=counts[1],
            routes=[
                RuleRoute(
                    route=f"{route[0]} → {route[1]}",
                    count=count,
                    reason=_commonest(route_reasons[rule, route]),
                )
                for route, count in sorted(routes[rule].items(), key=lambda i: (-i[1], i[0]))
            ],
            reasons=reasons[rule].most_common(3),
            reason_kinds=len(reasons[rule]),
        )
        for rule, counts in by_rule.items()
    ]
    rows.sort(key=lambda row: (-row.total, row.rule))
    return rows


def _commonest(reasons: Counter[str]) -> str:
    found = reasons.most_common(1)
    return found[0][0] if found else ""


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertRow:
    """One listed alert."""

    alert_id: str
    """The alert."""
    case_id: str
    """Its case."""
    originator: str
    """Who sent it."""
    category: str
    """Its category, in words."""
    tlp: str
    """``AMBER+STRICT`` style, or empty."""
    tlp_key: str
    """The TLP's style key (``AMBER_STRICT``, ``?``)."""
    recipients: int
    """Recipients it was addressed, shared or refused to."""
    received: int
    """Recipients that accepted it."""
    flags: list[str]
    """Why it is near the top: ``rejected``, ``dead letter``, ``overdue``, ``refused``, ..."""
    slowest: str
    """Its largest latency."""
    traced: bool
    """Whether its trace is embedded."""


def tlp_key(value: str) -> str:
    """``TLP_AMBER_STRICT`` / ``AMBER+STRICT`` / ``amber`` -> ``AMBER_STRICT``; ``?`` if unknown."""
    code = value.upper().replace("+", "_").replace(":", "_").removeprefix("TLP_")
    return code if code in {"RED", "AMBER_STRICT", "AMBER", "GREEN", "CLEAR"} else "?"


def flags(alert: AlertSummary) -> list[str]:
    """What stands out about an alert, in the list's order of importance."""
    counted = (
        ("rejected", alert.rejected),
        ("dead letter", alert.dead_letters),
        ("overdue", alert.overdue),
        ("refused", alert.refused),
    )
    found = [f"{label} {count}" for label, count in counted if count]
    if alert.revoked:
        found.append("revoked")
    if alert.duplicates:
        found.append(f"duplicate {alert.duplicates}")
    return found


def alert_row(alert: AlertSummary, *, traced: bool) -> AlertRow:
    """The list's row for one alert."""
    key = tlp_key(alert.tlp) if alert.tlp else "?"
    return AlertRow(
        alert_id=alert.alert_id,
        case_id=alert.case_id,
        originator=alert.originator,
        category=alert.category.replace("_", " ").lower(),
        tlp="" if not alert.tlp else key.replace("_", "+") if key != "?" else alert.tlp,
        tlp_key=key,
        recipients=len(alert.recipients.split()),
        received=len(alert.received.split()),
        flags=flags(alert),
        slowest=ms(alert.slowest_ms),
        traced=traced,
    )


def listed_alerts(data: ReportData, limit: int = LISTED_ALERTS) -> list[AlertRow]:
    """The rows of the alert list: the most wanted alerts first."""
    return [alert_row(a, traced=a.alert_id in data.traces) for a in data.alerts[:limit]]


def alert_index(data: ReportData) -> Iterator[list[object]]:
    """Every summarised alert, compactly, for the search box: id, case, from, flags, slowest."""
    return (
        [
            a.alert_id,
            a.case_id,
            a.originator,
            ", ".join(flags(a)),
            ms(a.slowest_ms),
            len(a.recipients.split()),
            len(a.received.split()),
        ]
        for a in data.alerts
    )
