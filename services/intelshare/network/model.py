"""The network file: countries, agencies and agreements, and the topic layout derived from it.

One YAML file is the source of truth: routing decisions (:mod:`.policy`), topic names
and each country's read/write sets (the future ACLs) all come from it. A bad file is refused
with ``file:line:column: reason``, read by the same positioned YAML reader as scenario files.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final, NoReturn, TypeVar

import yaml

from intelshare.contract.markings import TLP_ORDER
from intelshare.contract.schemas import known_categories
from intelshare.contract.signing import KeyFormatError, demo_public_key, parse_key
from intelshare.errors import FatalSyntax, NetworkError
from intelshare.yamlpos import Reader, Where, compose_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

ISO_3166_ALPHA_2: Final = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO
    DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU
    GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
    KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU
    MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA
    ZM ZW""".split()  # noqa: SIM905 - a block of codes reads better than 249 quoted strings
)
"""ISO 3166-1 alpha-2 codes officially assigned."""
COUNTRY_CODES: Final = ISO_3166_ALPHA_2 | {"XK"}
"""Codes a network may use: ISO 3166-1 alpha-2 plus Kosovo's widely used ``XK``."""

AUDIT_TOPIC: Final = "intel.audit"
"""Every service mirrors its log events here; only the exercise controller reads it."""


def alerts_topic(country: str, prefix: str = "") -> str:
    """A country's inbox: Alert and ConsentGrant messages addressed to it."""
    return f"{prefix}intel.alerts.{country}"


def receipts_topic(country: str, prefix: str = "") -> str:
    """An originator's return channel: Receipt and ConsentRequest messages for it."""
    return f"{prefix}intel.receipts.{country}"


def deadletter_topic(country: str, prefix: str = "") -> str:
    """Where a country's consumer puts messages it cannot decode or validate."""
    return f"{prefix}intel.deadletter.{country}"


def state_topic(country: str, prefix: str = "") -> str:
    """A country's compacted state topic: what it received and sent (only it reads it)."""
    return f"{prefix}intel.state.{country}"


