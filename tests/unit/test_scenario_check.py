from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from intelshare.errors import ScenarioError
from intelshare.scenario.files import (
    AlertStep,
    PauseStep,
    ReceiptStep,
    check_scenario,
    iter_steps,
    load_scenario,
)
from intelshare.yamlpos import Reader, read_top_level

if TYPE_CHECKING:
    from pathlib import Path

HEADER = """\
name: test
seed: 7
start: 2026-11-28T08:00:00Z
steps:
"""

VALID = (
    HEADER
    + """\
  - at: 0s
    alert: van
    from: GB
    to: [RS, MK]
    category: DISCREET_CHECK
    priority: HIGH
    tlp: TLP:AMBER
    grading: B2
    summary: White van with a compartment under the floor
    vehicles:
      - {kind: VAN, registration: BG 1234 AB, registration_country: BG}
    persons:
      - {role: DRIVER, family_name: Doe, birth_date: 1980-05-17, nationality: AL}
  - at: 30s
    update: van
    priority: URGENT
  - at: 1m
    receipt: van
    by: RS
    status: HIT
  - pause: 1h30m
  - revoke: van
expect:
  - receives: {country: RS, alert: van, within: 10s}
  - never_receives: {country: XK, alert: van}
  - receipt: {to: GB, from: RS, alert: van, status: HIT}
  - count: {event: alert.rejected, country: TR, equals: 0}
  - no_dead_letters: true
"""
)


def write(tmp_path: Path, text: str) -> Path:
    """Write a scenario file under the test's directory."""
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_valid_scenario_checks_clean(tmp_path: Path) -> None:
    """A well-formed scenario has no problems and an outline of its steps."""
    report = check_scenario(write(tmp_path, VALID))
    assert report.problems == ()
    assert report.ok
    assert report.outline is not None
    assert report.outline.steps == 5
    assert report.outline.alerts == 1
    assert report.outline.messages == 4
    assert report.outline.duration == timedelta(minutes=91)
    assert report.outline.referenced == frozenset({"van"})
    assert report.scenario is not None
    assert len(report.scenario.expectations) == 5


def test_steps_stream_back_as_typed_values(tmp_path: Path) -> None:
    """iter_steps yields typed steps with times, enums and subjects as the file wrote them."""
    report = load_scenario(write(tmp_path, VALID))
    steps = list(iter_steps(report))
    alert = steps[0]
    assert isinstance(alert, AlertStep)
    assert alert.originator == "GB"
    assert alert.fields.recipients == ("RS", "MK")
    assert alert.fields.tlp == "TLP_AMBER"
    assert alert.fields.subjects is not None
    assert alert.fields.subjects["persons"][0]["person_id"] == "P1"
    assert isinstance(steps[2], ReceiptStep)
    assert steps[2].status == "HIT"
    assert isinstance(steps[3], PauseStep)
    assert steps[4].at == timedelta(minutes=91)
    assert report.scenario is not None
    assert report.scenario.start == datetime(2026, 11, 28, 8, tzinfo=UTC)


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    """A file with several mistakes gets one problem per mistake, in line order."""
    text = (
        HEADER
        + """\
  - alert: a
    from: QQ
    to: [GB]
  - at: 90
    alert: b
    from: GB
    to: RS
    category: DISCREET_CHECK
  - revoke: zzz
"""
    )
    report = check_scenario(write(tmp_path, text))
    lines = [p.where.line for p in report.errors]
    assert lines == [6, 8, 13]
    assert not report.ok


