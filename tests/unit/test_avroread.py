"""The compiled Avro reader reads what fastavro reads, and leaves anything else to fastavro."""

from __future__ import annotations

import io
import random
from typing import TYPE_CHECKING, Any

import fastavro
import pytest
from avro_samples import PROBE, REGISTRY, generated_alerts, probe_record
from fastavro.utils import generate_many

from intelshare.contract import avroread, codec
from intelshare.errors import CorruptBody

if TYPE_CHECKING:
    from intelshare.contract.schemas import Schema


def _fastavro(schema: Schema, body: bytes) -> Any:
    """What fastavro reads from a body (all of it), or the exception it raises."""
    stream = io.BytesIO(body)
    try:
        record = fastavro.schemaless_reader(stream, schema.parsed, None)
    except Exception as error:  # noqa: BLE001 - any refusal is an answer here
        return error
    return record if stream.tell() == len(body) else ValueError("bytes left over")


def _compiled(schema: Schema, body: bytes) -> Any:
    """What the compiled reader reads from a body (all of it), or the exception it raises."""
    try:
        record, end = avroread.reader(schema.parsed)(body, 0)
    except Exception as error:  # noqa: BLE001 - any refusal is an answer here
        return error
    return record if end == len(body) else ValueError("bytes left over")


def _body(schema: Schema, record: dict[str, Any]) -> bytes:
    """The record's Avro body (no single-object header)."""
    return codec.encode_with(schema, record)[codec.HEADER_SIZE :]


def test_every_generated_alert_is_read_as_fastavro_reads_it() -> None:
    """Every generated alert of every Alert version comes back as the same record."""
    alerts = generated_alerts()
    assert len(alerts) > 900
    for schema, record in alerts:
        body = _body(schema, record)
        assert _compiled(schema, body) == _fastavro(schema, body) == record


@pytest.mark.parametrize("schema", REGISTRY.schemas, ids=lambda s: s.full_name)
def test_fastavros_generated_records_of_every_schema(schema: Schema) -> None:
    """Random records of every schema (every type and union in it) read back as fastavro's."""
    random.seed(7)
    for raw in generate_many(schema.parsed, 50):
        body = _body(schema, raw)
        expected = _fastavro(schema, body)
        assert isinstance(expected, dict)
        assert _compiled(schema, body) == expected


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="plain"),
        pytest.param({"big": -(2**63), "ratio": -0.0}, id="extreme-long"),
        pytest.param({"big": 2**63 - 1, "flag": False, "tags": {}}, id="ten-byte-varint"),
        pytest.param({"raw": b"", "next": b"abcd"}, id="empty-bytes-and-a-named-type-again"),
        pytest.param({"tags": {f"k{n}": n * 1000 for n in range(200)}}, id="a-long-map"),
    ],
)
def test_every_primitive_and_container_type(changes: dict[str, Any]) -> None:
    """Longs, doubles, booleans, bytes, fixed, maps, timestamps and named references agree."""
    record = probe_record(**changes)
    body = _body(PROBE, record)
    assert _compiled(PROBE, body) == _fastavro(PROBE, body) == record


def _alert_body() -> tuple[Schema, bytes]:
    """The newest Alert schema and the body of a generated alert written with it."""
    schema = REGISTRY.newest("Alert")
    record = next(r for s, r in generated_alerts() if s is schema)
    return schema, _body(schema, record)


def test_damaged_bodies_are_never_read_as_something_fastavro_would_not_read() -> None:
    """Cut or flipped bytes read back as fastavro's record, or are left to fastavro."""
    schema, body = _alert_body()
    damaged = [body[:cut] for cut in range(len(body))]
    damaged.append(body + b"\x00")
    rng = random.Random(3)  # noqa: S311 - repeatable damage, not secrets
    for _ in range(3000):
        copy = bytearray(body)
        for _ in range(rng.randint(1, 3)):
            copy[rng.randrange(len(copy))] = rng.randrange(256)
        damaged.append(bytes(copy))
    read_alike = 0
    for bad in damaged:
        ours = _compiled(schema, bad)
        if not isinstance(ours, Exception):
            assert ours == _fastavro(schema, bad), bad.hex()
            read_alike += 1
    assert read_alike > 100  # flips inside strings still read, as fastavro reads them


_ENUM: Any = {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}
_LONGS: Any = {"type": "array", "items": "long"}


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        pytest.param(_ENUM, b"\x01", id="negative-enum-index"),
        pytest.param(_ENUM, b"\x06", id="enum-index-past-the-end"),
        pytest.param(["null", "long"], b"\x04", id="union-index-past-the-end"),
        pytest.param(["long", "string", "null"], b"\x06", id="wide-union-index-past-the-end"),
        pytest.param("long", b"\xff" * 10 + b"\x01", id="varint-of-eleven-bytes"),
        pytest.param("long", b"\xff" * 9 + b"\x7f", id="varint-beyond-64-bits"),
        pytest.param("int", b"\x80\x80\x80\x80\x10", id="int-beyond-32-bits"),
        pytest.param(_LONGS, b"\x80\x80\x80\x80\x80\x40", id="array-count-past-the-end"),
        pytest.param(_LONGS, b"\x01\x02\x02\x00", id="array-block-with-a-size"),
        pytest.param({"type": "array", "items": "boolean"}, b"\x02\x02", id="boolean-2"),
        pytest.param(["null", "string"], b"\x02\x7e", id="length-past-the-end"),
        pytest.param("string", b"\x03", id="negative-length"),
        pytest.param("string", b"\x04\xc3\x28", id="invalid-utf-8"),
    ],
)
def test_hostile_bytes_are_refused_at_once(schema: Any, body: bytes) -> None:
    """Indexes out of range, runaway varints, counts or lengths raise instead of being read."""
    read = avroread.reader(fastavro.parse_schema(schema))
    with pytest.raises((ValueError, IndexError)):
        read(body, 0)


def test_the_codec_gives_fastavros_answer_when_the_reader_declines() -> None:
    """A body the compiled reader refuses still decodes, or fails, exactly as fastavro says."""
    schema, body = _alert_body()
    header = codec.header(schema)
    # A trailing byte: the compiled reader stops short of the end, fastavro names it.
    with pytest.raises(CorruptBody, match="1 bytes left over"):
        codec.decode(REGISTRY, header + body + b"\x00")
    # The whole record, and the same record when only fastavro reads it.
    assert codec.decode(REGISTRY, header + body).record == _fastavro(schema, body)


def test_an_array_of_nulls_is_left_to_fastavro() -> None:
    """Items of no bytes defeat the count guard, so such a schema is not compiled."""
    with pytest.raises(avroread.NotPlain):
        avroread.reader(fastavro.parse_schema({"type": "array", "items": "null"}))


def test_a_hostile_field_name_is_a_key_not_code() -> None:
    """A schema's names reach the generated source only as literals, so they cannot run."""
    name = "x': __import__('os').getpid(), 'y"
    schema = {"type": "record", "name": "R", "fields": [{"name": name, "type": "long"}]}
    assert avroread.reader(schema)(b"\x02", 0) == ({name: 1}, 1)
