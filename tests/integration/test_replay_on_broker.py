"""Scenario replay on a real broker: the default story holds, a broken copy fails by name."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from intelshare.replay.engine import ReplayOptions
from intelshare.replay.session import KafkaSetup, replay_on_kafka
from intelshare.runtime.settings import Settings
from intelshare.scenario import ahead
from intelshare.scenario.files import CheckReport, load_scenario

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conftest import TopicMaker

pytestmark = pytest.mark.kafka

STORY = Path(__file__).resolve().parents[2] / "scenarios" / "western-balkans.yaml"
INTELSHARE = Path(sys.executable).with_name("intelshare")


@pytest.fixture(params=["from-the-file", "kept-by-the-check", "steps-read-ahead"])
def story(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[CheckReport]:
    """The story checked as a replay may have it: timeline rebuilt, kept, or kept and read ahead."""
    if request.param == "steps-read-ahead":
        monkeypatch.setattr(ahead, "WORTH_IT", 0)  # the helper process, as for a long file
    report = load_scenario(STORY, timeline=request.param != "from-the-file")
    assert (report.timeline is None) == (request.param == "from-the-file")
    yield report
    if report.timeline is not None:
        report.timeline.close()


async def test_the_default_story_holds_on_a_real_broker(
    kafka_bootstrap: str,
    topic_prefix: str,
    create_topics: TopicMaker,
    tmp_path: Path,
    story: CheckReport,
) -> None:
    """Replaying the Western Balkans story against the country consumers meets every expectation."""
    report = story
    settings = Settings(bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, connect_timeout=30)
    setup = KafkaSetup(settings=settings, with_consumers=True, log_dir=tmp_path)
    options = ReplayOptions(as_fast_as_possible=True, settle=20.0)
    result = await replay_on_kafka(report, setup, options)
    assert [(r.expectation.text, r.detail) for r in result.failed] == []
    assert result.published == 13
    assert result.counts["alert.refused"] == 3  # RS->XK, and GB->RS for both revisions
    assert result.counts["alert.shared_onward"] == 1
    # MK: the van sighting, Serbia's warning, and the organiser's network shared on by Serbia.
    mk_log = (tmp_path / "consumer-MK.log").read_text(encoding="utf-8")
    assert mk_log.count('"event":"alert.received"') == 3


async def test_a_broken_expectation_exits_1_and_names_it(
    kafka_bootstrap: str, topic_prefix: str, create_topics: TopicMaker, tmp_path: Path
) -> None:
    """A copy of the story expecting Kosovo to get Serbia's alert fails with exit 1, naming it."""
    broken = STORY.read_text(encoding="utf-8").replace(
        "never_receives: {country: XK, alert: van-near-presevo}",
        "receives: {country: XK, alert: van-near-presevo}",
    )
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        str(INTELSHARE), "replay", str(path), "--bootstrap", kafka_bootstrap,
        "--prefix", topic_prefix, "--with-consumers", "--as-fast-as-possible", "--settle", "10",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    stderr = err.decode()
    assert process.returncode == 1, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(
        "intelshare: error: 1 expectation(s) failed: XK receives van-near-presevo"
    )
    assert "alert.refused by RS (no-agreement)" in last
    assert "FAILED" in out.decode()
