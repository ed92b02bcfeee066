"""Load the ``.avsc`` contract once and find a schema by name, full name or fingerprint.

Each file in ``schemas/`` holds one self-contained top-level record (nested named types
inline), so every tool that reads Avro, not only this one, can use a file on its own. The
files ship inside the package (``intelshare/data/schemas``) so an installed wheel finds them.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

from intelshare.errors import SchemaError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

_VERSION = re.compile(r"^(?P<base>[A-Za-z_][A-Za-z0-9_.]*\.)?v(?P<number>[0-9]+)$")


@dataclass(frozen=True, kw_only=True, slots=True)
class Schema:
    """One version of one top-level record schema, parsed once."""

    full_name: str
    """Namespace-qualified name, e.g. ``intelshare.v1.Alert``."""
    name: str
    """Short name shared by every version, e.g. ``Alert``."""
    version: int
    """Version number taken from the namespace (``intelshare.v2`` -> 2)."""
    fingerprint: bytes
    """CRC-64-AVRO of the Parsing Canonical Form, 8 bytes little-endian as on the wire."""
    canonical_form: str
    """The schema's Parsing Canonical Form."""
    definition: Mapping[str, Any] = field(repr=False)
    """The schema as written in its file (with docs), for other Avro tools."""
    parsed: dict[str, Any] = field(repr=False)
    """fastavro's parsed form; hand it to fastavro without parsing again (never mutate)."""
    source: str = field(repr=False)
    """Where the schema was loaded from (a path or package resource)."""

    @property
    def fingerprint_hex(self) -> str:
        """The fingerprint as 16 hex digits in wire (little-endian) byte order."""
        return self.fingerprint.hex()


