"""Records the compiled Avro writer and reader are held to fastavro with."""

from __future__ import annotations

import contextlib
import functools
import itertools
from datetime import UTC, datetime
from typing import Any

from intelshare.contract import codec
from intelshare.contract.schemas import Schema, default_registry, parse_definition
from intelshare.errors import DecodeError
from intelshare.network.model import default_network
from intelshare.producer.generator import AlertGenerator

REGISTRY = default_registry()

PROBE = parse_definition(
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
"""A schema with every primitive and container type the alert schemas do not use."""


def probe_record(**changes: Any) -> dict[str, Any]:
    """A :data:`PROBE` record, with ``changes``."""
    record: dict[str, Any] = {
        "big": 300,
        "ratio": 0.5,
        "flag": True,
        "raw": b"\x00\xff",
        "digest": b"wxyz",
        "tags": {"a": 1, "b": -70},
        "when": datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        "next": None,
    }
    return record | changes


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
