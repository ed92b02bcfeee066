"""Check filter, stats and trace against logs, line for line, with an independent reading.

The expected values here come from a deliberately naive second reading of the same files
(regexes and ``json.loads``, nothing from ``intelshare.logs``), so a bug in the reader would
show up as a disagreement rather than be repeated on both sides.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from intelshare.cli import app
from intelshare.contract.events import LOGGED_EVENTS

FIXTURES = Path(__file__).parent / "fixtures" / "logs"
CAPTURES = {
    "hand-written": [FIXTURES / "story" / "gb.log", FIXTURES / "story" / "rs" / "consumer-rs.jsonl",
                     FIXTURES / "compose.txt"],
}  # fmt: skip
"""Each capture: its files in reading order. A real demo capture is added beside."""
for demo in sorted((FIXTURES / "captured").glob("*")) if (FIXTURES / "captured").exists() else []:
    if demo.is_dir():
        CAPTURES[demo.name] = sorted(p for p in demo.iterdir() if p.suffix in {".log", ".jsonl"})

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PREFIX = re.compile(r"^[\w.-]+\s*\|\s?(\d{4}-\d\d-\d\dT\S+\s)?")


def naive_events(paths: list[Path]) -> list[tuple[str, int, dict]]:
    """Every intelshare event in the files as (file, line, object), read the simple way."""
    found = []
    for path in paths:
        for number, raw in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            text = PREFIX.sub("", ANSI.sub("", raw).strip()).strip()
            try:
                obj = json.loads(text)
            except ValueError:
                continue
            if isinstance(obj, dict) and "log" in obj and "stream" in obj:
                try:
                    obj = json.loads(obj["log"])
                except ValueError:
                    continue
            if (
                isinstance(obj, dict)
                and obj.get("event") in LOGGED_EVENTS
                and isinstance(obj.get("timestamp"), str)
                and isinstance(obj.get("country"), str)
            ):
                found.append((str(path), number, obj))
    return found


def nearest_rank(values: list[float], q: float) -> float:
    """The q-quantile by the nearest-rank rule."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


KEYS = {
    "alert.received": ("received", lambda o: f"{o.get('originator', '?')}>{o['country']}"),
    "alert.refused": ("refused", lambda o: o["rule"]),
    "alert.rejected": ("rejected", lambda o: o["rule"]),
    "message.deadlettered": ("dead", lambda o: o["country"]),
    "alert.duplicate": ("duplicates", lambda o: o["country"]),
    "receipt.overdue": ("overdue", lambda o: f"{o['country']}>{o['recipient']}"),
}
"""Per event name: which naive counter it goes to and under which key."""


def naive_counts(events: list[tuple[str, int, dict]]) -> dict[str, Counter]:
    """The stats' counters, counted directly from the objects."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for _, _, obj in events:
        name = obj["event"]
        if name == "alert.sent" and obj.get("message_type") != "REVOCATION":
            counts["sent"][f"{obj['country']}>{obj['recipient']}"] += 1
        elif name in KEYS:
            counter, key = KEYS[name]
            counts[counter][key(obj)] += 1
    return counts


def naive_latency(events: list[tuple[str, int, dict]]) -> dict[str, list[float]]:
    """Latencies of accepted alerts per route, as logged."""
    latency: dict[str, list[float]] = defaultdict(list)
    for _, _, obj in events:
        value = obj.get("latency_ms")
        if obj["event"] == "alert.received" and isinstance(value, int | float):
            latency[f"{obj.get('originator', '?')}>{obj['country']}"].append(float(value))
    return latency


def run(*args: str) -> str:
    """Run ``intelshare logs ...`` and return its stdout."""
    result = CliRunner().invoke(app, ["logs", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(params=sorted(CAPTURES), ids=str)
def capture(request: pytest.FixtureRequest) -> tuple[list[str], list[tuple[str, int, dict]]]:
    """A capture's file names and its independently read events."""
    paths = CAPTURES[request.param]
    events = naive_events(paths)
    # An empty capture would let every comparison below pass on two empty sides.
    assert events, f"{request.param}: no events in {paths}"
    return [str(p) for p in paths], events


