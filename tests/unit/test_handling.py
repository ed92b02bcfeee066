from __future__ import annotations

import pytest

from intelshare.contract.markings import (
    TLP_ORDER,
    Handling,
    most_restrictive,
    strictest_tlp,
    tlp_label,
    tlp_rank,
    tlp_within,
)


def test_tlp_order() -> None:
    """TLP levels are ordered CLEAR < GREEN < AMBER < AMBER_STRICT < RED."""
    assert [tlp_rank(t) for t in TLP_ORDER] == [0, 1, 2, 3, 4]
    assert TLP_ORDER == ("TLP_CLEAR", "TLP_GREEN", "TLP_AMBER", "TLP_AMBER_STRICT", "TLP_RED")


@pytest.mark.parametrize(
    ("tlp", "cap", "within"),
    [
        pytest.param("TLP_AMBER", "TLP_AMBER", True, id="amber-under-amber"),
        pytest.param("TLP_AMBER_STRICT", "TLP_AMBER", False, id="amber-strict-above-amber"),
        pytest.param("TLP_AMBER", "TLP_AMBER_STRICT", True, id="amber-under-amber-strict"),
        pytest.param("TLP_RED", "TLP_AMBER_STRICT", False, id="red-above-amber-strict"),
        pytest.param("TLP_CLEAR", "TLP_GREEN", True, id="clear-under-green"),
        pytest.param("TLP_PURPLE", "TLP_AMBER", False, id="unknown-counts-as-red"),
    ],
)
def test_tlp_within_cap(tlp: str, cap: str, within: bool) -> None:
    """A cap admits its own level and below; AMBER access never covers AMBER+STRICT."""
    assert tlp_within(tlp, cap) is within


def test_tlp_label() -> None:
    """Schema symbols render as TLP 2.0 labels."""
    assert tlp_label("TLP_AMBER_STRICT") == "TLP:AMBER+STRICT"
    assert tlp_label("TLP_CLEAR") == "TLP:CLEAR"


def test_strictest_tlp() -> None:
    """The strictest of several levels wins; an unknown level counts as RED."""
    assert strictest_tlp(["TLP_GREEN", "TLP_AMBER_STRICT", "TLP_AMBER"]) == "TLP_AMBER_STRICT"
    assert strictest_tlp(["TLP_GREEN", "TLP_NEW"]) == "TLP_RED"


def test_combine_takes_the_tightest_code_of_each_system() -> None:
    """Combining handlings keeps the strictest TLP, all EU codes, and UK C over P."""
    a = Handling(tlp="TLP_AMBER", eu=frozenset({"H0"}), uk="P")
    b = Handling(tlp="TLP_GREEN", eu=frozenset({"H2"}), uk="C", uk_conditions="no court use")
    assert a.combine(b) == Handling(
        tlp="TLP_AMBER", eu=frozenset({"H0", "H2"}), uk="C", uk_conditions="no court use"
    )
    assert a.combine(b) == b.combine(a)


def test_most_restrictive_of_many() -> None:
    """most_restrictive folds any number of handlings; none at all is an error."""
    handlings = [
        Handling(tlp="TLP_CLEAR"),
        Handling(tlp="TLP_RED", uk="C", uk_conditions="x"),
        Handling(tlp="TLP_GREEN", uk="C", uk_conditions="x"),
    ]
    combined = most_restrictive(handlings)
    assert combined.tlp == "TLP_RED"
    assert combined.uk_conditions == "x"
    with pytest.raises(ValueError, match="at least one"):
        most_restrictive([])


@pytest.mark.parametrize(
    ("handling", "needs"),
    [
        pytest.param(Handling(tlp="TLP_AMBER", eu=frozenset({"H0"})), False, id="amber-h0-p"),
        pytest.param(Handling(tlp="TLP_AMBER", eu=frozenset({"H2"})), True, id="h2"),
        pytest.param(Handling(tlp="TLP_RED"), True, id="red"),
        pytest.param(Handling(tlp="TLP_AMBER_STRICT"), True, id="amber-strict"),
        pytest.param(Handling(tlp="TLP_GREEN", uk="C"), True, id="uk-c"),
    ],
)
def test_onward_consent(handling: Handling, needs: bool) -> None:
    """Onward sharing needs consent for H2, TLP:RED, TLP:AMBER+STRICT and UK C."""
    assert handling.needs_consent_for_onward is needs
