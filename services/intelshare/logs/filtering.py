"""Which events to keep: one filter value built from the command's options, one predicate."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from intelshare.contract.events import LOGGED_EVENTS
from intelshare.errors import LogInputError
from intelshare.logs.model import route_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from datetime import datetime

    from intelshare.logs.model import LogEvent


def normalise_tlp(value: str) -> str:
    """Compare TLP spellings alike: ``TLP:AMBER+STRICT``, ``TLP_AMBER_STRICT``, ``amber+strict``."""
    code = value.strip().upper().replace("+", "_").replace(":", "_").replace("-", "_")
    return code.removeprefix("TLP_")


def split_values(values: Iterable[str]) -> frozenset[str]:
    """Accept repeated options and comma-separated lists alike (``-c RS -c MK`` = ``-c RS,MK``)."""
    return frozenset(part.strip() for value in values for part in value.split(",") if part.strip())


def check_event_patterns(patterns: Iterable[str]) -> tuple[str, ...]:
    """Keep event names or globs (``alert.*``) that match a known event; reject typos.

    Raises:
        LogInputError: a name or pattern matches no event of events.py.
    """
    kept = tuple(sorted(split_values(patterns)))
    for pattern in kept:
        if not any(fnmatchcase(name, pattern) for name in LOGGED_EVENTS):
            known = ", ".join(sorted(LOGGED_EVENTS))
            raise LogInputError(f"--event {pattern!r} matches no event; known events: {known}")
    return kept


@dataclass(frozen=True, kw_only=True, slots=True)
class EventFilter:
    """What to keep; an empty set means "any". All given criteria must hold (AND)."""

    countries: frozenset[str] = frozenset()
    """Countries whose service logged the event (upper case)."""
    events: tuple[str, ...] = ()
    """Event names or shell-style patterns such as ``alert.*``."""
    alert_ids: frozenset[str] = frozenset()
    """Alert ids, exact."""
    case_ids: frozenset[str] = frozenset()
    """Case ids, exact."""
    originators: frozenset[str] = frozenset()
    """Countries at the start of the event's hop (see ``route_of``), upper case."""
    recipients: frozenset[str] = frozenset()
    """Countries at the end of the event's hop (see ``route_of``), upper case."""
    categories: frozenset[str] = frozenset()
    """Alert categories (upper case)."""
    tlps: frozenset[str] = frozenset()
    """TLP levels, in :func:`normalise_tlp` form (``AMBER_STRICT``)."""
    handling: frozenset[str] = frozenset()
    """EU handling codes (``H2``) or UK handling codes (``C``), upper case; any one matches."""
    since: datetime | None = None
    """Keep events logged at or after this instant."""
    until: datetime | None = None
    """Keep events logged strictly before this instant (so windows tile without overlap)."""

    @classmethod
    def build(
        cls,
        *,
        countries: Iterable[str] = (),
        events: Iterable[str] = (),
        alert_ids: Iterable[str] = (),
        case_ids: Iterable[str] = (),
        originators: Iterable[str] = (),
        recipients: Iterable[str] = (),
        categories: Iterable[str] = (),
        tlps: Iterable[str] = (),
        handling: Iterable[str] = (),
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> EventFilter:
        """Build a filter from raw option values: split commas, fix case, check event names."""

        def upper(values: Iterable[str]) -> frozenset[str]:
            return frozenset(value.upper() for value in split_values(values))

        return cls(
            countries=upper(countries),
            events=check_event_patterns(events),
            alert_ids=split_values(alert_ids),
            case_ids=split_values(case_ids),
            originators=upper(originators),
            recipients=upper(recipients),
            categories=upper(categories),
            tlps=frozenset(normalise_tlp(value) for value in split_values(tlps)),
            handling=upper(handling),
            since=since,
            until=until,
        )

    def matches(self, event: LogEvent) -> bool:
        """Tell whether ``event`` passes every criterion."""
        return (
            self._time_matches(event)
            and self._names_match(event)
            and self._route_matches(event)
            and self._content_matches(event)
        )

    def _time_matches(self, event: LogEvent) -> bool:
        if self.since is not None and event.timestamp < self.since:
            return False
        return self.until is None or event.timestamp < self.until

    def _names_match(self, event: LogEvent) -> bool:
        if self.countries and event.country.upper() not in self.countries:
            return False
        if self.events and not any(fnmatchcase(event.event, p) for p in self.events):
            return False
        if self.alert_ids and event.alert_id not in self.alert_ids:
            return False
        return not self.case_ids or event.case_id in self.case_ids

    def _route_matches(self, event: LogEvent) -> bool:
        if not self.originators and not self.recipients:
            return True
        source, target = route_of(event)
        if self.originators and (source or "").upper() not in self.originators:
            return False
        return not self.recipients or (target or "").upper() in self.recipients

    def _content_matches(self, event: LogEvent) -> bool:
        if self.categories and (event.text("category") or "").upper() not in self.categories:
            return False
        if self.tlps and normalise_tlp(event.text("tlp") or "") not in self.tlps:
            return False
        return not self.handling or self._handling_matches(event)

    def _handling_matches(self, event: LogEvent) -> bool:
        codes = {code.upper() for code in event.texts("eu_handling")}
        uk = event.text("uk_handling")
        if uk is not None:
            codes.add(uk.upper())
        return not codes.isdisjoint(self.handling)

    def apply(self, events: Iterable[LogEvent]) -> Iterator[LogEvent]:
        """Stream the events that match."""
        return (event for event in events if self.matches(event))