@pytest.mark.parametrize(
    ("steps", "line", "column", "fragment"),
    [
        pytest.param(
            "  - alert: a\n    from: GB\n    to: [QQ]\n",
            7,
            10,
            "unknown country 'QQ' in to",
            id="unknown-country",
        ),
        pytest.param(
            "  - update: nobody\n    summary: x\n",
            5,
            13,
            "unknown alert 'nobody'",
            id="unknown-local-name",
        ),
        pytest.param(
            "  - at: 5m\n    alert: a\n    from: GB\n    to: RS\n    category: DISCREET_CHECK\n"
            "  - at: 1m\n    revoke: a\n",
            10,
            9,
            "time goes backwards: at 1m is before 5m",
            id="time-backwards",
        ),
        pytest.param(
            "  - alert: a\n    from: RS\n    to: XK\n    category: MODUS_OPERANDI\n",
            7,
            9,
            "RS -> XK is refused (no-agreement)",
            id="no-agreement",
        ),
        pytest.param(
            "  - at: 1m30\n    pause: 10s\n",
            5,
            9,
            "malformed duration '1m30'",
            id="duration-no-unit",
        ),
        pytest.param("  - pause: 90\n", 5, 12, "needs a unit", id="duration-bare-number"),
        pytest.param("  - pause: 30s5m\n", 5, 12, "largest first", id="duration-order"),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n    catgory: DISCREET_CHECK\n",
            8,
            5,
            "unknown field 'catgory'; did you mean 'category'?",
            id="unknown-step-field",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n    tlp: ORANGE\n",
            8,
            10,
            "tlp 'ORANGE' is not one of",
            id="bad-tlp",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n    priority: high\n",
            8,
            15,
            "priority 'high' is not one of LOW, NORMAL, HIGH, URGENT",
            id="bad-enum",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n    valid_until: 2026-12-01T00:00:00\n",
            8,
            18,
            "has no time zone",
            id="naive-timestamp",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n    grading: Z9\n",
            8,
            14,
            "grading 'Z9' is neither Admiralty",
            id="bad-grading",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n    vehicles: [{kind: VAN, colour: red}]\n",
            8,
            28,
            "an item of vehicles has unknown field 'colour'",
            id="unknown-subject-field",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n    locations: [{kind: SAFE_HOUSE}]\n",
            8,
            17,
            "is missing 'country'",
            id="missing-subject-field",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n    expect: refused\n",
            8,
            13,
            "expects a refusal, but policy allows every recipient",
            id="refusal-not-coming",
        ),
        pytest.param(
            "  - wait: 5s\n",
            5,
            5,
            "a step needs one of",
            id="unknown-step-kind",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n  - alert: a\n    from: GB\n    to: MK\n",
            8,
            12,
            "alert name 'a' is already used at line 5",
            id="duplicate-name",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n  - receipt: a\n    by: MK\n    status: HIT\n",
            9,
            9,
            "MK is not a recipient of a",
            id="receipt-by-non-recipient",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n  - revoke: a\n  - update: a\n",
            9,
            5,
            "a was revoked at line 8",
            id="update-after-revocation",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n    category: DISCREET_CHECK\n"
            "  - share_onward: a\n    by: RS\n    to: HU\n",
            11,
            9,
            "RS -> HU is refused (category-not-covered)",
            id="onward-not-covered",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n    category: MODUS_OPERANDI\n"
            "    tlp: TLP_GREEN\n    eu_handling: [H2]\n"
            "  - share_onward: a\n    by: RS\n    to: HU\n",
            13,
            9,
            "RS -> HU is refused (onward-needs-consent)",
            id="onward-needs-consent",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n    category: MODUS_OPERANDI\n"
            "    tlp: TLP_GREEN\n  - update: a\n  - consent_request: a\n    by: RS\n"
            "    onward_to: [MK]\n",
            13,
            16,
            "RS -> MK is refused (not-originator)",
            id="consent-for-an-update",
        ),
        pytest.param(
            "  - alert: a\n    from: GB\n    to: RS\n    agency: GB-XYZ\n",
            8,
            13,
            "'GB-XYZ' is not an agency of GB",
            id="unknown-agency",
        ),
    ],
)
def test_each_problem_names_its_line_and_column(
    tmp_path: Path, steps: str, line: int, column: int, fragment: str
) -> None:
    """Each kind of mistake is reported once, at the line and column of the offending value."""
    report = check_scenario(write(tmp_path, HEADER + steps))
    found = [p for p in report.problems if fragment in p.message]
    assert found, [str(p) for p in report.problems]
    assert (found[0].where.line, found[0].where.column) == (line, column), str(found[0])


def test_expected_refusal_is_a_warning_not_an_error(tmp_path: Path) -> None:
    """A recipient without an agreement is only a warning when the step says expect: refused."""
    steps = "  - alert: a\n    from: RS\n    to: [GB, XK]\n    expect: refused\n"
    report = check_scenario(write(tmp_path, HEADER + steps))
    assert report.ok
    assert [p.severity for p in report.problems] == ["warning"]
    assert "RS -> XK is refused (no-agreement)" in report.problems[0].message


