from __future__ import annotations

import textwrap
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from intelshare.scenario.expectations import Evaluator, Status, evaluate
from intelshare.scenario.files import check_scenario

if TYPE_CHECKING:
    from pathlib import Path

    from intelshare.scenario.expectations import Expectation

VAN = "TR-AAAAAAAAAAAA"
KOSOVO = "RS-BBBBBBBBBBBB"
IDS = {"van": VAN, "kosovo": KOSOVO}

SCENARIO = """\
name: recorded
steps:
  - alert: van
    from: TR
    to: [GB, RS]
    category: MODUS_OPERANDI
    tlp: TLP_GREEN
  - alert: kosovo
    from: RS
    to: [GB, XK]
    category: MODUS_OPERANDI
    tlp: TLP_GREEN
    expect: refused
expect:
  - receives: {country: RS, alert: van, within: 2s}
  - receives: {country: GB, alert: van, within: 1s}
  - never_receives: {country: XK, alert: kosovo}
  - receipt: {to: TR, from: RS, alert: van, status: HIT}
  - refused: {from: RS, to: XK, alert: kosovo, rule: no-agreement}
  - rejected: {country: GB, alert: kosovo}
  - count: {event: alert.received, country: GB, at_least: 1}
  - count: {event: alert.sent, equals: 3}
  - no_dead_letters: true
"""


def event(name: str, second: float, **fields: Any) -> dict[str, Any]:
    """An audit event as services log it, at 09:00:00 plus ``second``."""
    millis = round(second * 1000)
    stamp = f"2026-11-28T09:00:{millis // 1000:02d}.{millis % 1000:03d}Z"
    return {"timestamp": stamp, "level": "info", "event": name, **fields}


RECORDED = [
    event("alert.sent", 0.0, country="TR", alert_id=VAN, recipient="GB", revision=1),
    event("alert.sent", 0.0, country="TR", alert_id=VAN, recipient="RS", revision=1),
    event("alert.received", 0.4, country="RS", alert_id=VAN, revision=1),
    event("alert.received", 1.5, country="GB", alert_id=VAN, revision=1),
    event("receipt.received", 2.0, country="TR", receipt_from="RS", alert_id=VAN, status="HIT"),
    event("alert.refused", 3.0, country="RS", recipient="XK", alert_id=KOSOVO, rule="no-agreement"),
    event("alert.sent", 3.0, country="RS", recipient="GB", alert_id=KOSOVO, revision=1),
    event("alert.received", 3.2, country="GB", alert_id=KOSOVO, revision=1),
    event("alert.received", 3.3, country="MK", alert_id="OTHER-ALERT", revision=1),
]


@pytest.fixture(scope="module")
def expectations(tmp_path_factory: pytest.TempPathFactory) -> tuple[Expectation, ...]:
    """The expectations of the scenario above, as the checker reads them."""
    path: Path = tmp_path_factory.mktemp("expect") / "recorded.yaml"
    path.write_text(textwrap.dedent(SCENARIO), encoding="utf-8")
    report = check_scenario(path)
    assert report.ok, [str(p) for p in report.problems]
    assert report.scenario is not None
    return report.scenario.expectations


def test_results_over_a_recorded_run(expectations: tuple[Expectation, ...]) -> None:
    """Each expectation is met or failed as the recorded events say, with a reason."""
    results = evaluate(expectations, IDS, RECORDED)
    outcome = {r.expectation.text: (r.status, r.detail) for r in results}
    assert outcome == {
        "RS receives van within 2s": (Status.MET, "1 seen"),
        "GB receives van within 1s": (Status.FAILED, "took 1s500ms, more than 1s"),
        "XK never receives kosovo": (Status.MET, "0 seen"),
        "TR gets a receipt (HIT) from RS for van": (Status.MET, "1 seen"),
        "RS refuses kosovo to XK (no-agreement)": (Status.MET, "1 seen"),
        "GB rejects kosovo": (Status.FAILED, "never seen"),
        "count alert.received country=GB: at least 1": (Status.MET, "2 seen"),
        "count alert.sent: equals 3": (Status.MET, "3 seen"),
        "no dead letters": (Status.MET, "0 seen"),
    }


def test_latency_is_measured_from_the_send_to_that_country(
    expectations: tuple[Expectation, ...],
) -> None:
    """``within`` starts the clock at the alert.sent of the same alert to the same recipient."""
    results = evaluate(expectations, IDS, RECORDED)
    assert results[0].latency == timedelta(milliseconds=400)
    assert results[0].observed == "0.400s after sending"
    assert results[2].observed == "-"


