from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from intelshare.errors import NetworkError
from intelshare.network.model import (
    COUNTRY_CODES,
    alerts_topic,
    audit_topic,
    deadletter_topic,
    default_network,
    default_network_path,
    load_network,
    parse_network,
    receipts_topic,
)

if TYPE_CHECKING:
    from pathlib import Path

VALID = """\
countries:
  - code: GB
    name: United Kingdom
    agencies:
      - {id: GB-NCA, name: National Crime Agency}
  - code: RS
    name: Serbia
  - code: XK
    name: Kosovo
agreements:
  - id: GB-RS
    parties: [GB, RS]
    categories: [DISCREET_CHECK]
    max_tlp: TLP_AMBER
    retention_days: 30
"""


def test_default_network_has_the_story_countries() -> None:
    """The shipped network has GB, RS, MK, XK, AL and TR and the route states."""
    codes = set(default_network().codes)
    assert {"GB", "RS", "MK", "XK", "AL", "TR"} <= codes
    assert codes <= COUNTRY_CODES


def test_default_network_has_no_rs_xk_agreement() -> None:
    """Serbia and Kosovo share no agreement, in either direction."""
    network = default_network()
    assert network.agreements_between("RS", "XK") == ()
    assert network.agreements_between("XK", "RS") == ()
    assert "XK" not in network.partners("RS")


@pytest.mark.parametrize("partner", ["RS", "MK", "XK", "AL", "TR"])
def test_gb_has_a_bilateral_agreement_with_each_partner(partner: str) -> None:
    """GB has one bilateral agreement with each of the five partners."""
    bilateral = [
        a for a in default_network().agreements_between("GB", partner) if not a.multilateral
    ]
    assert len(bilateral) == 1


def test_default_network_has_a_multilateral_route_group() -> None:
    """At least one agreement binds more than two countries."""
    assert any(a.multilateral for a in default_network().agreements)


def test_load_network_without_a_path_is_the_default() -> None:
    """load_network(None) gives the shipped network, loaded once."""
    assert load_network(None) is default_network()
    assert default_network_path().name == "network.yaml"


def test_load_network_from_a_file(tmp_path: Path) -> None:
    """A network file on disk loads with its agreements and agencies."""
    path = tmp_path / "net.yaml"
    path.write_text(VALID)
    network = load_network(path)
    assert network.codes == ("GB", "RS", "XK")
    assert network.country("GB") is not None
    assert network.country("GB").agencies[0].id == "GB-NCA"  # type: ignore[union-attr]
    assert network.agreements[0].categories == {"DISCREET_CHECK"}
    assert network.source == str(path)


def test_missing_file_is_a_network_error(tmp_path: Path) -> None:
    """A network path that does not exist raises NetworkError naming it."""
    with pytest.raises(NetworkError, match=re.escape(str(tmp_path / "nope.yaml"))):
        load_network(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        pytest.param("", "intel.alerts.RS", id="no-prefix"),
        pytest.param("t1-", "t1-intel.alerts.RS", id="prefix"),
    ],
)
def test_topic_names(prefix: str, expected: str) -> None:
    """Topic names follow intel.<kind>.<CC>, with an optional prefix in front of every name."""
    assert alerts_topic("RS", prefix) == expected
    assert receipts_topic("GB", prefix) == f"{prefix}intel.receipts.GB"
    assert deadletter_topic("MK", prefix) == f"{prefix}intel.deadletter.MK"
    assert audit_topic(prefix) == f"{prefix}intel.audit"


def test_country_reads_only_its_own_topics() -> None:
    """A country reads its own inbox and receipts topic, nothing else."""
    topics = default_network().topics("RS", "p-")
    assert topics.reads == {"p-intel.alerts.RS", "p-intel.receipts.RS"}


def test_country_writes_only_to_partners() -> None:
    """RS writes to partners' inboxes and receipts, its own dead letters and the audit topic."""
    writes = default_network().topics("RS").writes
    assert "intel.alerts.GB" in writes
    assert "intel.receipts.GB" in writes
    assert "intel.deadletter.RS" in writes
    assert "intel.audit" in writes
    assert "intel.alerts.XK" not in writes
    assert "intel.alerts.RS" not in writes


