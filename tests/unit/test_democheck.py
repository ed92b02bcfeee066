"""Judging a run from its events: the demo's done-criterion."""

from __future__ import annotations

import json

from intelshare.demo.check import check_events, folder_events
from intelshare.network.model import default_network


def sent(alert: str, to: str, *, originator: str = "GB") -> dict:
    """An alert.sent event."""
    return {
        "event": "alert.sent",
        "country": originator,
        "alert_id": alert,
        "revision": 1,
        "recipient": to,
    }


def received(
    alert: str, at: str, *, originator: str = "GB", category: str = "MODUS_OPERANDI"
) -> dict:
    """An alert.received event."""
    return {
        "event": "alert.received",
        "country": at,
        "alert_id": alert,
        "revision": 1,
        "originator": originator,
        "category": category,
        "tlp": "TLP_GREEN",
    }


def receipt(alert: str, by: str, *, originator: str = "GB") -> dict:
    """A receipt.received event at the originator."""
    return {
        "event": "receipt.received",
        "country": originator,
        "alert_id": alert,
        "revision": 1,
        "receipt_from": by,
    }


def test_a_clean_run_passes() -> None:
    """Sent, received under an agreement, answered: no problems."""
    report = check_events(
        default_network(), [sent("A", "RS"), received("A", "RS"), receipt("A", "RS")]
    )

    assert report.ok
    assert (report.sent, report.received, report.receipts) == (1, 1, 1)


def test_each_broken_rule_is_reported() -> None:
    """Unaddressed arrival, arrival without agreement, double log, missing receipt, dead letter."""
    events = [
        sent("A", "RS"),
        received("A", "RS"),
        received("A", "RS"),
        received("B", "MK"),
        sent("C", "XK", originator="RS"),
        received("C", "XK", originator="RS"),
        receipt("C", "XK", originator="RS"),
        {
            "event": "message.deadlettered",
            "country": "RS",
            "topic": "t",
            "partition": 0,
            "offset": 3,
            "error": "bad",
        },
    ]

    problems = check_events(default_network(), events).problems

    assert any("RS logged A r1 as received 2 times" in p for p in problems)
    assert any("MK logged B r1 but no alert.sent" in p for p in problems)
    assert any("XK got C r1 without a covering agreement" in p for p in problems)
    assert any("A r1 sent to RS: no receipt" in p for p in problems)
    assert any("dead letter" in p for p in problems)


def test_events_are_read_from_a_log_folder(tmp_path) -> None:
    """folder_events takes the audit events of the folder's log files and skips other lines."""
    stamp = {"timestamp": "2026-11-28T09:00:00.000Z"}
    (tmp_path / "consumer-RS.log").write_text(
        json.dumps(received("A", "RS") | stamp)
        + "\nnot json\n"
        + json.dumps({"event": "consumer.started", "country": "RS"} | stamp)
        + "\n"
    )
    (tmp_path / "notes.txt").write_text(json.dumps(sent("A", "RS")))

    assert [e["event"] for e in folder_events(tmp_path)] == ["alert.received"]