@pytest.mark.parametrize(
    ("expect", "line", "fragment"),
    [
        pytest.param(
            "  - receives: {country: RS, alert: nope}\n",
            9,
            "unknown alert 'nope'",
            id="unknown-alert",
        ),
        pytest.param(
            "  - recieves: {country: RS, alert: a}\n",
            9,
            "did you mean 'receives'?",
            id="unknown-kind",
        ),
        pytest.param(
            "  - receives: {country: QQ, alert: a}\n",
            9,
            "unknown country 'QQ'",
            id="unknown-country",
        ),
        pytest.param(
            "  - receives: {country: RS, alert: a, within: 10}\n",
            9,
            "needs a unit",
            id="bad-within",
        ),
        pytest.param(
            "  - count: {event: alert.recieved, equals: 1}\n",
            9,
            "did you mean 'alert.received'",
            id="unknown-event",
        ),
        pytest.param(
            "  - count: {event: alert.received}\n",
            9,
            "needs equals, at_least or at_most",
            id="count-no-bound",
        ),
        pytest.param(
            "  - receipt: {to: GB, alert: a}\n", 9, "is missing 'from'", id="missing-field"
        ),
        pytest.param(
            "  - receives: {country: RS, alert: a, before: 1s}\n",
            9,
            "unknown field 'before'",
            id="unknown-field",
        ),
    ],
)
def test_expectation_problems_name_their_line(
    tmp_path: Path, expect: str, line: int, fragment: str
) -> None:
    """Expectations are checked like steps: unknown kinds, fields, alerts and events."""
    text = HEADER + "  - alert: a\n    from: GB\n    to: RS\nexpect:\n" + expect
    report = check_scenario(write(tmp_path, text))
    found = [p for p in report.errors if fragment in p.message]
    assert found, [str(p) for p in report.problems]
    assert found[0].where.line == line


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        pytest.param(
            "name: x\nstep: []\n", 2, "unknown top-level field 'step'", id="typo-top-level"
        ),
        pytest.param("name: x\nsteps: [\n", 3, "not valid YAML", id="broken-yaml"),
        pytest.param("- a\n- b\n", 1, "must be a mapping", id="not-a-mapping"),
        pytest.param("", 1, "empty scenario file", id="empty"),
        pytest.param(
            "name: x\nstart: tomorrow\nsteps: []\n", 2, "malformed duration", id="bad-start"
        ),
        pytest.param(
            "name: x\nnetwork: nowhere.yaml\nsteps: []\n", 2, "cannot read", id="missing-network"
        ),
        pytest.param(
            "name: x\nsteps:\n  - alert: a\n    from: GB\n    to: RS\n    x: *nothing\n",
            6,
            "not valid YAML",
            id="unknown-alias",
        ),
    ],
)
def test_file_level_problems_name_their_line(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    """Broken YAML, wrong shapes and header typos are reported with their line."""
    report = check_scenario(write(tmp_path, text))
    found = [p for p in report.errors if fragment in p.message]
    assert found, [str(p) for p in report.problems]
    assert found[0].where.line == line
    assert not report.ok


def test_templates_and_merge_keys_are_allowed(tmp_path: Path) -> None:
    """x- keys hold YAML anchors, and steps may merge them in with <<."""
    text = """\
    name: t
    x-van: &van {from: GB, to: [RS], category: DISCREET_CHECK}
    steps:
      - {alert: a, <<: *van}
      - {alert: b, <<: *van, to: MK}
    """
    report = load_scenario(write(tmp_path, text))
    steps = list(iter_steps(report))
    assert [s.fields.recipients for s in steps if isinstance(s, AlertStep)] == [("RS",), ("MK",)]


def test_load_scenario_raises_the_first_error_with_its_position(tmp_path: Path) -> None:
    """load_scenario refuses a bad file with file:line:column and a count of the rest."""
    path = write(tmp_path, HEADER + "  - pause: 5\n  - pause: x\n")
    with pytest.raises(ScenarioError, match=r"scenario\.yaml:5:12: pause: .*and 1 more") as caught:
        load_scenario(path)
    # The command line adds "error:" itself; the message must not say it a second time.
    assert "error:" not in str(caught.value)


def test_references_are_found_without_building_nodes(tmp_path: Path) -> None:
    """The cheap first pass finds every name later steps refer to, related ones included."""
    text = (
        HEADER
        + "  - {alert: a, from: GB, to: RS}\n  - {alert: b, from: GB, to: RS, related: [a]}\n"
        "  - {alert: c, from: GB, to: RS}\n  - {update: b}\n  - {receipt: c, by: RS, status: HIT}\n"
    )
    path = write(tmp_path, text)
    _, names = read_top_level(path, Reader(source=str(path)))
    assert names == frozenset({"a", "b", "c"})
    aliased = text.replace("  - {update: b}\n", "  - &u {update: b}\n  - *u\n")
    _, names = read_top_level(write(tmp_path, aliased), Reader(source="x"))
    assert names is None
