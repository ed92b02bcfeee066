"""Service settings from flags and INTELSHARE_* variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from intelshare.contract.signing import demo_public_key, demo_seed, key_text
from intelshare.errors import SettingsError
from intelshare.network.model import load_network
from intelshare.runtime.settings import Settings


def test_environment_fills_settings_and_overrides_win() -> None:
    """Variables set every field; an override given as a flag beats its variable."""
    env = {
        "INTELSHARE_BOOTSTRAP": "kafka:19092",
        "INTELSHARE_COUNTRY": "rs",
        "INTELSHARE_NETWORK": "/etc/net.yaml",
        "INTELSHARE_TOPIC_PREFIX": "ex1.",
        "INTELSHARE_AUDIT": "off",
        "INTELSHARE_CONNECT_TIMEOUT": "5",
    }
    settings = Settings.from_env(env, country="MK", log_file=None)

    assert settings.bootstrap == "kafka:19092"
    assert settings.country == "MK"
    assert settings.network_path == Path("/etc/net.yaml")
    assert settings.topic_prefix == "ex1."
    assert settings.audit is False
    assert settings.connect_timeout == 5.0


def test_signing_key_folder_from_the_environment(tmp_path: Path) -> None:
    """INTELSHARE_SIGNING_KEY_FILE naming a folder gives each country its CC.key from it."""
    # The demo key stored as a file: the default network lists demo keys.
    (tmp_path / "RS.key").write_text(key_text(demo_seed("RS")), encoding="ascii")
    settings = Settings.from_env({"INTELSHARE_SIGNING_KEY_FILE": str(tmp_path)})

    assert settings.signing_key_file == tmp_path
    assert settings.signer("RS", load_network()).public == demo_public_key("RS")


def test_ids_are_derived_per_country_and_role() -> None:
    """Client ids name service and country; the group is scoped by the topic prefix."""
    settings = Settings(country="GB", topic_prefix="t1.")

    assert settings.client_id_for("producer") == "intelshare-producer-GB"
    assert settings.consumer_group == "t1.intelshare-consumer-GB"
    assert settings.with_country("RS").consumer_group == "t1.intelshare-consumer-RS"


@pytest.mark.parametrize(
    ("values", "named"),
    [
        pytest.param({"bootstrap": "localhost"}, "bootstrap", id="no-port"),
        pytest.param({"bootstrap": "a:1,b:99999"}, "bootstrap", id="port-out-of-range"),
        pytest.param({"country": "UK"}, "country", id="not-iso"),
        pytest.param({"topic_prefix": "a b"}, "topic prefix", id="space-in-prefix"),
        pytest.param({"stop_timeout": 0}, "stop timeout", id="zero-stop-timeout"),
        pytest.param({"connect_timeout": -1}, "connect timeout", id="negative-connect"),
        pytest.param({"commit_interval": -0.1}, "commit interval", id="negative-interval"),
        pytest.param({"commit_interval": 250}, "commit interval", id="interval-in-ms"),
    ],
)
def test_bad_values_are_refused_naming_the_setting(values: dict, named: str) -> None:
    """A bad value raises SettingsError whose message starts with the setting's name."""
    with pytest.raises(SettingsError, match=f"^{named}"):
        Settings(**values)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("INTELSHARE_AUDIT", "maybe", id="audit"),
        pytest.param("INTELSHARE_STOP_TIMEOUT", "soon", id="stop-timeout"),
        pytest.param("INTELSHARE_COMMIT_INTERVAL", "250ms", id="commit-interval"),
    ],
)
def test_bad_variables_are_refused_naming_the_variable(variable: str, value: str) -> None:
    """An unreadable variable raises SettingsError naming the variable."""
    with pytest.raises(SettingsError, match=variable):
        Settings.from_env({variable: value})


def test_a_service_without_country_says_how_to_give_one() -> None:
    """require_country() names the flag and the variable."""
    with pytest.raises(SettingsError, match="--country or INTELSHARE_COUNTRY"):
        Settings().require_country()


def test_the_commit_interval_is_read_in_seconds_and_defaults_to_zero() -> None:
    """INTELSHARE_COMMIT_INTERVAL gives seconds; unset, each batch commits at once."""
    assert Settings().commit_interval == 0
    assert Settings.from_env({"INTELSHARE_COMMIT_INTERVAL": "0.5"}).commit_interval == 0.5
