"""The report's one pass: every alert counted, the most wanted first, traces within budget."""

from __future__ import annotations

from intelshare.logs.model import to_event
from intelshare.logs.report.collect import ReportCollector
from intelshare.logs.report.tables import listed_alerts, refusal_rules


def _event(name: str, alert: str, second: int, **fields: object):
    obj = {
        "timestamp": f"2026-11-28T09:00:{second:02d}.000Z",
        "event": name,
        "country": fields.pop("country", "GB"),
        "alert_id": alert,
        "originator": "GB",
        **fields,
    }
    event = to_event(obj, source="x.log", line=second + 1)
    assert event is not None
    return event


def _story() -> list:
    return [
        _event("alert.sent", "PLAIN", 1, recipient="RS"),
        _event("alert.received", "PLAIN", 2, country="RS", latency_ms=40.0),
        _event("alert.sent", "SLOW", 3, recipient="RS"),
        _event("alert.received", "SLOW", 4, country="RS", latency_ms=9000.0),
        _event("alert.sent", "REVOKED", 5, recipient="RS"),
        _event("alert.revoked", "REVOKED", 6, country="RS"),
        _event("alert.refused", "REFUSED", 7, recipient="XK", rule="no-agreement",
               reason="no agreement between GB and XK"),
        _event("receipt.overdue", "OVERDUE", 8, recipient="MK"),
        _event("alert.rejected", "REJECTED", 9, country="RS", rule="handling-above-cap",
               reason="TLP:RED is above the GB-RS cap"),
        _event("alert.refused", "REFUSED", 10, recipient="AL", rule="no-agreement",
               reason="no agreement between GB and AL"),
    ]  # fmt: skip


def test_alerts_are_ordered_problems_overdue_refused_revoked_slowest():
    """The list starts with what a reader wants: problems, overdue, refused, revoked, slowest."""
    data = ReportCollector().add_all(_story()).result()
    assert [a.alert_id for a in data.alerts] == [
        "REJECTED",
        "OVERDUE",
        "REFUSED",
        "REVOKED",
        "SLOW",
        "PLAIN",
    ]
    assert [row.flags for row in listed_alerts(data)][:3] == [
        ["rejected 1"],
        ["overdue 1"],
        ["refused 2"],
    ]


def test_alerts_beyond_the_summary_cap_are_still_counted_exactly():
    """With room for two summaries, six alerts are counted as six."""
    data = ReportCollector(max_alerts=2).add_all(_story()).result()
    assert len(data.alerts) == 2
    assert data.alerts_total == 6


def test_trace_budget_keeps_the_most_telling_alerts():
    """Over a budget of four events, the boring alerts' events go first."""
    data = ReportCollector(max_trace_events=4).add_all(_story()).result()
    assert "REJECTED" in data.traces
    assert "OVERDUE" in data.traces
    assert "PLAIN" not in data.traces


def test_each_refusal_route_keeps_its_own_reason():
    """A rule's routes are folded into one row, each with the reason logged on it."""
    data = ReportCollector().add_all(_story()).result()
    rows = {row.rule: row for row in refusal_rules(data.stats)}
    assert rows["no-agreement"].before_sending == 2
    assert [(r.route, r.reason) for r in rows["no-agreement"].routes] == [
        ("GB → AL", "no agreement between GB and AL"),
        ("GB → XK", "no agreement between GB and XK"),
    ]
    assert rows["handling-above-cap"].on_arrival == 1
