"""What a replay shows: the timeline of a dry run, the results table, the totals line.

Kept apart from the engine so the engine returns values and only this module knows rich.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich.table import Table

from intelshare.contract import events as ev
from intelshare.durations import format_duration
from intelshare.scenario.expectations import Status
from intelshare.scenario.files import PauseStep

if TYPE_CHECKING:
    from intelshare.replay.engine import ReplayReport
    from intelshare.scenario.timeline import TimelineEntry

_LATENCY_KINDS = frozenset({"receives", "receipt", "revoked"})
"""Expectations whose observed time is a latency (how long after sending)."""
_VERBS = {
    "alert": "alert",
    "receipt": "receipt",
    "consent_request": "consent?",
    "share_onward": "onward",
}


def timeline_line(entry: TimelineEntry) -> str:
    """One line of a dry run: when, who, what, about which alert, to whom."""
    at = f"+{format_duration(entry.step.at):<9}"
    stamp = entry.time.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(entry.step, PauseStep):
        return f"{at} {stamp}  --  pause    {format_duration(entry.step.duration)}"
    message = entry.message
    assert message is not None
    record = message.record
    verb = _VERBS[message.kind]
    detail = ""
    if message.kind == "alert":
        kind = str(record["message_type"]).lower()
        verb = "alert" if kind == "alert" else kind
        detail = f"  {record['category']} {record['tlp']} {record['priority']}"
    elif message.kind == "receipt":
        detail = f"  {record['status']}"
    revision = f"r{record.get('revision', 1)}"
    to = ", ".join(message.to)
    return (
        f"{at} {stamp}  {message.sender}  {verb:<10} {message.name:<22} "
        f"{message.alert_id} {revision}  -> {to}{detail}"
    )


def timeline_json(entry: TimelineEntry) -> str:
    """One JSON line of a dry run with the full record (``--records``)."""
    message = entry.message
    payload: dict[str, Any] = {
        "at": format_duration(entry.step.at),
        "step": entry.step.index,
        "kind": "pause" if message is None else message.kind,
    }
    if message is not None:
        payload |= {"sender": message.sender, "to": list(message.to), "name": message.name}
        payload["record"] = message.record
    return json.dumps(payload, default=_json_value, ensure_ascii=False, sort_keys=True)


def _json_value(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if callable(isoformat) else str(value)


def results_table(report: ReplayReport) -> Table:
    """Expectation, result, observed time: one row per expectation, in file order."""
    table = Table(
        title="expectations (observed: latency after sending, or time since the replay began)",
        title_justify="left",
    )
    table.add_column("line", justify="right", style="dim")
    table.add_column("expectation")
    table.add_column("result")
    table.add_column("observed")
    table.add_column("detail", style="dim")
    for result in report.results:
        met = result.status is Status.MET
        observed = result.observed
        timed = result.expectation.kind in _LATENCY_KINDS and result.latency is not None
        if not timed and result.first_at is not None:
            since = (result.first_at - report.started_at).total_seconds()
            observed = f"at +{since:.3f}s"
        table.add_row(
            str(result.expectation.where.line),
            result.expectation.text,
            "[green]met[/]" if met else "[bold red]FAILED[/]",
            observed,
            result.detail,
        )
    return table


def totals_line(report: ReplayReport) -> str:
    """Messages, throughput and what the services logged, in one line."""
    counts = report.counts

    def count(name: str) -> int:
        return int(counts.get(name, 0))

    return (
        f"{report.published} messages published in {report.publish_seconds:.2f} s "
        f"({_rate(report.throughput)}/s); copies sent {count(ev.ALERT_SENT)}, "
        f"received {count(ev.ALERT_RECEIVED)}, revoked {count(ev.ALERT_REVOKED)}, "
        f"refused {count(ev.ALERT_REFUSED)}, rejected {count(ev.ALERT_REJECTED)}, "
        f"receipts {count(ev.RECEIPT_RECEIVED)}, dead letters {count(ev.MESSAGE_DEADLETTERED)}; "
        f"verdict after {report.total_seconds:.1f} s"
    )


def _rate(per_second: float) -> str:
    return f"{per_second:,.0f}" if per_second >= 100 else f"{per_second:.2g}"  # noqa: PLR2004


def duplicates_hint(report: ReplayReport, seed: str) -> str | None:
    """Why alerts went missing when consumers had seen this seed's alerts before."""
    if not report.duplicates:
        return None
    where = ", ".join(f"{c} ({n})" for c, n in sorted(report.duplicates.items()))
    return (
        f"consumers had already handled alerts of this replay: {where}. The same seed "
        f"({seed}) gives the same alert ids; replay with another --seed to send new ones."
    )


def silence_hint(report: ReplayReport) -> str | None:
    """One line when some (or every) country sent something logged no arrival at all."""
    silent = report.unanswered
    if not silent:
        return None
    sent = sum(report.addressed[c] for c in silent)
    if not any(report.answered.values()):
        return (
            f"no consumer answered: none of the {sent} messages sent to "
            f"{', '.join(silent)} was logged as arriving; are the consumers running on this "
            "broker and topic prefix (intelshare consumer --country CC), or replay with "
            "--with-consumers?"
        )
    return (
        f"no answer from {', '.join(silent)} ({sent} messages sent to them, none logged as "
        "arriving); is their consumer running on this broker and topic prefix?"
    )
