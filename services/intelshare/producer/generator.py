"""Seeded, realistic alerts for one originating country, addressed where agreements allow.

The content is drawn from the README's story: the Western Balkans route, lorries with
people hidden among cargo at the Serbia-North Macedonia border, boats and engines shipped
from Türkiye and stored in Germany before northern France, hawala money released on
arrival. Persons and plates are invented. Recipients are chosen among the partners the
policy allows for the alert's category and handling, so every copy can be sent; a
``misaddress`` fraction adds one partner the policy refuses, to show refusals. Now and then
an earlier alert is updated or revoked. The same seed gives the same sequence.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from intelshare.contract.alerts import AlertHeader, alert_id_for, new_alert, revise, revoke
from intelshare.errors import SettingsError
from intelshare.network.policy import check_send

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from intelshare.network.model import Network

CATEGORIES: Final = {
    "DISCREET_CHECK": 14,
    "SPECIFIC_CHECK": 8,
    "WANTED_FOR_ARREST": 8,
    "MISSING_PERSON": 5,
    "OBJECT_FOR_SEIZURE": 14,
    "MODUS_OPERANDI": 18,
    "IMMINENT_THREAT": 10,
    "REQUEST_FOR_INFORMATION": 18,
    "DOCUMENT_FRAUD": 5,
}
"""Relative frequency of each category."""
TLPS: Final = {
    "TLP_CLEAR": 4,
    "TLP_GREEN": 30,
    "TLP_AMBER": 50,
    "TLP_AMBER_STRICT": 10,
    "TLP_RED": 6,
}
"""Relative frequency of each TLP level (policy then narrows the recipients)."""
PRIORITIES: Final = {"LOW": 10, "NORMAL": 55, "HIGH": 25, "URGENT": 10}
"""Relative frequency of each priority."""

# (kind, name, country, latitude, longitude): places on the route, approximately located.
PLACES: Final = (
    ("BORDER_CROSSING_POINT", "Kapitan Andreevo", "BG", 41.718, 26.318),
    ("BORDER_CROSSING_POINT", "Kipoi (Evros)", "GR", 40.935, 26.303),
    ("BORDER_CROSSING_POINT", "Gevgelija", "MK", 41.140, 22.505),
    ("BORDER_CROSSING_POINT", "Tabanovce", "MK", 42.214, 21.706),
    ("BORDER_CROSSING_POINT", "Preševo", "RS", 42.308, 21.649),
    ("BORDER_CROSSING_POINT", "Horgoš", "RS", 46.155, 19.970),
    ("GREEN_BORDER", "Lojane", "MK", 42.238, 21.660),
    ("GREEN_BORDER", "Kelebija forest", "RS", 46.170, 19.610),
    ("SAFE_HOUSE", "Subotica outskirts", "RS", 46.100, 19.667),
    ("SAFE_HOUSE", "Kumanovo", "MK", 42.132, 21.714),
    ("WAREHOUSE", "Istanbul Esenyurt", "TR", 41.034, 28.677),
    ("WAREHOUSE", "Dortmund industrial estate", "DE", 51.514, 7.465),
    ("WAREHOUSE", "Pristina logistics park", "XK", 42.663, 21.166),
    ("EMBARKATION_POINT", "Gravelines beach", "FR", 50.990, 2.125),
    ("EMBARKATION_POINT", "Loon-Plage", "FR", 51.000, 2.220),
    ("EMBARKATION_POINT", "Wimereux", "FR", 50.769, 1.611),
    ("MONEY_SERVICE_BUSINESS", "Belgrade exchange office", "RS", 44.816, 20.460),
    ("MONEY_SERVICE_BUSINESS", "Tirana money transfer shop", "AL", 41.327, 19.819),
)
FAMILY_NAMES: Final = (
    "Petrović",
    "Kaya",
    "Hoxha",
    "Dimitrovski",
    "Berisha",
    "Öztürk",
    "Nikolić",
    "Krasniqi",
    "Stojanov",
    "Demir",
)
GIVEN_NAMES: Final = (
    "Marko",
    "Emre",
    "Arben",
    "Goran",
    "Driton",
    "Mehmet",
    "Stefan",
    "Ilir",
    "Nikola",
    "Burak",
)
CONCEALMENT: Final = (
    "people hidden among pallets of furniture in the trailer",
    "compartment welded under the floor of a van",
    "rented van driven by a hired driver recruited online",
    "migrants concealed behind a false wall of boxed tiles",
)
ROUTE: Final = (("TR",), ("GR", "BG"), ("MK",), ("RS",), ("HU", "HR"), ("DE",), ("FR",), ("GB",))
"""The route in travel order; alternatives at each step."""


@dataclass(frozen=True, kw_only=True, slots=True)
class _Draft:
    category: str
    tlp: str
    recipients: tuple[str, ...]


class AlertGenerator:
    """An endless, seeded source of plausible Alert records from one country."""

    def __init__(
        self,
        network: Network,
        country: str,
        *,
        seed: int = 0,
        misaddress: float = 0.0,
        changes: float = 0.08,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Generate as ``country``; ``misaddress`` and ``changes`` are fractions (0 to 1).

        Raises:
            SettingsError: the country has no partner to send to.
        """
        self.network = network
        self.country = country
        self.seed = seed
        self._random = random.Random(f"{seed}:{country}")  # noqa: S311 - not for secrets
        self._misaddress = misaddress
        self._changes = changes
        self._clock = clock or (lambda: datetime.now(UTC))
        self._partners = tuple(sorted(network.partners(country)))
        if not self._partners:
            raise SettingsError(f"{country} has no agreement with anyone in {network.source}")
        self._count = 0
        self._live: list[dict[str, Any]] = []
        country_info = network.country(country)
        self._agencies = tuple(a.name for a in country_info.agencies) if country_info else ()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Alerts without end."""
        while True:
            yield self.next()

    def next(self) -> dict[str, Any]:
        """The next alert: usually a new one, sometimes an update or revocation of an earlier."""
        roll = self._random.random()
        if self._live and roll < self._changes:
            earlier = self._live.pop(self._random.randrange(len(self._live)))
            if self._random.random() < 0.3:  # noqa: PLR2004 - about a third of changes revoke
                return revoke(earlier, created_at=self._clock())
            summary = f"{earlier['summary']} Update: {self._pick(CONCEALMENT)} confirmed."
            updated = revise(earlier, created_at=self._clock(), summary=summary[:400])
            self._live.append(updated)
            return updated
        record = self._new()
        self._live = [*self._live[-19:], record]
        return record

    # --- building one alert -------------------------------------------------------------

    def _new(self) -> dict[str, Any]:
        self._count += 1
        draft = self._draft()
        recipients = list(draft.recipients)
        if self._misaddress and self._random.random() < self._misaddress:
            refused = [c for c in self.network.codes if c not in recipients and c != self.country]
            recipients.append(self._random.choice(refused))
        category = draft.category
        case = self._random.randint(1, max(3, self._count // 4))
        record = new_alert(
            originator=self.country,
            recipients=recipients,
            category=category,
            case_id=f"{self.country}-CASE-{case:04d}",
            summary=self._summary(category),
            agency=self._pick(self._agencies) if self._agencies else "National contact point",
            alert_id=alert_id_for(self.country, (self.seed, self._count)),
            priority=self._weighted(PRIORITIES),
            tlp=draft.tlp,
            eu_handling=self._eu_handling(),
            uk_handling="C" if self._random.random() < 0.1 else "P",  # noqa: PLR2004
            uk_conditions=None,
            grading=self._grading(),
            created_at=self._clock(),
            route_countries=self._route(),
        )
        record.update(self._subjects(category))
        if record["uk_handling"] == "C":
            record["uk_conditions"] = "Not to be disclosed to the subject; no onward sharing"
        return record

    def _draft(self) -> _Draft:
        # Draw category and TLP, keep the partners the policy allows; redraw if none.
        now = self._clock()
        for _ in range(50):
            category = self._weighted(CATEGORIES)
            tlp = self._weighted(TLPS)
            probe = new_alert(
                originator=self.country,
                recipients=self._partners,
                category=category,
                case_id="probe",
                summary="probe",
                tlp=tlp,
                created_at=now,
            )
            header = AlertHeader.from_record(probe)
            allowed = [
                p for p in self._partners if check_send(self.network, header, p, now).allowed
            ]
            if allowed:
                count = min(len(allowed), self._random.choice((1, 1, 1, 2, 2, 3)))
                chosen = self._random.sample(allowed, count)
                return _Draft(category=category, tlp=tlp, recipients=tuple(sorted(chosen)))
        raise SettingsError(f"{self.country}: no category and TLP its agreements allow")

    def _summary(self, category: str) -> str:
        place = self._pick(PLACES)
        texts = {
            "DISCREET_CHECK": f"Lorry seen near {place[1]}: {self._pick(CONCEALMENT)}.",
            "SPECIFIC_CHECK": f"Stop and search the van at {place[1]}; {self._pick(CONCEALMENT)}.",
            "WANTED_FOR_ARREST": f"Organiser of crossings via {place[1]} wanted on a warrant.",
            "MISSING_PERSON": f"Unaccompanied minor last seen near {place[1]} with a facilitator.",
            "OBJECT_FOR_SEIZURE": "Consignment of inflatable boats and outboard engines declared "
            f"as furniture, shipped from Türkiye, stored near {place[1]}.",
            "MODUS_OPERANDI": f"Group moves people through {place[1]}: {self._pick(CONCEALMENT)}; "
            "hawala payment released when arrival is confirmed.",
            "IMMINENT_THREAT": f"Crossing attempt expected from {place[1]} within 48 hours; "
            "overloaded inflatable boat.",
            "REQUEST_FOR_INFORMATION": f"Requesting records of transfers via a money service "
            f"business in {place[1]} linked to the case.",
            "DOCUMENT_FRAUD": f"Forged passports supplied to migrants in {place[1]}.",
        }
        return texts[category]

    def _subjects(self, category: str) -> dict[str, list[dict[str, Any]]]:
        place = self._pick(PLACES)
        location = {
            "kind": place[0],
            "name": place[1],
            "country": place[2],
            "latitude": place[3],
            "longitude": place[4],
        }
        person = {
            "person_id": "P1",
            "role": self._pick(("ORGANISER", "FACILITATOR", "DRIVER", "MONEY_HANDLER")),
            "family_name": self._pick(FAMILY_NAMES),
            "given_names": self._pick(GIVEN_NAMES),
            "nationality": self._pick(("RS", "MK", "AL", "TR", "XK", "BG")),
        }
        subjects: dict[str, list[dict[str, Any]]] = {"locations": [location], "persons": [person]}
        if category in ("DISCREET_CHECK", "SPECIFIC_CHECK", "MODUS_OPERANDI"):
            subjects["vehicles"] = [
                {
                    "kind": self._pick(("LORRY", "VAN", "TRAILER", "CAR")),
                    "registration": f"{self._random.randint(100, 999)}-{self._letters(3)}",
                    "registration_country": self._pick(("RS", "MK", "BG", "TR", "DE")),
                    "description": self._pick(CONCEALMENT),
                }
            ]
        if category in ("OBJECT_FOR_SEIZURE", "IMMINENT_THREAT"):
            subjects["equipment"] = [
                {
                    "kind": "INFLATABLE_BOAT",
                    "quantity": self._random.randint(2, 40),
                    "declared_as": "furniture",
                },
                {
                    "kind": "OUTBOARD_ENGINE",
                    "quantity": self._random.randint(2, 30),
                    "declared_as": "garden machinery",
                },
                {
                    "kind": "LIFE_JACKET",
                    "quantity": self._random.randint(50, 900),
                    "declared_as": None,
                },
            ]
        if category in ("MODUS_OPERANDI", "REQUEST_FOR_INFORMATION"):
            subjects["payments"] = [
                {
                    "method": self._pick(("HAWALA", "CASH", "MONEY_SERVICE_BUSINESS", "CRYPTO")),
                    "amount_minor": self._random.randint(1500, 9000) * 100,
                    "currency": "EUR",
                    "condition": "released when the migrant's arrival is confirmed",
                }
            ]
        if category in ("DOCUMENT_FRAUD", "WANTED_FOR_ARREST"):
            subjects["documents"] = [
                {
                    "kind": "PASSPORT",
                    "status": self._pick(("FORGED", "COUNTERFEIT", "IMPOSTOR", "STOLEN_BLANK")),
                    "number": f"{self._letters(2)}{self._random.randint(1000000, 9999999)}",
                    "issuing_country": self._pick(("BG", "GR", "HR")),
                    "holder_person_id": "P1",
                }
            ]
        return subjects

    def _route(self) -> list[str]:
        start = self._random.randrange(0, 4)
        return [self._pick(step) for step in ROUTE[start:]]

    def _eu_handling(self) -> list[str]:
        roll = self._random.random()
        if roll < 0.7:  # noqa: PLR2004 - most alerts carry only the default H0
            return ["H0"]
        if roll < 0.85:  # noqa: PLR2004
            return ["H0", "H1"]
        return ["H0", "H2"]

    def _grading(self) -> dict[str, Any]:
        if self._random.random() < 0.2:  # noqa: PLR2004 - one in five uses 3x5x2
            return {"source": self._random.randint(1, 3), "intelligence": self._pick("ABC")}
        return {"reliability": self._pick("ABBC"), "credibility": self._random.randint(1, 3)}

    def _pick(self, options: Sequence[Any]) -> Any:  # noqa: ANN401 - options of any kind
        return self._random.choice(options)

    def _weighted(self, weights: dict[str, int]) -> str:
        return self._random.choices(tuple(weights), weights=tuple(weights.values()))[0]

    def _letters(self, count: int) -> str:
        return "".join(self._random.choice("ABCDEFGHJKLMNPRSTUVZ") for _ in range(count))