def audit_topic(prefix: str = "") -> str:
    """The audit topic every service mirrors its log events to."""
    return f"{prefix}{AUDIT_TOPIC}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Agency:
    """An agency a national contact point speaks for.

    Attributes:
        id: Unique across the network, e.g. ``GB-NCA``.
        name: Full name, e.g. National Crime Agency.
    """

    id: str
    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Country:
    """A country in the network with its agencies.

    Attributes:
        code: ISO 3166-1 alpha-2 code (Kosovo ``XK``).
        name: Country name.
        agencies: Agencies that originate alerts through this country's contact point.
    """

    code: str
    name: str
    agencies: tuple[Agency, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Agreement:
    """A bilateral or multilateral sharing agreement.

    Attributes:
        id: Unique id, e.g. ``GB-RS``.
        parties: Country codes of the parties, two or more, in file order.
        categories: Alert categories (Category symbols) the agreement covers.
        max_tlp: The most permissive TLP allowed (a Tlp symbol); anything more restrictive is
            refused.
        retention_days: How many days a recipient may keep an alert.
        name: Optional descriptive name, e.g. for a working group.
    """

    id: str
    parties: tuple[str, ...]
    categories: frozenset[str]
    max_tlp: str
    retention_days: int
    name: str | None = None

    @property
    def multilateral(self) -> bool:
        """Whether more than two countries are party to it."""
        return len(self.parties) > 2  # noqa: PLR2004 - two parties is what bilateral means

    def binds(self, a: str, b: str) -> bool:
        """Whether both countries are parties."""
        return a in self.parties and b in self.parties


@dataclass(frozen=True, kw_only=True, slots=True)
class CountryTopics:
    """The topics one country's services read and write: the basis of its broker ACLs.

    Attributes:
        reads: Its own inbox and its own receipts topic.
        writes: Partners' inboxes and receipts topics, its own dead-letter topic, and the audit
            topic.
    """

    reads: frozenset[str]
    writes: frozenset[str]


@dataclass(frozen=True, kw_only=True, slots=True)
class Network:
    """Countries and agreements as loaded from a network file."""

    countries: tuple[Country, ...]
    """Every country, in file order."""
    agreements: tuple[Agreement, ...]
    """Every agreement, in file order."""
    source: str = "<network>"
    """Where the network was loaded from."""
    public_keys: Mapping[str, bytes] | None = None
    """Each country's Ed25519 public key, read from the folder the file's ``keys:`` names;
    None when the file names none: every country then has its derivable demo key."""
    _by_code: dict[str, Country] = field(init=False, repr=False, compare=False)
    _between: dict[tuple[str, str], tuple[Agreement, ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        """Index countries by code once; lookups happen per message."""
        object.__setattr__(self, "_by_code", {c.code: c for c in self.countries})
        object.__setattr__(self, "_between", {})

    @property
    def codes(self) -> tuple[str, ...]:
        """Country codes in file order."""
        return tuple(c.code for c in self.countries)

    def country(self, code: str) -> Country | None:
        """The country with this code, or None."""
        return self._by_code.get(code)

    @property
    def demo_keys(self) -> bool:
        """Whether countries prove their messages with the derivable demo keys (no keys folder)."""
        return self.public_keys is None

    def public_key(self, code: str) -> bytes | None:
        """``code``'s public key; None for a country outside the network or without a key."""
        if code not in self._by_code:
            return None
        if self.public_keys is None:
            return demo_public_key(code)
        return self.public_keys.get(code)

    def agreements_between(self, a: str, b: str) -> tuple[Agreement, ...]:
        """Agreements both countries are party to (none for RS and XK in the default)."""
        # Asked for every message sent and received (policy, receipts): each pair is
        # worked out once. The network never changes after loading.
        found = self._between.get((a, b))
        if found is None:
            found = () if a == b else tuple(x for x in self.agreements if x.binds(a, b))
            self._between[(a, b)] = found
        return found

    def partners(self, code: str) -> frozenset[str]:
        """Countries that share at least one agreement with ``code``."""
        return frozenset(p for x in self.agreements if code in x.parties for p in x.parties) - {
            code
        }

    def topics(self, code: str, prefix: str = "") -> CountryTopics:
        """What ``code`` reads and writes; a country never reads another's inbox."""
        partners = sorted(self.partners(code))
        return CountryTopics(
            reads=frozenset({alerts_topic(code, prefix), receipts_topic(code, prefix)}),
            writes=frozenset(
                [alerts_topic(p, prefix) for p in partners]
                + [receipts_topic(p, prefix) for p in partners]
                + [deadletter_topic(code, prefix), audit_topic(prefix)]
            ),
        )

    def all_topics(self, prefix: str = "") -> tuple[str, ...]:
        """Every topic the network needs: three per country plus the audit topic, sorted."""
        names = {audit_topic(prefix)}
        for code in self.codes:
            names |= {
                alerts_topic(code, prefix),
                receipts_topic(code, prefix),
                deadletter_topic(code, prefix),
            }
        return tuple(sorted(names))


# --- loading ------------------------------------------------------------------------------

MAX_NETWORK_BYTES: Final = 10 * 1024 * 1024
"""The largest network file read (the default is 4 KB; 249 countries fit in far less)."""
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_T = TypeVar("_T")


class _Reader:
    """The positioned YAML reader of :mod:`intelshare.yamlpos`, stopping at the first problem.

    A network file is short and every later check needs the earlier ones to have held, so the
    first problem is raised as ``file:line:column: reason``; the shapes (duplicate and unknown
    keys, YAML 1.1 numbers, merge keys) are judged exactly as in scenario files.
    """

    def __init__(self, source: str) -> None:
        self.positions = Reader(source=source)

    def fail(self, node: yaml.Node | None, reason: str) -> NoReturn:
        where = self.positions.where(node if node is not None else self._whole)
        raise NetworkError(f"{where}: {reason}")

    @property
    def _whole(self) -> Where:
        return Where(file=self.positions.source, line=0, column=0)

    def _checked(self, value: _T | None) -> _T:
        """``value``, or the first problem the reader recorded raised as a NetworkError."""
        problems = [p for p in self.positions.problems if p.severity == "error"]
        if problems:
            raise NetworkError(f"{problems[0].where}: {problems[0].message}")
        assert value is not None
        return value

    def compose(self, text: str) -> yaml.Node | None:
        try:
            return compose_text(text, self.positions)
        except FatalSyntax:
            return self._checked(None)

    def mapping(
        self, node: yaml.Node, what: str, *, required: Iterable[str], optional: Iterable[str] = ()
    ) -> dict[str, yaml.Node]:
        allowed = (*required, *optional)
        return self._checked(self.positions.mapping(node, what, allowed=allowed, required=required))

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"{what} must be a list")
        return list(node.value)

    def string(self, node: yaml.Node, what: str) -> str:
        return self._checked(self.positions.string(node, what))

    def integer(self, node: yaml.Node, what: str) -> int:
        return self._checked(self.positions.integer(node, what))


def _country(reader: _Reader, node: yaml.Node, agency_ids: set[str]) -> Country:
    fields = reader.mapping(node, "a country", required=("code", "name"), optional=("agencies",))
    code = reader.string(fields["code"], "a country code")
    if code not in COUNTRY_CODES:
        reader.fail(fields["code"], f"unknown country code {code!r} (ISO 3166-1 alpha-2 or XK)")
    agencies = []
    for agency_node in (
        reader.sequence(fields["agencies"], f"{code} agencies") if ("agencies" in fields) else ()
    ):
        parts = reader.mapping(agency_node, f"a {code} agency", required=("id", "name"))
        agency_id = reader.string(parts["id"], "an agency id")
        if agency_id in agency_ids:
            reader.fail(parts["id"], f"duplicate agency id {agency_id!r}")
        agency_ids.add(agency_id)
        agencies.append(Agency(id=agency_id, name=reader.string(parts["name"], "an agency name")))
    return Country(
        code=code, name=reader.string(fields["name"], "a country name"), agencies=tuple(agencies)
    )


def _parties(reader: _Reader, node: yaml.Node, ident: str, codes: frozenset[str]) -> list[str]:
    parties: list[str] = []
    for party in reader.sequence(node, f"{ident} parties"):
        code = reader.string(party, f"a party of {ident}")
        if code not in codes:
            reader.fail(party, f"{ident}: unknown country code {code!r} (not in countries)")
        if code in parties:
            reader.fail(party, f"{ident}: {code} is a party twice")
        parties.append(code)
    if len(parties) < 2:  # noqa: PLR2004 - an agreement binds at least two parties
        reader.fail(node, f"{ident}: an agreement needs at least two parties")
    return parties


def _categories(reader: _Reader, node: yaml.Node, ident: str) -> frozenset[str]:
    known = known_categories()
    categories: set[str] = set()
    for item in reader.sequence(node, f"{ident} categories"):
        category = reader.string(item, f"a category of {ident}")
        if category not in known:
            reader.fail(item, f"{ident}: unknown category {category!r}; known: {sorted(known)}")
        categories.add(category)
    if not categories:
        reader.fail(node, f"{ident}: an agreement covers at least one category")
    return frozenset(categories)


def _agreement(reader: _Reader, node: yaml.Node, codes: frozenset[str]) -> Agreement:
    fields = reader.mapping(
        node,
        "an agreement",
        required=("id", "parties", "categories", "max_tlp", "retention_days"),
        optional=("name",),
    )
    ident = reader.string(fields["id"], "an agreement id")
    if not _ID.match(ident):
        reader.fail(fields["id"], f"agreement id {ident!r} may hold only letters, digits, . _ -")
    max_tlp = reader.string(fields["max_tlp"], f"{ident} max_tlp")
    if max_tlp not in TLP_ORDER:
        reader.fail(fields["max_tlp"], f"{ident}: max_tlp {max_tlp!r} is not one of {TLP_ORDER}")
    retention = reader.integer(fields["retention_days"], f"{ident} retention_days")
    if retention <= 0:
        reader.fail(fields["retention_days"], f"{ident}: retention_days must be positive")
    return Agreement(
        id=ident,
        name=reader.string(fields["name"], f"{ident} name") if "name" in fields else None,
        parties=tuple(_parties(reader, fields["parties"], ident, codes)),
        categories=_categories(reader, fields["categories"], ident),
        max_tlp=max_tlp,
        retention_days=retention,
    )


def parse_network(text: str, *, source: str = "<network>", base: Path | None = None) -> Network:
    """Parse and validate a network file's text (``base``: the folder ``keys:`` is relative to).

    Raises:
        NetworkError: ``source:line:column: reason`` for the first problem found.
    """
    reader = _Reader(source)
    root = reader.compose(text)
    if root is None:
        reader.fail(None, "empty network file")
    top = reader.mapping(
        root, "the network file", required=("countries", "agreements"), optional=("keys",)
    )
    countries: list[Country] = []
    agency_ids: set[str] = set()
    for node in reader.sequence(top["countries"], "countries"):
        country = _country(reader, node, agency_ids)
        if any(c.code == country.code for c in countries):
            reader.fail(node, f"duplicate country code {country.code!r}")
        countries.append(country)
    codes = frozenset(c.code for c in countries)
    agreements: list[Agreement] = []
    for node in reader.sequence(top["agreements"], "agreements"):
        agreement = _agreement(reader, node, codes)
        if any(a.id == agreement.id for a in agreements):
            reader.fail(node, f"duplicate agreement id {agreement.id!r}")
        agreements.append(agreement)
    public_keys = None
    if "keys" in top:
        public_keys = _public_keys(reader, top["keys"], codes, base)
    return Network(
        countries=tuple(countries),
        agreements=tuple(agreements),
        source=source,
        public_keys=public_keys,
    )


def _public_keys(
    reader: _Reader, node: yaml.Node, codes: frozenset[str], base: Path | None
) -> dict[str, bytes]:
    """``<CC>.pub`` of each country in the folder ``keys:`` names (relative to the file)."""
    folder = Path(reader.string(node, "keys (a folder of <CC>.pub files)"))
    if not folder.is_absolute() and base is not None:
        folder = base / folder
    if not folder.is_dir():
        reader.fail(node, f"keys folder {folder} does not exist (intelshare keys makes one)")
    found: dict[str, bytes] = {}
    for code in sorted(codes):
        path = folder / f"{code}.pub"
        if not path.exists():
            continue  # that country's messages are refused (unknown-key) until it has one
        try:
            found[code] = parse_key(path.read_text(encoding="ascii"))
        except (OSError, UnicodeDecodeError, KeyFormatError) as error:
            reader.fail(node, f"{path}: not a public key: {error}")
    return found


def default_network_path() -> Path:
    """The network file shipped with the package."""
    return Path(str(resources.files("intelshare") / "data" / "network.yaml"))


def load_network(path: Path | None = None) -> Network:
    """Load a network file; ``None`` means the shipped default network.

    Raises:
        NetworkError: the file cannot be read or is invalid (file, line, reason).
    """
    if path is None:
        return default_network()
    try:
        with path.open("rb") as stream:
            # Bounded: a device such as /dev/zero named by mistake must not be read forever.
            data = stream.read(MAX_NETWORK_BYTES + 1)
        if len(data) > MAX_NETWORK_BYTES:
            raise NetworkError(f"{path}: larger than {MAX_NETWORK_BYTES} bytes; not a network file")
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise NetworkError(f"{path}: cannot read: {error}") from error
    return parse_network(text, source=str(path), base=path.parent)


@functools.cache
def default_network() -> Network:
    """The shipped default network, loaded once per process."""
    path = default_network_path()
    return parse_network(path.read_text(encoding="utf-8"), source=str(path))
