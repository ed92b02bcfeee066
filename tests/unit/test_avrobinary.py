"""The compiled Avro writer writes fastavro's bytes, and hands back what it does not know."""

from __future__ import annotations

import io
import random
from typing import TYPE_CHECKING, Any

import fastavro
import pytest
from avro_samples import PROBE, REGISTRY, generated_alerts, probe_record
from fastavro.utils import generate_many

from intelshare.contract import avrobinary, codec

if TYPE_CHECKING:
    from intelshare.contract.schemas import Schema


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
    record = probe_record(**changes)

    assert _compiled(PROBE, record) == _fastavro(PROBE, record)


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