def test_all_topics_has_three_per_country_and_audit() -> None:
    """The network needs an inbox, a receipts and a dead-letter topic per country, plus audit."""
    network = default_network()
    topics = network.all_topics("x-")
    assert len(topics) == 3 * len(network.codes) + 1
    assert all(t.startswith("x-intel.") for t in topics)


def _broken(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        pytest.param(
            _broken("code: XK", "code: XX"), 8, "unknown country code 'XX'", id="unknown-iso"
        ),
        pytest.param(
            _broken("parties: [GB, RS]", "parties: [GB, FR]"),
            12,
            "unknown country code 'FR' (not in countries)",
            id="party-not-declared",
        ),
        pytest.param(
            _broken("parties: [GB, RS]", "parties: [GB]"),
            12,
            "needs at least two parties",
            id="one-party",
        ),
        pytest.param(
            _broken("parties: [GB, RS]", "parties: [GB, GB]"),
            12,
            "GB is a party twice",
            id="party-twice",
        ),
        pytest.param(
            _broken("code: XK", "code: RS"),
            8,
            "duplicate country code 'RS'",
            id="duplicate-country",
        ),
        pytest.param(
            VALID + VALID.split("agreements:\n", 1)[1],
            16,
            "duplicate agreement id 'GB-RS'",
            id="duplicate-agreement",
        ),
        pytest.param(
            _broken("name: Serbia", "name: Serbia\n    agencies: [{id: GB-NCA, name: x}]"),
            8,
            "duplicate agency id 'GB-NCA'",
            id="duplicate-agency",
        ),
        pytest.param(
            _broken("[DISCREET_CHECK]", "[DISCREET_CHECK, SMUGGLING]"),
            13,
            "unknown category 'SMUGGLING'",
            id="unknown-category",
        ),
        pytest.param(
            _broken("max_tlp: TLP_AMBER", "max_tlp: AMBER"), 14, "max_tlp 'AMBER'", id="bad-tlp"
        ),
        pytest.param(
            _broken("retention_days: 30", "retention_days: soon"),
            15,
            "must be a whole number",
            id="retention-not-int",
        ),
        pytest.param(
            _broken("retention_days: 30", "retention_days: 0"),
            15,
            "must be positive",
            id="retention-zero",
        ),
        pytest.param(
            _broken("    max_tlp: TLP_AMBER\n", ""), 11, "missing 'max_tlp'", id="missing-key"
        ),
        pytest.param(
            _broken("max_tlp: TLP_AMBER", "max_tlp: TLP_AMBER\n    colour: red"),
            15,
            "unknown field 'colour'",
            id="unknown-key",
        ),
        pytest.param(
            _broken("name: Serbia", "name: Serbia\n    name: Srbija"),
            8,
            "'name' twice",
            id="dup-key",
        ),
        pytest.param("countries: 5\nagreements: []\n", 1, "must be a list", id="not-a-list"),
        pytest.param("countries: [\n", 2, "not valid YAML", id="bad-yaml"),
        pytest.param("- 1\n", 1, "must be a mapping", id="top-level-list"),
        pytest.param(
            _broken("retention_days: 30", "retention_days: 030"),
            15,
            "leading zero, which YAML 1.1 reads as octal",
            id="octal-retention",
        ),
        pytest.param(VALID + "countries: []\n", 16, "'countries' twice", id="top-level-key-twice"),
    ],
)
def test_invalid_network_files_name_file_line_and_reason(text: str, line: int, reason: str) -> None:
    """Each kind of mistake in a network file is refused with file, line, column and reason."""
    with pytest.raises(NetworkError) as caught:
        parse_network(text, source="net.yaml")
    message = str(caught.value)
    assert re.match(rf"net\.yaml:{line}:\d+: ", message), message
    assert reason in message


def test_empty_network_file_is_refused() -> None:
    """An empty file is an error, not an empty network."""
    with pytest.raises(NetworkError, match=r"net\.yaml: empty network file"):
        parse_network("", source="net.yaml")
