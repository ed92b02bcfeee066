from __future__ import annotations

import contextlib
import io
import re
import sys
from typing import TYPE_CHECKING

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intelshare import cli
from intelshare.scenario.files import check_scenario, load_scenario

if TYPE_CHECKING:
    from pathlib import Path

VALID = """\
name: hostile
seed: 7
start: 2026-11-28T08:00:00Z
x-van: &van
  from: GB
  to: [RS, MK]
  category: DISCREET_CHECK
defaults:
  tlp: TLP_AMBER
steps:
  - at: 0s
    alert: van
    <<: *van
    priority: HIGH
    valid_until: 7d
    response_due: 8h
    summary: White van
    equipment:
      - kind: OUTBOARD_ENGINE
        quantity: 20
        declared_as: furniture
    locations:
      - kind: OTHER
        country: RS
        latitude: 44.8
        longitude: 20.4
  - at: 30s
    update: van
    priority: URGENT
  - at: 1m
    receipt: van
    by: RS
    status: HIT
  - pause: 1h
  - revoke: van
expect:
  - receives:
      country: RS
      alert: van
      within: 10s
      revision: 2
  - never_receives: {country: XK, alert: van}
  - count:
      event: alert.received
      country: RS
      equals: 2
  - count:
      event: alert.rejected
      at_least: 0
      at_most: 3
  - no_dead_letters: true
"""


def write(tmp_path: Path, text: str | bytes, name: str = "scenario.yaml") -> Path:
    """Write a scenario file (text as UTF-8, bytes as they are)."""
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str]:
    """Run the intelshare command in this process: its exit code and standard error.

    Anything but a clean exit (an exception escaping the command) fails the calling test.
    """
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["intelshare", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main()
    except SystemExit as done:
        code = done.code
        return (code if isinstance(code, int) else 1), err.getvalue()
    finally:
        sys.argv = argv
    return 0, err.getvalue()


def test_the_base_file_is_valid(tmp_path: Path) -> None:
    """The file the mutations start from checks clean, so a failure below is the mutation's."""
    report = check_scenario(write(tmp_path, VALID))
    assert report.errors == (), [str(p) for p in report.problems]


@pytest.mark.parametrize(
    ("data", "line", "column", "fragment"),
    [
        pytest.param(
            b"name: x\nsteps: []\n\xff\xfe\x00\x01 binary\n",
            3,
            1,
            "not UTF-8 text (byte 0xFF)",
            id="binary",
        ),
        pytest.param(
            "name: café\nsteps: []\n".encode("latin-1"),
            1,
            10,
            "not UTF-8 text (byte 0xE9)",
            id="latin-1",
        ),
        pytest.param(b"name: x\nsteps: []\nseed: a\x00b\n", 3, 8, "U+0000", id="nul-byte"),
    ],
)
def test_text_that_is_not_utf8_is_refused_at_its_first_bad_byte(
    tmp_path: Path, data: bytes, line: int, column: int, fragment: str
) -> None:
    """A binary or Latin-1 file is one error at the line and column of its first bad byte."""
    report = check_scenario(write(tmp_path, data))
    (problem,) = report.errors
    assert fragment in problem.message
    assert (problem.where.line, problem.where.column) == (line, column), str(problem)


def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path: Path) -> None:
    """A UTF-8 file some editor started with a byte-order mark reads like one without."""
    report = check_scenario(write(tmp_path, b"\xef\xbb\xbf" + VALID.encode()))
    assert report.ok, [str(p) for p in report.problems]


