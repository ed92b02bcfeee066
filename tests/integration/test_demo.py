"""The whole default network in one process keeps every rule (the demo's done-criterion)."""

from __future__ import annotations

import pytest
from servicekit import make_topics

from intelshare.demo.check import check_events, folder_events
from intelshare.demo.run import DemoOptions, run_demo
from intelshare.network.model import default_network
from intelshare.runtime.settings import Settings


@pytest.mark.timeout(300)
async def test_a_short_demo_keeps_every_rule(
    kafka_bootstrap, topic_prefix, create_topics, tmp_path
):
    """Every received alert was addressed under an agreement and answered; nothing twice."""
    await make_topics(kafka_bootstrap, topic_prefix)
    settings = Settings(bootstrap=kafka_bootstrap, topic_prefix=topic_prefix, log_format="json")
    network = default_network()
    options = DemoOptions(duration=8, rate=1.0, seed=3, misaddress=0.1, log_dir=tmp_path)

    report = await run_demo(settings, network, options)

    assert report.problems == ()
    assert report.sent > 20
    assert report.received + report.revoked == report.sent
    assert report.receipts == report.sent
    assert report.refused > 0
    assert {p.name for p in tmp_path.glob("consumer-*.log")} == {
        f"consumer-{c}.log" for c in network.codes
    }
    assert check_events(network, folder_events(tmp_path)) == report
