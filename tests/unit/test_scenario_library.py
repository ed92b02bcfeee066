from __future__ import annotations

from pathlib import Path

import pytest

from intelshare.scenario.files import check_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_library_scenario_checks_clean(path: Path) -> None:
    """Each scenario shipped in scenarios/ has no errors (warnings only where it expects them)."""
    report = check_scenario(path)
    assert report.errors == (), [str(p) for p in report.errors]
    assert all("(expected)" in p.message for p in report.warnings)
    assert report.scenario is not None
    assert report.scenario.expectations


def test_the_readme_example_checks_clean(tmp_path: Path) -> None:
    """The commented example in scenarios/README.md is a valid scenario."""
    text = (SCENARIOS / "README.md").read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    report = check_scenario(path)
    assert report.errors == (), [str(p) for p in report.errors]