STEP = "  - at: 0s\n    alert: a\n    from: GB\n    to: RS\n    category: DISCREET_CHECK\n"
HEAD = "name: t\nsteps:\n"


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        pytest.param(
            HEAD + "  - <<: 5\n    at: 0s\n    alert: a\n    from: GB\n    to: RS\n",
            3,
            "a merge key (<<) takes a mapping",
            id="merge-with-scalar",
        ),
        pytest.param(
            HEAD + STEP + "    equipment:\n      - {kind: OUTBOARD_ENGINE, quantity: 017}\n",
            9,
            "leading zero, which YAML 1.1 reads as octal (15)",
            id="octal",
        ),
        pytest.param(
            HEAD + STEP + "    equipment:\n      - {kind: OUTBOARD_ENGINE, quantity: 1:30}\n",
            9,
            "'1:30' is a YAML 1.1 base-60 number",
            id="sexagesimal",
        ),
        pytest.param(
            HEAD + STEP + "    locations:\n      - {country: RS, latitude: .inf, longitude: 1}\n",
            9,
            "'.inf' is not a finite number",
            id="infinity",
        ),
        pytest.param(
            HEAD + STEP + "    locations:\n      - {country: RS, latitude: 1, longitude: .nan}\n",
            9,
            "'.nan' is not a finite number",
            id="nan",
        ),
        pytest.param(
            HEAD + STEP.replace("at: 0s", "at: 9999999999d"),
            3,
            "at: duration '9999999999d' is too long; at most 36500d",
            id="overflowing-at",
        ),
        pytest.param(
            HEAD + STEP + "    valid_until: 9999999999d\n",
            8,
            "valid_until: duration '9999999999d' is too long",
            id="overflowing-valid-until",
        ),
        pytest.param(
            HEAD + STEP + "    valid_until: 9999-12-31T00:00:00Z\n",
            8,
            "is not between 1900 and 8999",
            id="moment-at-the-end-of-the-calendar",
        ),
        pytest.param(
            HEAD + STEP + "  - pause: 36500d\n  - pause: 1d\n",
            9,
            "the scenario clock runs past 36500d",
            id="pauses-adding-up-past-100-years",
        ),
        pytest.param(
            HEAD + STEP + "expect:\n  - receives: {country: RS, alert: a}\nsteps:\n  - pause: 1s\n",
            10,
            "'steps' is given twice (first at line 2)",
            id="second-steps-block",
        ),
        pytest.param(
            HEAD + STEP + "expect:\n  - receives: {country: RS, alert: a}\n"
            "expect:\n  - receives: {country: XK, alert: a}\n",
            10,
            "'expect' is given twice (first at line 8)",
            id="second-expect-block",
        ),
        pytest.param("name: a\n" + HEAD + STEP, 2, "'name' is given twice", id="second-name"),
        pytest.param(HEAD + STEP + "    from: TR\n", 8, "has 'from' twice", id="repeated-step-key"),
        pytest.param(
            HEAD + STEP + "    alert: b\n", 8, "has 'alert' twice", id="repeated-step-kind"
        ),
        pytest.param(
            HEAD + STEP + "expect:\n  - receives: {country: RS, alert: a, revision: -3}\n",
            9,
            "revision -3: revisions count from 1",
            id="negative-revision",
        ),
        pytest.param(
            HEAD + STEP + "expect:\n  - count: {event: alert.sent, at_least: 5, at_most: 2}\n",
            9,
            "at_least 5 is more than at_most 2: it can never hold",
            id="inverted-count",
        ),
        pytest.param(
            HEAD + STEP + "expect:\n  - count: {event: alert.sent, at_most: -1}\n",
            9,
            "at_most -1: a count cannot be negative",
            id="negative-count",
        ),
        pytest.param(
            "name: t\nx-van: {from: GB, to: RS, to: MK}\nsteps:\n  - {alert: a, <<: *van}\n",
            2,
            "x-van has 'to' twice (first at line 2)",
            id="repeated-key-in-a-template",
        ),
        pytest.param(
            "name: t\nnetwork: /dev/zero\nsteps: []\n",
            2,
            "larger than 10485760 bytes; not a network file",
            id="endless-network-file",
        ),
        pytest.param(
            HEAD + "  - " + "[" * 990 + "]" * 990 + "\n",
            3,
            "nested deeper than 100 levels",
            id="deep-nesting",
        ),
        pytest.param(
            HEAD + STEP + "expect:\n  - count: {event: alert.sent, equals: 1, equals: 2}\n",
            9,
            "count has 'equals' twice",
            id="repeated-expectation-key",
        ),
    ],
)
def test_each_hostile_input_is_an_error_at_its_place(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    """Every class of hostile input is an error naming its line, never a traceback or an ok."""
    report = check_scenario(write(tmp_path, text))
    found = [p for p in report.errors if fragment in p.message]
    assert found, [str(p) for p in report.problems]
    assert found[0].where.line == line, str(found[0])
    assert not report.ok
    code, err = run("scenario", "check", str(tmp_path / "scenario.yaml"))
    assert code == 2
    assert "Traceback" not in err


def test_plain_numbers_hex_and_quoted_text_still_read(tmp_path: Path) -> None:
    """The YAML 1.1 guards refuse only the traps: 20, 0x14, 1_000 and '017' as text read."""
    text = (
        HEAD
        + STEP
        + "    case: '017'\n    equipment:\n"
        + "      - {kind: OUTBOARD_ENGINE, quantity: 0x14}\n"
        + "      - {kind: OUTBOARD_ENGINE, quantity: 1_000}\n"
        + "    locations:\n      - {kind: OTHER, country: RS, latitude: -0.5, longitude: 20}\n"
    )
    report = check_scenario(write(tmp_path, text))
    assert report.ok, [str(p) for p in report.problems]


def test_a_directory_or_missing_file_is_one_line(tmp_path: Path) -> None:
    """A directory or a missing path is one problem naming the file, exit 2."""
    for path in (tmp_path, tmp_path / "missing.yaml"):
        report = check_scenario(path)
        (problem,) = report.errors
        assert str(problem).startswith(f"{path}: error: cannot read: ")
        with pytest.raises(Exception, match=r"cannot read"):
            load_scenario(path)


# --- property-based: mutated files never crash the checker ---------------------------------

HOSTILE_VALUES = (
    "017", "1:30", "190:20:30.5", ".inf", "-.inf", ".nan", "9999999999d", "99999999999999999999",
    "-3", "0", "~", "''", "[]", "{}", "[a, [b, {c: d}]]", "*van", "&x y", "!!binary AAAA",
    "!!python/object/apply:os.system ['true']", "!!str 5", "!!int 7", "!!float x", "<<: 5",
    "yes", "no", "2026-11-28", "2026-11-28T08:00:00", "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00+14:00", "'\\t'", '"\\x00"', "é", "💥", "TLP:AMBER+STRICT", "x" * 300,
    "1e400", "0x", "0b102", "+12", "-0", "1_", "---", "...", "|", ">-", "%YAML 1.1", "?", "- -",
)  # fmt: skip
KEYS = (
    "name", "seed", "start", "steps", "expect", "defaults", "network", "at", "alert", "from",
    "to", "update", "revoke", "receipt", "by", "status", "pause", "valid_until", "response_due",
    "quantity", "latitude", "revision", "equals", "at_least", "at_most", "within", "<<",
    "consent_request", "onward_to", "share_onward", "related", "grading", "tlp", "count",
)  # fmt: skip
LINES = VALID.splitlines(keepends=True)


_ACTIONS = ("value", "value", "value", "value", "key", "drop", "copy", "swap", "indent")
"""Mostly hostile values: they reach the typed readers, where the traps are."""


def _mutate(data: st.DataObject) -> str:
    """One to four line-level mutations of the valid file."""
    lines = list(LINES)
    for _ in range(data.draw(st.integers(1, 4))):
        if not lines:
            break
        index = data.draw(st.sampled_from(range(len(lines))))
        action = data.draw(st.sampled_from(_ACTIONS))
        line = lines[index]
        if action == "value" and ":" in line:
            head = line[: line.index(":") + 1]
            lines[index] = f"{head} {data.draw(st.sampled_from(HOSTILE_VALUES))}\n"
        elif action == "key" and ":" in line:
            indent = line[: len(line) - len(line.lstrip(" -"))]
            rest = line[line.index(":") :]
            lines[index] = f"{indent}{data.draw(st.sampled_from(KEYS))}{rest}"
        elif action == "drop":
            del lines[index]
        elif action == "copy":
            lines.insert(data.draw(st.sampled_from(range(len(lines) + 1))), line)
        elif action == "swap":
            other = data.draw(st.sampled_from(range(len(lines))))
            lines[index], lines[other] = lines[other], line
        elif action == "indent":
            lines[index] = " " * data.draw(st.integers(0, 6)) + line.lstrip(" ")
    return "".join(lines)


_yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    # Placeholders, written unquoted into the dumped text (safe_dump would quote them).
    st.integers(0, len(HOSTILE_VALUES) - 1).map(lambda i: f"HOSTILE{i:03d}"),
    st.sampled_from(KEYS),
)
_yaml_trees = st.recursive(
    _yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), children, max_size=5),
    ),
    max_leaves=25,
)