@dataclass(frozen=True, kw_only=True, slots=True)
class SchemaRegistry:
    """Every known schema version, indexed for the codec's per-message lookups."""

    schemas: tuple[Schema, ...]
    """All versions, ordered by name then version."""
    _by_full_name: dict[str, Schema] = field(repr=False)
    _newest: dict[str, Schema] = field(repr=False)
    _by_fingerprint: dict[bytes, Schema] = field(repr=False)
    _enums: dict[tuple[str, str], tuple[str, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def from_schemas(cls, schemas: Iterable[Schema]) -> SchemaRegistry:
        """Index schemas; refuse duplicate full names, versions or fingerprints."""
        ordered = tuple(sorted(schemas, key=lambda s: (s.name, s.version)))
        by_full: dict[str, Schema] = {}
        by_fp: dict[bytes, Schema] = {}
        newest: dict[str, Schema] = {}
        for schema in ordered:
            if schema.full_name in by_full:
                raise SchemaError(
                    f"{schema.source}: {schema.full_name} is already defined "
                    f"in {by_full[schema.full_name].source}"
                )
            if schema.fingerprint in by_fp:
                raise SchemaError(
                    f"{schema.source}: same fingerprint as {by_fp[schema.fingerprint].full_name}"
                )
            previous = newest.get(schema.name)
            if previous is not None and previous.version == schema.version:
                raise SchemaError(
                    f"{schema.source}: version {schema.version} of {schema.name} "
                    f"is already defined in {previous.source}"
                )
            by_full[schema.full_name] = schema
            by_fp[schema.fingerprint] = schema
            newest[schema.name] = schema
        return cls(schemas=ordered, _by_full_name=by_full, _newest=newest, _by_fingerprint=by_fp)

    @classmethod
    def load_directory(cls, directory: Path) -> SchemaRegistry:
        """Load every ``*.avsc`` file in a directory."""
        paths = sorted(directory.glob("*.avsc"))
        if not paths:
            raise SchemaError(f"{directory}: no .avsc files")
        return cls.from_schemas(load_file(path) for path in paths)

    @property
    def names(self) -> tuple[str, ...]:
        """Short names of the top-level records, sorted."""
        return tuple(sorted(self._newest))

    def get(self, name: str) -> Schema:
        """Find a schema by full name (that version) or short name (the newest version)."""
        schema = self._by_full_name.get(name) or self._newest.get(name)
        if schema is None:
            known = ", ".join(sorted([*self._newest, *self._by_full_name]))
            raise SchemaError(f"unknown schema {name!r}; known: {known}")
        return schema

    def newest(self, name: str) -> Schema:
        """The newest version sharing a short name (``name`` may be a full name)."""
        return self._newest[self.get(name).name]

    def versions(self, name: str) -> tuple[Schema, ...]:
        """Every version of a short name, oldest first."""
        short = self.get(name).name
        return tuple(s for s in self.schemas if s.name == short)

    def by_fingerprint(self, fp: bytes) -> Schema | None:
        """The schema with this wire fingerprint, or None when unknown."""
        return self._by_fingerprint.get(fp)

    def enum_symbols(self, name: str, enum_name: str) -> tuple[str, ...]:
        """Symbols of a named enum inside a record schema, e.g. ``("Alert", "Category")``."""
        schema = self.get(name)
        # Remembered: scenario steps and policy checks ask again and again, and finding the
        # enum walks the whole definition.
        key = (schema.full_name, enum_name)
        symbols = self._enums.get(key)
        if symbols is None:
            found = _find_named(schema.definition, enum_name)
            if found is None or found.get("type") != "enum":
                raise SchemaError(f"{name} has no enum {enum_name}")
            symbols = self._enums[key] = tuple(found["symbols"])
        return symbols


def _find_named(node: object, short_name: str) -> Mapping[str, Any] | None:
    if isinstance(node, dict):
        if node.get("type") in ("record", "enum", "fixed") and (
            str(node.get("name", "")).rsplit(".", 1)[-1] == short_name
        ):
            return node
        for value in node.values():
            found = _find_named(value, short_name)
            if found is not None:
                return found
    elif isinstance(node, list):
        for item in node:
            found = _find_named(item, short_name)
            if found is not None:
                return found
    return None


def parse_definition(definition: Mapping[str, Any], *, source: str) -> Schema:
    """Parse one top-level record definition into a :class:`Schema`."""
    if definition.get("type") != "record":
        raise SchemaError(f"{source}: the top-level type must be a record")
    try:
        parsed = parse_schema(dict(definition), named_schemas={})
        canonical = to_parsing_canonical_form(parsed)
    except Exception as error:  # fastavro raises several unrelated types for bad schemas
        raise SchemaError(f"{source}: {error}") from error
    # A record definition parses to a dict; the check narrows fastavro's union type.
    assert isinstance(parsed, dict)
    full_name = str(parsed["name"])
    namespace, _, short = full_name.rpartition(".")
    match = _VERSION.match(namespace)
    if match is None:
        raise SchemaError(f"{source}: namespace {namespace!r} must end in a version, e.g. .v1")
    # fastavro's hex is already in wire order: the 64-bit value's bytes little-endian,
    # as the Java reference implementation and the spec's single-object header have them.
    wire = bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
    return Schema(
        full_name=full_name,
        name=short,
        version=int(match["number"]),
        fingerprint=wire,
        canonical_form=canonical,
        definition=definition,
        parsed=parsed,
        source=source,
    )


def load_file(path: Path) -> Schema:
    """Read and parse one ``.avsc`` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SchemaError(f"{path}: {error.strerror or error}") from error
    try:
        definition = json.loads(text)
    except json.JSONDecodeError as error:
        raise SchemaError(f"{path}:{error.lineno}: {error.msg}") from error
    if not isinstance(definition, dict):
        raise SchemaError(f"{path}: expected one JSON object")
    return parse_definition(definition, source=str(path))


def schema_directory() -> Path:
    """The directory of the ``.avsc`` files shipped with the package."""
    return Path(str(resources.files("intelshare") / "data" / "schemas"))


@functools.cache
def default_registry() -> SchemaRegistry:
    """The shipped schemas, loaded and parsed once per process."""
    return SchemaRegistry.load_directory(schema_directory())


@functools.cache
def known_categories() -> frozenset[str]:
    """Category symbols of the newest Alert schema, without the UNKNOWN default."""
    # Cached: every send check asks, and reading the symbols walks the schema definition.
    return frozenset(default_registry().enum_symbols("Alert", "Category")) - {"UNKNOWN"}
