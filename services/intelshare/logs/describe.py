"""Short human wording for events, shared by the table, the trace and the HTML report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from intelshare.logs.model import LogEvent

COUNTRY_NAMES: Final = {
    "AL": "Albania",
    "AT": "Austria",
    "BA": "Bosnia and Herzegovina",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "CH": "Switzerland",
    "DE": "Germany",
    "FR": "France",
    "GB": "United Kingdom",
    "GR": "Greece",
    "HR": "Croatia",
    "HU": "Hungary",
    "IT": "Italy",
    "ME": "Montenegro",
    "MK": "North Macedonia",
    "NL": "Netherlands",
    "RO": "Romania",
    "RS": "Serbia",
    "SI": "Slovenia",
    "TR": "Türkiye",
    "XK": "Kosovo",
}
"""Names shown beside country codes; an unknown code is shown as itself."""

LABELS: Final = {
    "alert.sent": "sent",
    "alert.refused": "refused",
    "consent.requested": "consent asked",
    "consent.granted": "consent granted",
    "alert.shared_onward": "shared onward",
    "alert.received": "received",
    "alert.rejected": "rejected",
    "alert.revoked": "revoked",
    "alert.duplicate": "duplicate",
    "receipt.sent": "receipt sent",
    "receipt.received": "receipt in",
    "receipt.overdue": "receipt overdue",
    "message.deadlettered": "dead letter",
}
"""One or two words per event name for narrow columns."""


def country_name(code: str | None) -> str:
    """The country's English name, or the code itself when it is not in the table."""
    if not code:
        return "?"
    return COUNTRY_NAMES.get(code.upper(), code)


def handling_label(event: LogEvent) -> str:
    """The handling codes an event carries, compactly: ``AMBER H0 H2 P``."""
    parts: list[str] = []
    tlp = event.text("tlp")
    if tlp:
        parts.append(tlp.removeprefix("TLP_").replace("_STRICT", "+STRICT"))
    parts.extend(event.texts("eu_handling"))
    uk = event.text("uk_handling")
    if uk:
        parts.append(uk)
    return " ".join(parts)


def _what(event: LogEvent) -> str:
    kind = (event.text("message_type") or "").lower()
    revision = event.text("revision")
    return f"{kind} rev {revision}" if kind and revision and kind != "alert" else "alert"


def _q(event: LogEvent, key: str) -> str:
    return event.text(key) or "?"


def _hops(event: LogEvent) -> str:
    return ">".join(event.texts("hop_path"))


def _received(event: LogEvent) -> str:
    via = f" via {_hops(event)}" if event.texts("hop_path") else ""
    return f"{_what(event)} from {_q(event, 'originator')}{via} [{handling_label(event)}]"


def _consent(event: LogEvent) -> str:
    verb = "asks to" if event.event == "consent.requested" else "may"
    return (
        f"{_q(event, 'receipt_from')} {verb} share onward to {_q(event, 'recipient')}"
        f" ({_q(event, 'consent_id')})"
    )


_SENTENCES: Final[dict[str, Callable[[LogEvent], str]]] = {
    "alert.sent": lambda e: f"{_what(e)} to {_q(e, 'recipient')} [{handling_label(e)}]",
    "alert.refused": lambda e: (
        f"not sent to {_q(e, 'recipient')}: {_q(e, 'rule')} ({e.text('reason') or ''})"
    ),
    "alert.received": _received,
    "alert.rejected": lambda e: (
        f"rejected from {_q(e, 'originator')}: {_q(e, 'rule')} ({e.text('reason') or ''})"
    ),
    "alert.revoked": lambda e: f"stopped using it: revoked by {_q(e, 'originator')}",
    "alert.duplicate": lambda e: f"redelivery of rev {_q(e, 'revision')} suppressed",
    "receipt.sent": lambda e: f"answered {_q(e, 'originator')}: {_q(e, 'status')}",
    "receipt.received": lambda e: f"{_q(e, 'receipt_from')} answered: {_q(e, 'status')}",
    "receipt.overdue": lambda e: f"no receipt from {_q(e, 'recipient')} (due {_q(e, 'due')})",
    "consent.requested": _consent,
    "consent.granted": _consent,
    "alert.shared_onward": lambda e: f"shared onward to {_q(e, 'recipient')}, path {_hops(e)}",
    "message.deadlettered": lambda e: f"{e.text('error_type') or 'error'}: {e.text('error') or ''}",
}


def describe(event: LogEvent) -> str:
    """One line saying what happened, in words, from the logging country's point of view."""
    sentence = _SENTENCES.get(event.event)
    return sentence(event) if sentence is not None else event.event


def clock_time(value: datetime | None, *, date: bool = True) -> str:
    """``2026-11-28 09:00:00.123`` (or only the time of day); empty when unknown."""
    if value is None:
        return ""
    text = value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return text if date else text[11:]
