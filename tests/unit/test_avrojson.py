"""The fast Avro JSON reading agrees with fastavro's, and hands back what it does not know."""

from __future__ import annotations

import functools
import itertools
import json
import random
from typing import TYPE_CHECKING, Any

import pytest
from avro_samples import PROBE, probe_record
from fastavro.utils import generate_many

from intelshare.contract import avrojson, codec
from intelshare.contract.schemas import default_registry
from intelshare.network.model import default_network
from intelshare.producer.generator import AlertGenerator

if TYPE_CHECKING:
    from intelshare.contract.schemas import Schema

REGISTRY = default_registry()


@functools.cache
def generated_lines() -> list[tuple[str, str]]:
    """(schema full name, Avro JSON line) for generated alerts of every country and version."""
    network = default_network()
    found = []
    for schema in REGISTRY.versions("Alert"):
        for country in network.codes:
            generator = AlertGenerator(network, country, seed=11, misaddress=0.1)
            for record in itertools.islice(generator, 40):
                try:
                    found.append((schema.full_name, codec.to_json(schema, record)))
                except Exception:  # noqa: BLE001, S112 - a v2-only value has no v1 form
                    continue
    return found


def test_every_generated_alert_reads_as_fastavro_reads_it() -> None:
    """Records of every country and schema version come out equal to fastavro's json_reader."""
    lines = generated_lines()
    assert len(lines) > 500
    for name, line in lines:
        schema = REGISTRY.get(name)

        fast = avrojson.converter(schema.parsed)(json.loads(line))

        assert fast == codec.from_json(schema, line), line


@pytest.mark.parametrize("schema", REGISTRY.schemas, ids=lambda s: s.full_name)
def test_fastavros_generated_records_of_every_schema(schema: Schema) -> None:
    """Random records of every schema (every type and union in it) read as fastavro reads them."""
    random.seed(7)
    for raw in generate_many(schema.parsed, 50):
        record = codec.decode(REGISTRY, codec.encode_with(schema, raw), reader=schema.full_name)
        line = codec.to_json(schema, record.record)

        assert avrojson.converter(schema.parsed)(json.loads(line)) == codec.from_json(schema, line)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({}, id="plain"),
        pytest.param({"big": -(2**63), "ratio": 3, "flag": False}, id="extremes"),
        pytest.param({"raw": b"", "tags": {}, "next": b"abcd"}, id="empty-and-a-named-type-again"),
    ],
)
def test_every_primitive_and_container_type(changes: dict[str, Any]) -> None:
    """Longs, doubles, booleans, bytes, fixed, maps, timestamps and named references agree."""
    line = codec.to_json(PROBE, probe_record(**changes))

    assert avrojson.converter(PROBE.parsed)(json.loads(line)) == codec.from_json(PROBE, line)


def test_missing_fields_with_defaults_read_as_their_defaults() -> None:
    """A field left out reads as its default, as fastavro fills it in."""
    schema = REGISTRY.newest("Alert")
    full = json.loads(generated_lines()[-1][1])
    trimmed = {k: v for k, v in full.items() if k not in ("related_alert_ids", "uk_conditions")}
    text = json.dumps(trimmed)

    fast = avrojson.converter(schema.parsed)(json.loads(text))

    assert fast == codec.from_json(schema, text)
    assert fast["related_alert_ids"] == []
    assert fast["uk_conditions"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("revision", "1", id="a-string-for-an-int"),
        pytest.param("revision", True, id="a-boolean-for-an-int"),
        pytest.param("tlp", "TLP_PURPLE", id="an-unknown-enum-symbol"),
        pytest.param("uk_conditions", "plain", id="an-untagged-union-value"),
        pytest.param("uk_conditions", {"int": 3}, id="a-union-branch-that-does-not-exist"),
        pytest.param("recipients", "RS", id="a-string-for-an-array"),
        pytest.param("surplus", 1, id="a-field-the-schema-does-not-have"),
    ],
)
def test_anything_unusual_is_left_to_fastavro(field: str, value: object) -> None:
    """A value the fast path does not recognise exactly raises NotPlain instead of guessing."""
    schema = REGISTRY.newest("Alert")
    record = json.loads(generated_lines()[-1][1])
    record[field] = value

    with pytest.raises(avrojson.NotPlain):
        avrojson.converter(schema.parsed)(record)


def test_a_missing_field_without_default_is_left_to_fastavro() -> None:
    """Leaving out a required field is not filled in by the fast path."""
    schema = REGISTRY.newest("Alert")
    record = json.loads(generated_lines()[-1][1])
    del record["alert_id"]

    with pytest.raises(avrojson.NotPlain):
        avrojson.converter(schema.parsed)(record)
