from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from intelshare.logs.reader import read_events
from intelshare.logs.sketch import LatencySketch
from intelshare.logs.stats import Refusal, compute_stats

FIXTURES = Path(__file__).parent / "fixtures" / "logs"
SOURCES = [str(FIXTURES / "story"), str(FIXTURES / "compose.txt")]


@pytest.fixture(scope="module")
def stats():
    """The figures over the whole story fixture."""
    return compute_stats(read_events(SOURCES))


def test_matrix_of_sent_and_received_matches_the_fixture(stats):
    """Sent counts alerts and updates per route; revocations apart; received per route."""
    assert stats.sent == {("GB", "RS"): 2, ("GB", "MK"): 1, ("TR", "GB"): 1}
    assert stats.revocations_sent == {("GB", "RS"): 1, ("GB", "MK"): 1}
    assert stats.received == {
        ("GB", "RS"): 1,
        ("GB", "MK"): 1,
        ("GB", "HU"): 1,
        ("TR", "GB"): 1,
    }
    assert stats.onward == {("RS", "HU"): 1}
    assert stats.sent_by_tlp == {
        (("GB", "RS"), "TLP_AMBER"): 1,
        (("GB", "RS"), "TLP_RED"): 1,
        (("GB", "MK"), "TLP_AMBER"): 1,
        (("TR", "GB"), "TLP_GREEN"): 1,
    }
    assert stats.countries == ("GB", "HU", "MK", "RS", "TR", "XK")


def test_refusals_dead_letters_duplicates_and_overdue_match_the_fixture(stats):
    """Refusals by rule and route, dead letters, duplicates and overdue receipts are counted."""
    assert stats.refusals == {
        Refusal(event="alert.refused", rule="category-not-covered", route=("GB", "XK")): 1,
        Refusal(event="alert.rejected", rule="handling-above-cap", route=("GB", "RS")): 1,
        Refusal(event="alert.refused", rule="no-agreement", route=("RS", "XK")): 1,
    }
    assert stats.refusals_by_rule() == {
        "category-not-covered": (1, 0),
        "handling-above-cap": (0, 1),
        "no-agreement": (1, 0),
    }
    assert stats.reasons["no-agreement"] == "no agreement between RS and XK"
    assert stats.dead_letters == {"RS": 1}
    assert stats.dead_letter_types == {"CorruptBody": 1}
    assert stats.duplicates == {"MK": 1}
    assert stats.revoked == {"RS": 1, "MK": 1}
    assert stats.overdue == {("GB", "MK"): 1}
    assert stats.receipts == {"RECEIVED": 1}
    assert sum(stats.events.values()) == 26


def test_latency_per_route_comes_from_received_events_only(stats):
    """Latency rows use alert.received's latency_ms (not rejections, revocations, receipts)."""
    rows = {row.route: row for row in stats.latency}
    assert set(rows) == {("GB", "RS"), ("GB", "MK"), ("GB", "HU"), ("TR", "GB")}
    assert (rows["GB", "RS"].count, rows["GB", "RS"].max, rows["GB", "RS"].p50) == (1, 312.0, 312.0)
    assert rows["GB", "HU"].p99 == 600.0
    assert all(row.exact for row in rows.values())
    assert stats.first is not None
    assert stats.last is not None
    assert (stats.first.isoformat(), stats.last.isoformat()) == (
        "2026-11-28T09:00:00.100000+00:00",
        "2026-11-28T09:10:00+00:00",
    )


def _nearest_rank(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def test_sketch_is_exact_by_nearest_rank_while_small():
    """Up to the exact limit, percentiles are the nearest-rank values themselves."""
    sketch = LatencySketch()
    for value in range(100, 0, -1):
        sketch.add(float(value))
    assert sketch.exact
    assert sketch.quantiles((0.5, 0.95, 0.99, 1.0)) == (50.0, 95.0, 99.0, 100.0)
    assert (sketch.count, sketch.max, sketch.min, sketch.total) == (100, 100.0, 1.0, 5050.0)
    assert LatencySketch().quantile(0.5) is None


def test_sketch_stays_within_one_percent_once_bucketed():
    """Past the exact limit every percentile is within 1 % of the exact nearest-rank value."""
    rng = random.Random(7)  # noqa: S311 - reproducible test data, not secrets
    values = [rng.lognormvariate(5, 1.2) for _ in range(5000)] + [0.0] * 20
    sketch = LatencySketch(exact_limit=100)
    for value in values:
        sketch.add(value)
    assert not sketch.exact
    for q in (0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999):
        exact = _nearest_rank(values, q)
        estimate = sketch.quantile(q)
        assert estimate is not None
        assert abs(estimate - exact) <= 0.01 * exact, q
    assert sketch.quantile(1.0) == max(values)
    assert sketch.quantile(0.001) == 0.0


def test_real_onward_refusal_counts_on_the_hop_it_was_refused():
    """An onward share refused for lack of consent is counted on RS>HU, not on GB>HU."""
    onward = FIXTURES / "captured" / "onward"
    figures = compute_stats(read_events([str(onward)]))
    assert figures.refusals == {
        Refusal(event="alert.refused", rule="onward-needs-consent", route=("RS", "HU")): 1
    }
    assert figures.onward == {("RS", "HU"): 1}
    assert figures.received == {("GB", "RS"): 1, ("GB", "HU"): 1}
