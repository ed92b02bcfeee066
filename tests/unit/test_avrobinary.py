"""The compiled Avro writer writes fastavro's bytes, and hands back what it does not know."""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import random
from datetime import UTC, datetime
from typing import Any

import fastavro
import pytest
from fastavro.utils import generate_many

from intelshare.contract import avrobinary, codec
from intelshare.contract.schemas import Schema, default_registry, parse_definition
from intelshare.errors import DecodeError
from intelshare.network.model import default_network
from intelshare.producer.generator import AlertGenerator

REGISTRY = default_registry()


def _fastavro(schema: Schema, record: dict[str, Any]) -> bytes | None:
    """The body fastavro writes (as the codec asks it to), or None when it refuses."""
    out = io.BytesIO()
    try:
        fastavro.schemaless_writer(out, schema.parsed, record, strict_allow_default=True)
    except Exception:  # noqa: BLE001 - any refusal
        return None
    return out.getvalue()


def _compiled(schema: Schema, record: dict[str, Any]) -> bytes:
    """The body the compiled writer writes (raises NotPlain when it leaves it to fastavro)."""
    out = bytearray()
    avrobinary.writer(schema.parsed)(record, out)
    return bytes(out)


@functools.cache
def generated_alerts() -> list[tuple[Schema, dict[str, Any]]]:
    """Generated alerts of every country, in the form of every Alert version (read back as it)."""
    network = default_network()
    newest = REGISTRY.newest("Alert")
    found = []
    for country in network.codes:
        generator = AlertGenerator(network, country, seed=11, misaddress=0.1)
        for record in itertools.islice(generator, 40):
            data = codec.encode_with(newest, record)
            for schema in REGISTRY.versions("Alert"):
                with contextlib.suppress(DecodeError):  # a v2-only value has no v1 form
                    found.append(
                        (schema, codec.decode(REGISTRY, data, reader=schema.full_name).record)
                    )
    return found


def test_every_generated_alert_is_written_as_fastavro_writes_it() -> None:
    """Every generated alert that fastavro writes, the compiled writer writes too, byte for byte."""
    alerts = generated_alerts()
    assert len(alerts) > 900
    for schema, record in alerts:
        assert _compiled(schema, record) == _fastavro(schema, record), record


@pytest.mark.parametrize("schema", REGISTRY.schemas, ids=lambda s: s.full_name)
def test_fastavros_generated_records_of_every_schema(schema: Schema) -> None:
    """Random records of every schema (every type and union in it) come out as fastavro's."""
    random.seed(5)
    for raw in generate_many(schema.parsed, 50):
        # The generator gives logical types as numbers; decoding makes them datetimes.
        record = codec.decode(REGISTRY, codec.encode_with(schema, raw), reader=schema.full_name)
        assert _compiled(schema, record.record) == _fastavro(schema, record.record)


def test_missing_fields_with_defaults_are_written_as_their_defaults() -> None:
    """A field left out is written as its default, as fastavro fills it in."""
    schema = REGISTRY.newest("Alert")
    _, full = generated_alerts()[-1]
    record = {k: v for k, v in full.items() if k not in ("related_alert_ids", "uk_conditions")}

    assert _compiled(schema, record) == _fastavro(schema, record)


_PROBE = parse_definition(
    {
        "type": "record",
        "name": "Probe",
        "namespace": "intelshare.v1",
        "fields": [
            {"name": "big", "type": "long"},
            {"name": "ratio", "type": "double"},
            {"name": "flag", "type": "boolean"},
            {"name": "raw", "type": "bytes"},
            {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
            {"name": "tags", "type": {"type": "map", "values": "int"}},
            {"name": "when", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "next", "type": ["null", "Digest"], "default": None},
        ],
    },
    source="probe",
)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="plain"),
        pytest.param({"big": -(2**63), "ratio": 3}, id="extreme-long-and-an-int-for-a-double"),
        pytest.param({"big": 2**40, "flag": False, "tags": {}}, id="multi-byte-varint"),
        pytest.param({"raw": b"", "next": b"abcd"}, id="empty-bytes-and-a-named-type-again"),
    ],
)
def test_every_primitive_and_container_type(changes: dict[str, Any]) -> None:
    """Longs, doubles, booleans, bytes, fixed, maps, timestamps and named references agree."""
    record: dict[str, Any] = {
        "big": 300,
        "ratio": 0.5,
        "flag": True,
        "raw": b"\x00\xff",
        "digest": b"wxyz",
        "tags": {"a": 1, "b": -70},
        "when": datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    }
    record.update(changes)

    assert _compiled(_PROBE, record) == _fastavro(_PROBE, record)


def _alert(**changes: Any) -> dict[str, Any]:
    """A generated v2 alert with some fields changed."""
    schema = REGISTRY.newest("Alert")
    record = next(dict(r) for s, r in generated_alerts() if s is schema)
    record.update(changes)
    return record


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("revision", "1", id="a-string-for-an-int"),
        pytest.param("revision", True, id="a-boolean-for-an-int"),
        pytest.param("revision", 2**31, id="an-int-out-of-range"),
        pytest.param("tlp", "TLP_PURPLE", id="an-unknown-enum-symbol"),
        pytest.param("uk_conditions", ("string", "x"), id="tuple-notation-for-a-union"),
        pytest.param("grading", {"reliability": "B"}, id="a-union-record-with-too-few-fields"),
        pytest.param("recipients", ("RS",), id="a-tuple-for-an-array"),
        pytest.param("summary", "\ud800", id="a-lone-surrogate"),
        pytest.param("surplus", 1, id="a-field-the-schema-does-not-have"),
    ],
)
def test_anything_unusual_is_left_to_fastavro(field: str, value: object) -> None:
    """A value the compiled writer does not recognise exactly raises instead of guessing."""
    with pytest.raises((avrobinary.NotPlain, UnicodeError)):
        _compiled(REGISTRY.newest("Alert"), _alert(**{field: value}))


def test_the_codec_writes_what_fastavro_writes_when_the_writer_declines() -> None:
    """Tuple notation, which only fastavro reads, still encodes through the codec."""
    schema = REGISTRY.newest("Alert")
    record = _alert(uk_conditions=("string", "no onward use"))

    data = codec.encode_with(schema, record)

    assert data[codec.HEADER_SIZE :] == _fastavro(schema, record)
    assert codec.decode(REGISTRY, data).record["uk_conditions"] == "no onward use"