def test_filter_by_each_country_and_event_matches_line_for_line(capture):
    """For every country and every event name, the filter prints exactly the matching lines."""
    files, events = capture
    for key in ("country", "event"):
        for value in sorted({obj[key] for _, _, obj in events}):
            out = run("-q", "-f", "csv", f"--{key}", value, *files)
            got = [(row.split(",")[-2], int(row.split(",")[-1])) for row in out.splitlines()[1:]]
            expected = [(name, line) for name, line, obj in events if obj[key] == value]
            assert got == expected, (key, value)


def test_jsonl_output_is_the_logged_objects_in_input_order(capture):
    """Unfiltered JSON-lines output equals the logged objects, one for one, in order."""
    files, events = capture
    out = run("-q", "-f", "jsonl", *files)
    assert [json.loads(line) for line in out.splitlines()] == [obj for _, _, obj in events]


def test_stats_match_an_independent_count(capture):
    """Sent/received per route, refusals, dead letters, duplicates, overdue and latency agree."""
    files, events = capture
    figures = json.loads(run("stats", "-q", "-f", "json", *files))
    count = naive_counts(events)
    sent, received = count["sent"], count["received"]
    refused, rejected = count["refused"], count["rejected"]
    dead, duplicates, overdue = count["dead"], count["duplicates"], count["overdue"]
    latency = naive_latency(events)
    assert figures["sent"] == dict(sent)
    assert figures["received"] == dict(received)
    assert figures["refusals_by_rule"] == {
        rule: {"refused": refused[rule], "rejected": rejected[rule]}
        for rule in sorted({*refused, *rejected})
    }
    assert figures["dead_letters"] == dict(dead)
    assert figures["duplicates"] == dict(duplicates)
    assert figures["overdue"] == dict(overdue)
    assert figures["events"] == dict(Counter(obj["event"] for _, _, obj in events))
    for route, values in latency.items():
        row = figures["latency_ms"][route]
        assert row["count"] == len(values)
        assert row["max"] == max(values)
        for q, key in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
            assert row[key] == nearest_rank(values, q), (route, key)
    assert set(figures["latency_ms"]) == set(latency)


def test_traces_list_exactly_their_lines_in_time_order(capture):
    """A spread of alerts: each trace is exactly its lines, by timestamp (ties in input order)."""
    files, events = capture
    alerts = sorted({obj["alert_id"] for _, _, obj in events if "alert_id" in obj})
    assert alerts
    for alert in alerts[:: max(1, len(alerts) // 12)]:  # a spread of alerts, bounded in time
        found = json.loads(run("trace", alert, "-q", "-f", "json", *files))
        mine = [
            (obj["timestamp"], index, name, line)
            for index, (name, line, obj) in enumerate(events)
            if alert in (obj.get("alert_id"), obj.get("case_id"))
        ]
        expected = [(name, line) for *_, name, line in sorted(mine)]
        assert [(s["source"], s["line"]) for s in found["steps"]] == expected, alert


def test_demo_capture_totals_match_the_demos_own_summary():
    """On the captured demo, stats agree with the summary the demo printed when it ended."""
    files = [str(path) for path in CAPTURES["demo"]]
    figures = json.loads(run("stats", "-q", "-f", "json", *files))
    sent_copies = sum(figures["sent"].values()) + sum(figures["revocations_sent"].values())
    assert sent_copies == 109
    assert sum(figures["received"].values()) == 108
    assert sum(figures["revoked"].values()) == 1
    assert figures["events"]["receipt.received"] == 109
    assert figures["refusals_by_rule"] == {"no-agreement": {"refused": 1, "rejected": 0}}
    assert figures["dead_letters"] == {}


def test_replay_capture_totals_match_the_replays_own_summary():
    """On the captured replay, stats agree with the counts the replay printed when it ended."""
    files = [str(path) for path in CAPTURES["replay"]]
    figures = json.loads(run("stats", "-q", "-f", "json", *files))
    sent_copies = sum(figures["sent"].values()) + sum(figures["revocations_sent"].values())
    assert sent_copies == 16
    assert sum(figures["received"].values()) == 15
    assert sum(figures["revoked"].values()) == 2
    assert sum(r["refused"] for r in figures["refusals_by_rule"].values()) == 3
    assert sum(r["rejected"] for r in figures["refusals_by_rule"].values()) == 0
    assert figures["events"]["receipt.received"] == 17
    assert figures["dead_letters"] == {}