def test_the_events_own_latency_wins(expectations: tuple[Expectation, ...]) -> None:
    """An event's latency_ms (from the alert's creation) is the latency, when it has one."""
    timed = [{**e, "latency_ms": 12.5} if e["event"] == "alert.received" else e for e in RECORDED]
    results = evaluate(expectations, IDS, timed)
    assert results[1].latency == timedelta(milliseconds=12.5)
    assert results[1].status is Status.MET


def test_a_received_alert_breaks_never_receives(expectations: tuple[Expectation, ...]) -> None:
    """never_receives fails as soon as the country logs the alert as received."""
    leaked = [*RECORDED, event("alert.received", 4.0, country="XK", alert_id=KOSOVO, revision=1)]
    never = evaluate(expectations, IDS, leaked)[2]
    assert never.status is Status.FAILED
    assert never.detail == "1 seen, none expected"
    assert never.observed == "09:00:04.000"


def test_a_dead_letter_breaks_no_dead_letters(expectations: tuple[Expectation, ...]) -> None:
    """Any dead letter in the replay's window fails no_dead_letters, whatever alert it was."""
    letter = event("message.deadlettered", 5.0, country="GB", error="bad marker")
    assert evaluate(expectations, IDS, [*RECORDED, letter])[-1].status is Status.FAILED


def test_standing_before_the_end(expectations: tuple[Expectation, ...]) -> None:
    """Mid-run, positive expectations wait (pending) and negative ones hold until the end."""
    evaluator = Evaluator(expectations, IDS)
    for recorded in RECORDED[:3]:
        evaluator.observe(recorded)
    statuses = [r.status for r in evaluator.results()]
    assert statuses[0] is Status.MET
    assert statuses[1] is Status.PENDING
    assert statuses[2] is Status.HOLDING
    assert statuses[-1] is Status.HOLDING
    assert evaluator.undecided() == 6


def test_receipt_status_must_match(expectations: tuple[Expectation, ...]) -> None:
    """A receipt with another status does not meet an expectation that names the status."""
    received = [
        {**e, "status": "RECEIVED"} if e["event"] == "receipt.received" else e for e in RECORDED
    ]
    assert evaluate(expectations, IDS, received)[3].status is Status.FAILED


def test_a_failure_says_what_happened_instead(tmp_path: Path) -> None:
    """A missing receipt of an alert the recipient rejected names the rejection and its rule."""
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: x\nsteps:\n  - alert: van\n    from: TR\n    to: RS\n"
        "    category: MODUS_OPERANDI\n    tlp: TLP_GREEN\n"
        "expect:\n  - receives: {country: RS, alert: van}\n",
        encoding="utf-8",
    )
    report = check_scenario(path)
    assert report.scenario is not None
    rejected = event("alert.rejected", 1.0, country="RS", alert_id=VAN, rule="expired")
    (result,) = evaluate(report.scenario.expectations, {"van": VAN}, [rejected])
    assert result.detail == "never seen; alert.rejected by RS (expired)"


def test_events_of_other_alerts_do_not_count(expectations: tuple[Expectation, ...]) -> None:
    """Expectations about an alert ignore every other alert's events."""
    others = [{**e, "alert_id": "XX-000000000000"} for e in RECORDED]
    results = evaluate(expectations, IDS, others)
    assert results[0].status is Status.FAILED
    assert results[0].count == 0


@pytest.mark.parametrize(
    ("bound", "seen", "detail"),
    [
        pytest.param("equals: 3", 2, "2 seen, exactly 3 expected", id="equals-too-few"),
        pytest.param("equals: 3", 4, "4 seen, exactly 3 expected", id="equals-too-many"),
        pytest.param("at_least: 3", 2, "2 seen, at least 3 expected", id="at-least"),
        pytest.param("at_most: 1", 2, "2 seen, at most 1 expected", id="at-most"),
        pytest.param("at_least: 2, at_most: 3", 4, "4 seen, 2 to 3 expected", id="range"),
        pytest.param("equals: 0", 1, "1 seen, none expected", id="none"),
    ],
)
def test_a_count_failure_says_what_was_asked(
    tmp_path: Path, bound: str, seen: int, detail: str
) -> None:
    """A failed count names its bound as written: equals 3 reads "exactly 3", not "at least"."""
    path = tmp_path / "count.yaml"
    path.write_text(
        SCENARIO.split("expect:\n", maxsplit=1)[0]
        + f"expect:\n  - count: {{event: alert.received, country: RS, {bound}}}\n",
        encoding="utf-8",
    )
    report = check_scenario(path)
    assert report.scenario is not None, [str(p) for p in report.problems]
    events = [event("alert.received", 1.0 + i, country="RS", alert_id=VAN) for i in range(seen)]
    (result,) = evaluate(report.scenario.expectations, IDS, events)
    assert result.status is Status.FAILED
    assert result.detail == detail
