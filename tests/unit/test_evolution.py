from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import avro.schema
import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
from fastavro.utils import generate_many

from intelshare.contract import codec
from intelshare.contract.alerts import new_alert
from intelshare.contract.schemas import default_registry

if TYPE_CHECKING:
    from intelshare.contract.schemas import Schema

REGISTRY = default_registry()
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

PUBLISHED_FINGERPRINTS = {
    "intelshare.v1.Alert": "ea4a40656abd0dfa",
    "intelshare.v2.Alert": "051b80fd9089fbbe",
    "intelshare.v1.ConsentGrant": "147afa358883fd92",
    "intelshare.v1.ConsentRequest": "ae47e5bd115faac6",
    "intelshare.v1.DeadLetter": "1ffbeeb67e944781",
    "intelshare.v2.DeadLetter": "b2883ab0f67430b8",
    "intelshare.v1.Receipt": "60eee3eb8ed1cf01",
}
"""Fingerprints of every published version. Messages carrying them may still be in flight or
on disk, so a published schema never changes: add a new version instead (and a line here)."""

GOLDEN_V1_ALERT = bytes.fromhex(
    "c301ea4a40656abd0dfa1e47422d41443445353141323337394102000c434153452d370447422c4e6174696f6e61"
    "6c20636f6e7461637420706f696e740004045253044d4b000a0204040004000000000002040204703104000000"
    "020452530002040002045452000000000002000212546162616e6f766365044d4b9a999999991945403333333333"
    "b335400000000a045452044752044d4b04525304485500764d696772616e74732068696464656e20616d6f6e67"
    "20636172676f20696e206c6f7272696573206174207468652052532d4d4b20626f726465722e80fa8f96c46880"
    "9a86bed76802808af4d6c8680204474200"
)
"""An Alert written with intelshare.v1 when it was the newest version."""
GOLDEN_V1_RECEIPT = bytes.fromhex(
    "c30160eee3eb8ed1cf0106522d311e47422d414434453531413233373941020c434153452d3704474204525308"
    "000222647269766572206964656e74696669656480fa8f96c468"
)
"""A Receipt written with intelshare.v1."""


def _pairs() -> list[Any]:
    """Every (writer, reader) pair of versions of the same name, older writer first."""
    pairs = []
    for name in REGISTRY.names:
        for writer, reader in itertools.product(REGISTRY.versions(name), repeat=2):
            if writer.version <= reader.version:
                pairs.append(
                    pytest.param(writer, reader, id=f"{writer.full_name}->{reader.full_name}")
                )
    return pairs


def _reference(schema: Schema) -> avro.schema.Schema:
    return avro.schema.parse(json.dumps(schema.definition))


def test_published_schemas_never_change() -> None:
    """Every published version keeps its fingerprint, and every version is listed as published."""
    current = {s.full_name: s.fingerprint_hex for s in REGISTRY.schemas}
    assert current == PUBLISHED_FINGERPRINTS


@pytest.mark.parametrize(("writer", "reader"), _pairs())
def test_every_version_reads_every_older_version(writer: Schema, reader: Schema) -> None:
    """Backward compatibility: each version reads records generated for every older version."""
    random.seed(23)
    for record in generate_many(writer.parsed, 40):
        data = codec.encode_with(writer, record)
        decoded = codec.decode(REGISTRY, data, reader=reader.full_name)
        assert decoded.writer is writer
        assert decoded.reader is reader


@pytest.mark.parametrize(("writer", "reader"), _pairs())
def test_reference_checker_agrees_backward(writer: Schema, reader: Schema) -> None:
    """The Apache library's schema compatibility checker finds each newer reader compatible."""
    result = ReaderWriterCompatibilityChecker().get_compatibility(
        _reference(reader), _reference(writer)
    )
    assert result.compatibility is SchemaCompatibilityType.compatible, result.messages


def test_old_golden_messages_still_decode() -> None:
    """Messages written with v1 when it was newest decode with today's newest readers."""
    alert = codec.decode(REGISTRY, GOLDEN_V1_ALERT)
    assert alert.schema_name == "intelshare.v1.Alert"
    assert alert.reader.full_name == "intelshare.v2.Alert"
    assert alert.record["related_alert_ids"] == []
    assert alert.record["locations"][0]["name"] == "Tabanovce"
    receipt = codec.decode(REGISTRY, GOLDEN_V1_RECEIPT)
    assert receipt.record["status"] == "HIT"
    assert receipt.record["sent_at"] == NOW


def _v2_alert(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "originator": "GB",
        "recipients": ["AL"],
        "category": "MODUS_OPERANDI",
        "case_id": "CASE-9",
        "summary": "Passports from the same stolen blank series.",
        "seed": "evolution",
        "created_at": NOW,
        "related_alert_ids": ["GB-0001"],
    }
    fields.update(changes)
    return new_alert(**fields)


def test_v1_alert_reads_under_v2_with_the_default() -> None:
    """A v1 Alert decodes as v2 with related_alert_ids taking its default."""
    v1_record = dict(_v2_alert())
    del v1_record["related_alert_ids"]
    data = codec.encode(REGISTRY, "intelshare.v1.Alert", v1_record)
    decoded = codec.decode(REGISTRY, data)
    assert decoded.schema_name == "intelshare.v1.Alert"
    assert decoded.record == {**v1_record, "related_alert_ids": []}


def test_v2_alert_reads_under_a_v1_reader() -> None:
    """A v1 reader reads a v2 Alert by skipping the field it does not know."""
    record = _v2_alert()
    decoded = codec.decode(
        REGISTRY, codec.encode(REGISTRY, "Alert", record), reader="intelshare.v1.Alert"
    )
    assert decoded.schema_name == "intelshare.v2.Alert"
    assert "related_alert_ids" not in decoded.record
    assert decoded.record["summary"] == record["summary"]


def test_new_category_reads_as_unknown_under_v1() -> None:
    """A category only v2 knows reads as the enum's UNKNOWN default under a v1 reader."""
    data = codec.encode(REGISTRY, "Alert", _v2_alert(category="DOCUMENT_FRAUD"))
    decoded = codec.decode(REGISTRY, data, reader="intelshare.v1.Alert")
    assert decoded.record["category"] == "UNKNOWN"


def test_v2_is_v1_plus_defaulted_additions() -> None:
    """v2 keeps every v1 field in order and only appends fields that have a default."""
    v1 = REGISTRY.get("intelshare.v1.Alert").definition["fields"]
    v2 = REGISTRY.get("intelshare.v2.Alert").definition["fields"]
    assert [f["name"] for f in v2[: len(v1)]] == [f["name"] for f in v1]
    assert all("default" in f for f in v2[len(v1) :])
    assert [f["name"] for f in v2[len(v1) :]] == ["related_alert_ids"]
