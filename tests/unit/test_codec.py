from __future__ import annotations

import io
import json
import random
import re
from datetime import UTC, datetime
from typing import Any

import avro.io
import avro.schema
import pytest
from fastavro.utils import generate_many

from intelshare.contract import codec
from intelshare.contract.schemas import Schema, default_registry, parse_definition
from intelshare.errors import (
    BadMarker,
    CorruptBody,
    DecodeError,
    EncodeError,
    MessageTooShort,
    SchemaError,
    UnknownFingerprint,
)

REGISTRY = default_registry()
SCHEMAS = REGISTRY.schemas
RECORDS_PER_SCHEMA = 25


def _generated(schema: Schema, seed: int = 7) -> list[dict[str, Any]]:
    """Records fastavro's generator makes for a schema, normalised to what decoding returns."""
    random.seed(seed)
    raw = list(generate_many(schema.parsed, RECORDS_PER_SCHEMA))
    # The generator gives logical types as raw numbers; one pass makes them datetimes.
    return [
        codec.decode(REGISTRY, codec.encode_with(schema, r), reader=schema.full_name).record
        for r in raw
    ]


def _reference_body(schema: Schema, record: dict[str, Any]) -> bytes:
    """The Avro binary body the Apache reference library writes for a record."""
    writer = avro.io.DatumWriter(avro.schema.parse(json.dumps(schema.definition)))
    out = io.BytesIO()
    writer.write(record, avro.io.BinaryEncoder(out))
    return out.getvalue()


def _reference_header(schema: Schema) -> bytes:
    """The single-object header computed with the reference library's CRC-64-AVRO.

    The Python reference library keeps ``{"type": "long"}`` for logical types in its
    canonical form where the specification (and the Java library) reduce it to ``"long"``;
    the canonical form is normalised by that one rule before fingerprinting.
    """
    canonical = avro.schema.parse(json.dumps(schema.definition)).canonical_form
    for primitive in ("int", "long"):
        canonical = canonical.replace(f'{{"type":"{primitive}"}}', f'"{primitive}"')
    return b"\xc3\x01" + avro.schema._crc_64_fingerprint(canonical.encode())


def _receipt(**changes: Any) -> dict[str, Any]:
    """A valid Receipt record with some fields changed."""
    record: dict[str, Any] = {
        "receipt_id": "R-1",
        "alert_id": "GB-0001",
        "revision": 1,
        "case_id": "CASE-7",
        "originator": "GB",
        "recipient": "RS",
        "status": "HIT",
        "sent_at": datetime(2026, 11, 28, 9, 0, tzinfo=UTC),
    }
    record.update(changes)
    return record


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.full_name)
def test_generated_records_round_trip(schema: Schema) -> None:
    """Every schema version decodes what it encodes, record for record and byte for byte."""
    for record in _generated(schema):
        data = codec.encode_with(schema, record)
        decoded = codec.decode(REGISTRY, data, reader=schema.full_name)
        assert decoded.record == record
        assert decoded.writer is schema
        assert codec.encode_with(schema, decoded.record) == data


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.full_name)
def test_body_matches_the_reference_library(schema: Schema) -> None:
    """After the header, the bytes equal what the Apache avro library writes for the record."""
    for record in _generated(schema, seed=11):
        assert codec.encode_with(schema, record)[codec.HEADER_SIZE :] == _reference_body(
            schema, record
        )


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.full_name)
def test_header_matches_the_reference_library(schema: Schema) -> None:
    """The header is C3 01 plus the reference library's fingerprint of the canonical form."""
    record = _generated(schema)[0]
    assert codec.encode_with(schema, record)[: codec.HEADER_SIZE] == _reference_header(schema)
    assert codec.header(schema) == _reference_header(schema)


def test_fingerprint_equals_the_reference_library_without_logical_types() -> None:
    """For a schema without logical types, the reference library's own fingerprint is ours."""
    definition = {
        "type": "record",
        "name": "Probe",
        "namespace": "intelshare.v1",
        "fields": [
            {"name": "a", "type": "string"},
            {"name": "b", "type": {"type": "enum", "name": "E", "symbols": ["X", "Y"]}},
            {"name": "c", "type": ["null", {"type": "array", "items": "long"}]},
        ],
    }
    ours = parse_definition(definition, source="probe")
    assert ours.fingerprint == avro.schema.parse(json.dumps(definition)).fingerprint()


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.full_name)
def test_reference_library_reads_our_body(schema: Schema) -> None:
    """The Apache avro library reads our body back to the record we wrote."""
    reader = avro.io.DatumReader(avro.schema.parse(json.dumps(schema.definition)))
    for record in _generated(schema, seed=13)[:5]:
        body = codec.encode_with(schema, record)[codec.HEADER_SIZE :]
        assert reader.read(avro.io.BinaryDecoder(io.BytesIO(body))) == record


def test_header_layout() -> None:
    """A message starts with C3 01 and the writer's 8-byte fingerprint."""
    data = codec.encode(REGISTRY, "Receipt", _receipt())
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == REGISTRY.get("Receipt").fingerprint
    assert codec.read_header(REGISTRY, data) is REGISTRY.get("Receipt")


def test_decoded_names_the_writer() -> None:
    """Decoded carries the writer's full and short name and the record read."""
    decoded = codec.decode(REGISTRY, codec.encode(REGISTRY, "Receipt", _receipt()))
    assert decoded.schema_name == "intelshare.v1.Receipt"
    assert decoded.name == "Receipt"
    assert decoded.record == _receipt(rule=None, note=None)


