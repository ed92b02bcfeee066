from __future__ import annotations

import json
import re
from pathlib import Path

from intelshare.contract import events
from intelshare.logs.lines import ReadCounts, line_event

LNAV = Path(__file__).parents[2] / "contrib" / "lnav" / "intelshare.json"


def test_lnav_format_declares_every_field_of_the_event_contract():
    """The lnav format knows every field events.py documents, so none shows as unknown."""
    fmt = json.loads(LNAV.read_text())["intelshare_log"]
    documented = set(re.findall(r"``([a-z_]+)``", events.__doc__ or ""))
    documented -= {"intel", "ALERT", "UPDATE", "REVOCATION", "info", "warning", "error"}
    documented -= {"producer", "consumer", "null", "created_at"}  # words, not fields
    assert {"alert_id", "latency_ms", "receipt_from"} <= documented  # the doc is still read
    assert documented <= set(fmt["value"]), documented - set(fmt["value"])
    assert fmt["timestamp-field"] == "timestamp"
    assert fmt["level-field"] == "level"


def test_lnav_samples_are_events_the_reader_accepts():
    """The format's sample lines are valid intelshare events (lnav checks the pattern on them)."""
    samples = json.loads(LNAV.read_text())["intelshare_log"]["sample"]
    counts = ReadCounts()
    parsed = [line_event(s["line"], source="sample", line=1, counts=counts) for s in samples]
    assert all(event is not None for event in parsed)
    assert counts.events == len(samples) == 2
