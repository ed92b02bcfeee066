"""The replay plays a default-network scenario on INTELSHARE_NETWORK's copy with real keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from intelshare.commands.scenario import _on_configured_network
from intelshare.contract.signing import key_text, new_key
from intelshare.errors import SettingsError
from intelshare.network.model import default_network, default_network_path
from intelshare.runtime.settings import Settings
from intelshare.scenario.files import load_scenario

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "western-balkans.yaml"


def _network_with_keys(folder: Path, text: str) -> Path:
    """A network file with ``text`` naming a keys folder with a fresh key pair per country."""
    (folder / "keys").mkdir()
    for code in default_network().codes:
        (folder / "keys" / f"{code}.pub").write_text(key_text(new_key(code).public))
    path = folder / "network.yaml"
    path.write_text(text + "\nkeys: keys\n", encoding="utf-8")
    return path


def test_default_network_scenario_takes_the_configured_keys(tmp_path: Path) -> None:
    """The scenario keeps its countries and agreements but verifies with the folder's keys."""
    path = _network_with_keys(tmp_path, default_network_path().read_text(encoding="utf-8"))
    report = load_scenario(SCENARIO)

    played = _on_configured_network(report, Settings(network_path=path))

    assert played.scenario is not None
    assert played.scenario.network.demo_keys is False
    assert played.scenario.network.codes == default_network().codes


def test_without_a_configured_network_the_scenario_is_unchanged() -> None:
    """No INTELSHARE_NETWORK: the scenario plays on the shipped network, demo keys and all."""
    report = load_scenario(SCENARIO)

    assert _on_configured_network(report, Settings()) is report


def test_a_different_configured_network_is_an_error(tmp_path: Path) -> None:
    """A configured network other than the scenario's is refused, not silently swapped in."""
    text = (
        default_network_path()
        .read_text(encoding="utf-8")
        .replace("retention_days: 365", "retention_days: 30", 1)
    )
    path = _network_with_keys(tmp_path, text)

    with pytest.raises(SettingsError, match="is not the default network"):
        _on_configured_network(load_scenario(SCENARIO), Settings(network_path=path))