def test_missing_fields_with_defaults_are_filled_in() -> None:
    """A record may leave out fields that have a default; they decode as the default."""
    decoded = codec.decode(REGISTRY, codec.encode(REGISTRY, "Receipt", _receipt()))
    assert decoded.record["rule"] is None


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        pytest.param(b"", MessageTooShort, "0 bytes", id="empty"),
        pytest.param(b"\xc3\x01" + b"\0" * 7, MessageTooShort, "9 bytes", id="nine-bytes"),
        pytest.param(b"\x4f\x62" + b"\0" * 12, BadMarker, "starts with 4f62", id="no-marker"),
        pytest.param(b"\xc3\x02" + b"\0" * 12, BadMarker, "c302", id="wrong-version-byte"),
        pytest.param(
            b"\xc3\x01" + bytes.fromhex("0102030405060708") + b"\0",
            UnknownFingerprint,
            "0102030405060708",
            id="unknown-fingerprint",
        ),
    ],
)
def test_bad_headers_raise_typed_errors(
    data: bytes, error: type[DecodeError], message: str
) -> None:
    """Each kind of bad header raises its own DecodeError subclass with a clear message."""
    with pytest.raises(error, match=message):
        codec.decode(REGISTRY, data)


def test_truncated_body_is_corrupt() -> None:
    """A message cut short inside its body raises CorruptBody."""
    data = codec.encode(REGISTRY, "Receipt", _receipt())
    with pytest.raises(CorruptBody, match="does not decode"):
        codec.decode(REGISTRY, data[:-5])


def test_trailing_bytes_are_corrupt() -> None:
    """Bytes left over after the record mean the message is not what its header says."""
    data = codec.encode(REGISTRY, "Receipt", _receipt())
    with pytest.raises(CorruptBody, match="3 bytes left over"):
        codec.decode(REGISTRY, data + b"xyz")


def test_garbled_body_is_corrupt() -> None:
    """An enum index out of range in the body raises CorruptBody, not a fastavro error."""
    data = bytearray(codec.encode(REGISTRY, "Receipt", _receipt()))
    schema = REGISTRY.get("Receipt")
    # The status enum index is the byte just before the two null-union markers and timestamp.
    body = _reference_body(schema, _receipt())
    position = codec.HEADER_SIZE + body.index(bytes([2 * 4]), len(body) - 12)
    data[position] = 2 * 60  # zig-zag 60: no such symbol
    with pytest.raises(CorruptBody):
        codec.decode(REGISTRY, bytes(data))


def test_decode_with_another_name_is_refused() -> None:
    """Asking to read a Receipt as an Alert is a DecodeError, not garbage."""
    data = codec.encode(REGISTRY, "Receipt", _receipt())
    with pytest.raises(DecodeError, match=r"cannot be read as intelshare\.v2\.Alert"):
        codec.decode(REGISTRY, data, reader="intelshare.v2.Alert")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        pytest.param(_receipt(status="LOST"), "status: 'LOST' is not", id="unknown-symbol"),
        pytest.param(_receipt(revision="1"), "revision: '1' is not int", id="wrong-type"),
        pytest.param(_receipt(extra=1), "extra: not a field", id="unknown-field"),
        pytest.param(
            {k: v for k, v in _receipt().items() if k != "case_id"},
            "case_id: missing",
            id="missing-field",
        ),
        pytest.param(_receipt(sent_at="today"), "sent_at: 'today'", id="bad-timestamp"),
    ],
)
def test_records_that_do_not_fit_raise_encode_error(record: dict[str, Any], message: str) -> None:
    """A record that does not fit its schema raises EncodeError naming the field."""
    with pytest.raises(EncodeError, match=re.escape(message)):
        codec.encode(REGISTRY, "Receipt", record)


def test_nested_errors_name_the_path() -> None:
    """A bad value deep in an Alert is reported with its path, e.g. locations[0].latitude."""
    record = _generated(REGISTRY.get("Alert"))[0]
    record["locations"] = [{"kind": "OTHER", "country": "GB", "latitude": "x", "longitude": 1.0}]
    with pytest.raises(EncodeError, match=re.escape("locations[0].latitude: 'x' is not double")):
        codec.encode(REGISTRY, "Alert", record)


def test_unknown_schema_name_is_a_schema_error() -> None:
    """Encoding with a name nobody defined raises SchemaError."""
    with pytest.raises(SchemaError):
        codec.encode(REGISTRY, "Postcard", {})


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.full_name)
def test_avro_json_round_trip(schema: Schema) -> None:
    """A record written as Avro JSON and read back encodes to the same bytes."""
    for record in _generated(schema, seed=17)[:10]:
        text = codec.to_json(schema, record)
        assert text.count("\n") == 0
        assert codec.encode_with(schema, codec.from_json(schema, text)) == codec.encode_with(
            schema, record
        )


def test_pretty_printed_json_is_accepted() -> None:
    """Avro JSON spread over several lines is read as one record."""
    schema = REGISTRY.get("Receipt")
    text = json.dumps(json.loads(codec.to_json(schema, _receipt())), indent=2)
    assert codec.from_json(schema, text)["status"] == "HIT"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "not one JSON record", id="empty"),
        pytest.param("{oops", "not JSON: column 2", id="not-json"),
        pytest.param('{"receipt_id": "x"}', "does not match intelshare.v1.Receipt", id="partial"),
        pytest.param("[1, 2]", "does not match", id="array"),
    ],
)
def test_bad_json_raises_encode_error(text: str, message: str) -> None:
    """Input that is not one Avro JSON record raises EncodeError with a reason."""
    with pytest.raises(EncodeError, match=message):
        codec.from_json(REGISTRY.get("Receipt"), text)
