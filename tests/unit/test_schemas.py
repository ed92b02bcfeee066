from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import avro.schema
import pytest

from intelshare.contract.schemas import (
    SchemaRegistry,
    default_registry,
    load_file,
    schema_directory,
)
from intelshare.errors import SchemaError

REPO_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
TOP_LEVEL = ("Alert", "ConsentGrant", "ConsentRequest", "DeadLetter", "Receipt")


def _walk(node: Any) -> list[dict[str, Any]]:
    """Every JSON object inside a schema definition."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_walk(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_walk(item))
    return found


def test_packaged_schemas_are_the_repository_files() -> None:
    """The package's schema directory holds exactly the files in the top-level schemas/."""
    packaged = {p.name: p.read_bytes() for p in schema_directory().glob("*.avsc")}
    repo = {p.name: p.read_bytes() for p in REPO_SCHEMAS.glob("*.avsc")}
    assert packaged == repo
    assert packaged


def test_every_top_level_record_is_known() -> None:
    """The registry knows the five records of the contract under their short names."""
    assert default_registry().names == TOP_LEVEL


def test_short_name_gives_the_newest_version() -> None:
    """A short name finds the newest version; a full name finds exactly that version."""
    registry = default_registry()
    assert registry.get("Alert").full_name == "intelshare.v2.Alert"
    assert registry.get("intelshare.v1.Alert").version == 1
    assert registry.newest("intelshare.v1.Alert").full_name == "intelshare.v2.Alert"
    assert [s.version for s in registry.versions("Alert")] == [1, 2]


def test_lookup_by_fingerprint() -> None:
    """Every schema is found again by its wire fingerprint; unknown bytes give None."""
    registry = default_registry()
    for schema in registry.schemas:
        assert registry.by_fingerprint(schema.fingerprint) is schema
    assert registry.by_fingerprint(b"\0" * 8) is None


def test_unknown_name_is_a_schema_error() -> None:
    """Asking for a schema that does not exist raises SchemaError naming the known ones."""
    with pytest.raises(SchemaError, match="unknown schema 'Nope'"):
        default_registry().get("Nope")


def test_registry_is_parsed_once() -> None:
    """default_registry() returns the same object every time, so parsing happens once."""
    assert default_registry() is default_registry()


@pytest.mark.parametrize("schema", default_registry().schemas, ids=lambda s: s.full_name)
def test_fingerprint_matches_the_reference_crc(schema: Any) -> None:
    """The fingerprint is the Apache library's CRC-64-AVRO of the Parsing Canonical Form."""
    crc = avro.schema._crc_64_fingerprint(schema.canonical_form.encode())
    assert crc == schema.fingerprint


@pytest.mark.parametrize("schema", default_registry().schemas, ids=lambda s: s.full_name)
def test_every_field_and_type_is_documented(schema: Any) -> None:
    """Every record, enum and field in the contract carries a doc string."""
    for node in _walk(schema.definition):
        if node.get("type") in ("record", "enum") or ("name" in node and "type" in node):
            assert node.get("doc"), f"{schema.full_name}: {node.get('name')} has no doc"


@pytest.mark.parametrize("schema", default_registry().schemas, ids=lambda s: s.full_name)
def test_every_enum_has_a_default_symbol(schema: Any) -> None:
    """Every enum names a default symbol, so older readers survive newer symbols."""
    for node in _walk(schema.definition):
        if node.get("type") == "enum":
            assert node.get("default") in node["symbols"], node["name"]


@pytest.mark.parametrize("schema", default_registry().schemas, ids=lambda s: s.full_name)
def test_timestamps_are_timestamp_millis(schema: Any) -> None:
    """Every field whose name says it is a time is a timestamp-millis long."""
    for node in _walk(schema.definition):
        name = node.get("name", "")
        if "type" in node and (name.endswith(("_at", "_until", "_due"))):
            types = node["type"] if isinstance(node["type"], list) else [node["type"]]
            logical = [t for t in types if t != "null"]
            assert logical == [{"type": "long", "logicalType": "timestamp-millis"}], name


@pytest.mark.parametrize("schema", default_registry().schemas, ids=lambda s: s.full_name)
def test_the_reference_library_parses_each_file_alone(schema: Any) -> None:
    """Each .avsc file is self-contained: the Apache library parses it without the others."""
    parsed = avro.schema.parse(json.dumps(schema.definition))
    assert isinstance(parsed, avro.schema.NamedSchema)
    assert parsed.fullname == schema.full_name


def test_duplicate_full_names_are_refused(tmp_path: Path) -> None:
    """Two files defining the same full name make loading fail with both sources named."""
    source = REPO_SCHEMAS / "intelshare.v1.Receipt.avsc"
    (tmp_path / "a.avsc").write_bytes(source.read_bytes())
    (tmp_path / "b.avsc").write_bytes(source.read_bytes())
    with pytest.raises(SchemaError, match="already defined"):
        SchemaRegistry.load_directory(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("{not json", r"bad\.avsc:1: ", id="not-json"),
        pytest.param('"string"', "expected one JSON object", id="not-an-object"),
        pytest.param(
            '{"type": "enum", "name": "E", "symbols": ["A"]}', "must be a record", id="enum"
        ),
        pytest.param(
            '{"type": "record", "name": "X", "namespace": "intelshare", "fields": []}',
            "must end in a version",
            id="unversioned-namespace",
        ),
        pytest.param(
            '{"type": "record", "name": "X", "namespace": "a.v1", "fields": [{"name": "f"}]}',
            r"bad\.avsc",
            id="field-without-type",
        ),
    ],
)
def test_bad_schema_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    """A broken .avsc file raises SchemaError naming the file and what is wrong."""
    path = tmp_path / "bad.avsc"
    path.write_text(text)
    with pytest.raises(SchemaError, match=message):
        load_file(path)


def test_empty_directory_is_refused(tmp_path: Path) -> None:
    """A schema directory without .avsc files is an error, not an empty registry."""
    with pytest.raises(SchemaError, match=r"no \.avsc files"):
        SchemaRegistry.load_directory(tmp_path)


def test_enum_symbols_of_the_newest_alert() -> None:
    """The Category enum's symbols are read from the schema, ending in the UNKNOWN default."""
    symbols = default_registry().enum_symbols("Alert", "Category")
    assert symbols[-1] == "UNKNOWN"
    assert "DISCREET_CHECK" in symbols
