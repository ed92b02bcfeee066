"""The timeline kept by the check: what a replay plays is what was checked, read once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from intelshare.network.model import default_network
from intelshare.replay.engine import timeline
from intelshare.scenario import ahead, spool
from intelshare.scenario.files import check_scenario, load_scenario
from intelshare.scenario.generate import GenerateOptions, generate
from intelshare.scenario.spool import CHUNK

if TYPE_CHECKING:
    import pytest

    from intelshare.scenario.timeline import TimelineEntry

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios"


def played(entry: TimelineEntry) -> tuple[Any, ...]:
    """What a replay reads of an entry (a step's alert fields stay behind)."""
    step = entry.step
    return (
        type(step), step.at, step.index, step.where, getattr(step, "name", None),
        getattr(step, "duration", None), entry.time, entry.message,
    )  # fmt: skip


def built_in_place(path: Path) -> list[tuple[Any, ...]]:
    """The timeline built from the file again, as a replay without a kept one does."""
    report = load_scenario(path)
    assert report.timeline is None
    return [played(e) for e in timeline(report)]


def test_every_kind_of_step_is_kept_as_built_in_place() -> None:
    """The Western Balkans story (every kind of step) comes back from the check unchanged."""
    path = LIBRARY / "western-balkans.yaml"
    report = load_scenario(path, timeline=True)
    assert report.timeline is not None
    try:
        assert [played(e) for e in timeline(report)] == built_in_place(path)
    finally:
        report.timeline.close()


def test_a_long_scenario_comes_back_whole_in_order_and_twice(tmp_path: Path) -> None:
    """A scenario of several chunks reads back whole, in order, as often as asked."""
    path = tmp_path / "generated.yaml"
    with path.open("w", encoding="utf-8") as out:
        generate(out, default_network(), GenerateOptions(alerts=CHUNK * 2 + 10))
    report = load_scenario(path, timeline=True)
    assert report.timeline is not None
    expected = built_in_place(path)
    assert len(expected) > CHUNK * 2
    assert [played(e) for e in report.timeline.entries()] == expected
    assert [played(e) for e in report.timeline.entries()] == expected
    report.timeline.close()


def test_a_file_changed_after_its_check_does_not_change_the_replay(tmp_path: Path) -> None:
    """Rewriting the file after the check leaves the kept timeline as checked."""
    path = tmp_path / "story.yaml"
    path.write_text((LIBRARY / "revocation.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    report = load_scenario(path, timeline=True)
    expected = built_in_place(path)
    path.write_text("name: x\nsteps:\n  - {at: 0s, alert: a, from: ZZ, to: [RS]}\n")
    assert report.timeline is not None
    assert [played(e) for e in timeline(report)] == expected
    report.timeline.close()


def test_a_file_with_errors_keeps_no_timeline(tmp_path: Path) -> None:
    """A step refused by policy, an unknown alert or a bad expectation leaves nothing to play."""
    story = (LIBRARY / "revocation.yaml").read_text(encoding="utf-8")
    steps_end = story.index("\nexpect:")
    broken = {
        "unknown sender": "  - {at: 9h, alert: zz, from: ZZ, to: [RS]}",
        "unknown alert": "  - {at: 9h, revoke: nowhere}",
        "expectation about no alert": "",
    }
    for what, step in broken.items():
        text = story[:steps_end] + "\n" + step + story[steps_end:]
        if not step:
            text += "  - revoked: {country: MK, alert: nowhere}\n"
        path = tmp_path / f"{what}.yaml"
        path.write_text(text, encoding="utf-8")
        report = check_scenario(path, timeline=True)
        assert not report.ok, what
        assert report.timeline is None, what


def test_a_long_file_read_ahead_checks_as_one_process_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file long enough for the helper gives the same report and timeline as without it."""
    path = tmp_path / "generated.yaml"
    with path.open("w", encoding="utf-8") as out:
        generate(out, default_network(), GenerateOptions(alerts=1500))
    assert path.stat().st_size >= ahead.WORTH_IT
    read_ahead = check_scenario(path, timeline=True)
    monkeypatch.setattr(ahead, "WORTH_IT", 1 << 40)
    alone = check_scenario(path, timeline=True)
    assert read_ahead.ok
    assert (read_ahead.outline, read_ahead.ids, read_ahead.problems) == (
        alone.outline,
        alone.ids,
        alone.problems,
    )
    assert read_ahead.timeline is not None
    assert alone.timeline is not None
    assert [played(e) for e in read_ahead.timeline.entries()] == [
        played(e) for e in alone.timeline.entries()
    ]
    read_ahead.timeline.close()
    alone.timeline.close()


def test_a_problem_late_in_a_long_file_is_reported_at_its_key(tmp_path: Path) -> None:
    """A bad step read ahead sends the check back to one process, which names the exact key."""
    path = tmp_path / "generated.yaml"
    with path.open("w", encoding="utf-8") as out:
        generate(out, default_network(), GenerateOptions(alerts=1500))
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    last_step = max(i for i, line in enumerate(lines) if line.startswith("  - {at:"))
    lines.insert(last_step + 1, "  - {alert: late, from: GB, to: [ZZ]}\n")
    lines.insert(last_step + 1, "  - {revoke: nowhere}\n")
    path.write_text("".join(lines), encoding="utf-8")
    report = check_scenario(path, timeline=True)
    assert report.timeline is None
    found = [(p.where.line, p.where.column, p.message.split(";")[0]) for p in report.errors]
    # Each at the value's own column, not the step's (5), which is all a step read ahead knows.
    assert found == [
        (last_step + 2, 14, "unknown alert 'nowhere': no alert step before this one names it"),
        (last_step + 3, 33, "an alert needs at least one recipient"),
        (last_step + 3, 34, "unknown country 'ZZ' in to"),
    ]


def test_without_room_for_a_temporary_file_the_replay_reads_the_file_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A temporary folder refusing the spool leaves a usable report that rebuilds its timeline."""

    def refused(**_: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(spool.tempfile, "TemporaryFile", refused)
    path = LIBRARY / "western-balkans.yaml"
    report = load_scenario(path, timeline=True)
    assert report.ok
    assert report.timeline is None
    assert [played(e) for e in timeline(report)] == built_in_place(path)


def test_a_long_file_with_a_bad_header_is_reported_at_its_line(tmp_path: Path) -> None:
    """The helper starts before the header is read; a bad header is still reported where it is."""
    path = tmp_path / "generated.yaml"
    with path.open("w", encoding="utf-8") as out:
        generate(out, default_network(), GenerateOptions(alerts=1500))
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("start: ", "start: not-a-time # ", 1), encoding="utf-8")
    assert path.stat().st_size >= ahead.WORTH_IT
    report = check_scenario(path, timeline=True)
    assert not report.ok
    assert report.timeline is None
    assert [p.where.line for p in report.errors] == [5]
    assert "start" in report.errors[0].message