PROPERTY = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _never_crashes(path: Path) -> None:
    """Check (and, when it passes, dry-run) a file: exit 0 or 2, never anything else."""
    code, err = run("scenario", "check", str(path))
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 0:
        code, err = run("replay", str(path), "--dry-run", "--records")
        assert code == 0, err


@PROPERTY
@given(data=st.data())
def test_mutated_files_exit_0_or_2(tmp_path: Path, data: st.DataObject) -> None:
    """Lines of a valid file swapped, dropped, copied, re-keyed or given hostile values: 0 or 2."""
    _never_crashes(write(tmp_path, _mutate(data)))


@settings(PROPERTY, max_examples=60)
@given(tree=_yaml_trees, steps=st.lists(_yaml_trees, max_size=4))
def test_arbitrary_yaml_exits_0_or_2(tmp_path: Path, tree: object, steps: list[object]) -> None:
    """Any YAML document, as a whole file or as the steps of one, exits 0 or 2."""
    for document in (tree, {"name": "t", "steps": steps, "expect": tree}):
        text = yaml.safe_dump(document, allow_unicode=True)
        text = re.sub(r"HOSTILE(\d{3})", lambda m: HOSTILE_VALUES[int(m[1])], text)
        _never_crashes(write(tmp_path, text))


@PROPERTY
@given(data=st.data())
def test_corrupted_bytes_exit_0_or_2(tmp_path: Path, data: st.DataObject) -> None:
    """A valid file with random bytes spliced in (junk, cut multi-byte characters): 0 or 2."""
    raw = bytearray(VALID.encode())
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw)))
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    _never_crashes(write(tmp_path, bytes(raw)))
