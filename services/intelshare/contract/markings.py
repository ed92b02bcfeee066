"""Handling codes side by side (TLP 2.0, EU H0-H3, UK 3x5x2) and "most restrictive wins".

TLP levels are ordered ``CLEAR < GREEN < AMBER < AMBER_STRICT < RED``; an unknown level is
treated as RED, so a symbol this code does not know can never loosen handling. EU codes are
independent restrictions, so combining them takes the union; UK ``C`` beats ``P``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from intelshare.valuetype import value_type

if TYPE_CHECKING:
    from collections.abc import Iterable

TLP_ORDER: Final = ("TLP_CLEAR", "TLP_GREEN", "TLP_AMBER", "TLP_AMBER_STRICT", "TLP_RED")
"""TLP symbols as in the schema, least restrictive first."""
EU_CODES: Final = ("H0", "H1", "H2", "H3")
"""EU handling codes as in the schema."""
UK_CODES: Final = ("P", "C")
"""UK 3x5x2 handling codes, least restrictive first."""

_TLP_RANK: Final = {tlp: rank for rank, tlp in enumerate(TLP_ORDER)}


def tlp_rank(tlp: str) -> int:
    """Position of a TLP symbol in :data:`TLP_ORDER`; unknown symbols rank as TLP_RED."""
    return _TLP_RANK.get(tlp, len(TLP_ORDER) - 1)


def tlp_label(tlp: str) -> str:
    """The TLP 2.0 label for a schema symbol: ``TLP_AMBER_STRICT`` -> ``TLP:AMBER+STRICT``."""
    return "TLP:" + tlp.removeprefix("TLP_").replace("_STRICT", "+STRICT")


def strictest_tlp(tlps: Iterable[str]) -> str:
    """The most restrictive TLP symbol among ``tlps``."""
    return TLP_ORDER[max((tlp_rank(t) for t in tlps), default=0)]


def tlp_within(tlp: str, cap: str) -> bool:
    """Whether ``tlp`` is no more restrictive than ``cap`` (AMBER_STRICT is above AMBER)."""
    return tlp_rank(tlp) <= tlp_rank(cap)


@value_type
class Handling:
    """What a recipient may do with an alert, in all three code systems."""

    tlp: str
    """TLP symbol, e.g. ``TLP_AMBER_STRICT``."""
    eu: frozenset[str] = frozenset()
    """EU handling codes that apply (H0-H3)."""
    uk: str = "P"
    """UK 3x5x2 handling code: ``P`` or ``C``."""
    uk_conditions: str | None = None
    """The conditions when ``uk`` is ``C``."""

    @property
    def needs_consent_for_onward(self) -> bool:
        """Whether sharing beyond the addressed recipients needs the originator's consent.

        True for H2, TLP:RED, TLP:AMBER+STRICT, and UK ``C`` (its conditions are the
        originator's to interpret).
        """
        return (
            "H2" in self.eu or tlp_rank(self.tlp) >= tlp_rank("TLP_AMBER_STRICT") or self.uk != "P"
        )

    def combine(self, other: Handling) -> Handling:
        """The most restrictive combination of two handlings (rule: most restrictive wins)."""
        uk = "C" if "C" in (self.uk, other.uk) or self.uk not in UK_CODES else other.uk
        conditions = [c for c in (self.uk_conditions, other.uk_conditions) if c]
        return Handling(
            tlp=strictest_tlp((self.tlp, other.tlp)),
            eu=self.eu | other.eu,
            uk=uk,
            uk_conditions="; ".join(dict.fromkeys(conditions)) or None,
        )


def most_restrictive(handlings: Iterable[Handling]) -> Handling:
    """Combine any number of handlings; the tightest code of each system applies."""
    result: Handling | None = None
    for handling in handlings:
        result = handling if result is None else result.combine(handling)
    if result is None:
        raise ValueError("most_restrictive() needs at least one handling")
    return result
