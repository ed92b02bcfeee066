from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from intelshare.contract import codec
from intelshare.contract.alerts import (
    AlertHeader,
    Grading,
    alert_id_for,
    new_alert,
    revise,
    revoke,
    to_millis,
)
from intelshare.contract.schemas import default_registry

NOW = datetime(2026, 11, 28, 9, 0, 0, 123456, tzinfo=UTC)


def _alert(**changes: object) -> dict[str, object]:
    """A GB alert to RS and MK with mostly default fields."""
    fields: dict[str, object] = {
        "originator": "GB",
        "recipients": ["RS", "MK"],
        "category": "DISCREET_CHECK",
        "case_id": "CASE-7",
        "summary": "Driver of a rented van linked to a safe house.",
        "seed": "story-1",
        "created_at": NOW,
    }
    fields.update(changes)
    return new_alert(**fields)  # type: ignore[arg-type]


def test_new_alert_encodes_with_the_newest_schema() -> None:
    """A record from new_alert with only the required arguments fits the newest Alert schema."""
    record = _alert()
    decoded = codec.decode(default_registry(), codec.encode(default_registry(), "Alert", record))
    assert decoded.schema_name == "intelshare.v2.Alert"
    assert decoded.record["alert_id"] == record["alert_id"]


def test_seeded_ids_are_deterministic() -> None:
    """The same seed gives the same alert id; another seed or originator gives another."""
    assert _alert()["alert_id"] == _alert()["alert_id"] == alert_id_for("GB", "story-1")
    assert _alert(seed="story-2")["alert_id"] != _alert()["alert_id"]
    assert alert_id_for("RS", "story-1") != alert_id_for("GB", "story-1")
    assert str(_alert()["alert_id"]).startswith("GB-")


def test_unseeded_ids_differ() -> None:
    """Without a seed or id each alert gets a fresh random id."""
    assert _alert(seed=None)["alert_id"] != _alert(seed=None)["alert_id"]


def test_explicit_id_wins_over_seed() -> None:
    """An explicit alert_id is used as given."""
    assert _alert(alert_id="GB-0001")["alert_id"] == "GB-0001"


def test_defaults() -> None:
    """Defaults: revision 1, ALERT, NORMAL, TLP:AMBER, H0, UK P, Admiralty B2, hop path GB."""
    record = _alert()
    assert record["revision"] == 1
    assert record["message_type"] == "ALERT"
    assert record["priority"] == "NORMAL"
    assert record["tlp"] == "TLP_AMBER"
    assert record["eu_handling"] == ["H0"]
    assert record["uk_handling"] == "P"
    assert record["grading"] == {"reliability": "B", "credibility": 2}
    assert record["hop_path"] == ["GB"]


def test_times_are_cut_to_milliseconds_and_defaulted() -> None:
    """created_at is cut to ms; valid_until defaults to 30 days on; response per priority."""
    record = _alert()
    created = NOW.replace(microsecond=123000)
    assert record["created_at"] == created
    assert record["valid_until"] == created + timedelta(days=30)
    assert record["response_due"] == created + timedelta(days=7)
    assert _alert(priority="URGENT")["response_due"] == created + timedelta(hours=8)
    assert _alert(priority="HIGH")["response_due"] == created + timedelta(days=3)
    assert _alert(expect_response=False)["response_due"] is None


def test_naive_datetimes_are_refused() -> None:
    """A datetime without a time zone is refused rather than guessed."""
    with pytest.raises(ValueError, match="no time zone"):
        to_millis(datetime(2026, 1, 1))  # noqa: DTZ001 - the naive value is the point


def test_other_time_zones_become_utc() -> None:
    """An aware datetime in another zone is stored as the same instant in UTC."""
    moment = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=3)))
    assert to_millis(moment) == datetime(2026, 1, 1, 9, tzinfo=UTC)
    assert to_millis(moment).tzinfo is UTC


def test_subjects_are_passed_through() -> None:
    """Persons, vehicles and the other lists go into the record and encode."""
    record = _alert(
        persons=[{"person_id": "p1", "role": "DRIVER"}],
        vehicles=[{"kind": "VAN", "registration": "AB12CDE"}],
        locations=[{"kind": "SAFE_HOUSE", "country": "RS", "latitude": 44.8, "longitude": 20.46}],
        payments=[{"method": "HAWALA", "condition": "released on arrival"}],
        related_alert_ids=["GB-0000"],
    )
    decoded = codec.decode(default_registry(), codec.encode(default_registry(), "Alert", record))
    assert decoded.record["persons"][0]["role"] == "DRIVER"
    assert decoded.record["vehicles"][0]["registration_country"] is None
    assert decoded.record["related_alert_ids"] == ["GB-0000"]


def test_revise_and_revoke() -> None:
    """An update or revocation keeps the id and adds one to the revision."""
    first = _alert()
    later = NOW + timedelta(hours=1)
    update = revise(first, created_at=later, summary="Van seen again.")
    assert (update["alert_id"], update["revision"], update["message_type"]) == (
        first["alert_id"],
        2,
        "UPDATE",
    )
    assert update["summary"] == "Van seen again."
    revocation = revoke(update, created_at=later)
    assert (revocation["revision"], revocation["message_type"]) == (3, "REVOCATION")
    assert first["revision"] == 1


def test_header_view() -> None:
    """AlertHeader reads the routing fields of a decoded record, typed."""
    record = codec.decode(
        default_registry(),
        codec.encode(default_registry(), "Alert", _alert(eu_handling=["H0", "H2"])),
    ).record
    header = AlertHeader.from_record(record)
    assert header.originator == "GB"
    assert header.recipients == ("RS", "MK")
    assert header.handling.eu == {"H0", "H2"}
    assert header.grading.code == "B2"
    assert header.valid_until.tzinfo is not None
    assert header.log_fields()["eu_handling"] == ["H0", "H2"]
    assert header.log_fields()["tlp"] == "TLP_AMBER"


@pytest.mark.parametrize(
    ("grading", "code", "valid"),
    [
        pytest.param({"reliability": "A", "credibility": 1}, "A1", True, id="admiralty-a1"),
        pytest.param({"reliability": "F", "credibility": 6}, "F6", True, id="admiralty-f6"),
        pytest.param({"reliability": "B", "credibility": 7}, "B7", False, id="admiralty-7"),
        pytest.param({"source": 1, "intelligence": "A"}, "1A", True, id="3x5x2-1a"),
        pytest.param({"source": 3, "intelligence": "E"}, "3E", True, id="3x5x2-3e"),
        pytest.param({"source": 4, "intelligence": "A"}, "4A", False, id="3x5x2-4"),
    ],
)
def test_grading_schemes(grading: dict[str, object], code: str, valid: bool) -> None:
    """Both grading schemes read into one view with a compact code and a range check."""
    view = Grading.from_record(grading)
    assert view.code == code
    assert view.valid is valid


def test_unknown_list_field_is_refused() -> None:
    """A misspelt list field is an error at once, not a silent extra key."""
    with pytest.raises(TypeError, match="persona"):
        _alert(persona=[{"person_id": "p1", "role": "DRIVER"}])


def test_new_alert_decodes_to_itself() -> None:
    """A new alert equals its decoded form: every list field is present, times are exact."""
    record = _alert()
    assert (
        codec.decode(default_registry(), codec.encode(default_registry(), "Alert", record)).record
        == record
    )
