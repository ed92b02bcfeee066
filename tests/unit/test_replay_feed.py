"""The timeline built in a helper process: the same entries as in place, failures passed on."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from intelshare.errors import ScenarioError
from intelshare.network.model import default_network
from intelshare.replay.engine import timeline
from intelshare.replay.feed import CHUNK, TimelineFeed
from intelshare.scenario.files import load_scenario
from intelshare.scenario.generate import GenerateOptions, generate

if TYPE_CHECKING:
    from intelshare.scenario.files import CheckReport
    from intelshare.scenario.timeline import TimelineEntry

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios"


async def fed(report: CheckReport) -> list[TimelineEntry]:
    """Every entry the helper process hands over."""
    feed = TimelineFeed(report)
    feed.start()
    try:
        return [entry async for entry in feed.entries()]
    finally:
        feed.stop()


def played(entry: TimelineEntry) -> tuple[Any, ...]:
    """What a replay reads of an entry (a step's alert fields stay behind)."""
    step = entry.step
    return (
        type(step), step.at, step.index, step.where, getattr(step, "name", None),
        getattr(step, "duration", None), entry.time, entry.message,
    )  # fmt: skip


async def test_the_story_crosses_unchanged() -> None:
    """The Western Balkans story (every kind of step) comes over as built in place."""
    report = load_scenario(LIBRARY / "western-balkans.yaml")
    assert [played(e) for e in await fed(report)] == [played(e) for e in timeline(report)]


async def test_a_generated_scenario_crosses_in_chunks(tmp_path: Path) -> None:
    """A scenario of several chunks arrives whole and in order."""
    path = tmp_path / "generated.yaml"
    with path.open("w", encoding="utf-8") as out:
        generate(out, default_network(), GenerateOptions(alerts=CHUNK * 2 + 10))
    report = load_scenario(path)
    got = await fed(report)
    assert len(got) > CHUNK * 2
    assert [played(e) for e in got] == [played(e) for e in timeline(report)]


async def test_a_file_changed_after_its_check_fails_the_feed(tmp_path: Path) -> None:
    """The helper's reason for stopping reaches the replay as a scenario error."""
    path = tmp_path / "story.yaml"
    path.write_text((LIBRARY / "revocation.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    report = load_scenario(path)
    path.write_text("name: x\nsteps:\n  - {at: 0s, alert: a, from: ZZ, to: [RS]}\n")
    with pytest.raises(ScenarioError, match="changed after it was checked"):
        await fed(report)
