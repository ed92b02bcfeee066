"""Avro single-object encoding: ``C3 01``, the writer's 8-byte fingerprint, the binary body.

Every message names its writer schema by fingerprint, so it decodes without a schema
registry service; the reader resolves it among all known versions and reads it with the
newest version of the same name. Schemas come parsed from :mod:`intelshare.contract.schemas`, so a
message costs one dictionary lookup plus the body's own work: code compiled per schema writes
and reads it (:mod:`.avrobinary`, :mod:`.avroread`), and fastavro, the reference, takes over
for anything that code does not expect (schema resolution, odd values, damaged bytes).
"""

from __future__ import annotations

import io
import json
from dataclasses import field
from typing import TYPE_CHECKING, Any, TypeVar

import fastavro
from fastavro import _validation_py

from intelshare.contract import avrobinary, avroread
from intelshare.contract.avrocode import NotPlain
from intelshare.errors import (
    BadMarker,
    CorruptBody,
    DecodeError,
    EncodeError,
    MessageTooShort,
    UnknownFingerprint,
)
from intelshare.valuetype import value_type

if TYPE_CHECKING:
    from collections.abc import Callable

    from intelshare.contract.schemas import Schema, SchemaRegistry

MARKER = b"\xc3\x01"
"""The two bytes every single-object encoded message starts with."""
HEADER_SIZE = len(MARKER) + 8
"""Marker plus the CRC-64-AVRO fingerprint."""

_Fast = TypeVar("_Fast")

_VALIDATE: Callable[..., object] = _validation_py._validate  # noqa: SLF001 - see _fits


@value_type
class Decoded:
    """One decoded message: which schema wrote it and the record as the reader sees it."""

    writer: Schema = field(repr=False)
    """The schema version the message was written with (found by fingerprint)."""
    reader: Schema = field(repr=False)
    """The schema version the record was read with (the newest of the name by default)."""
    record: dict[str, Any]
    """The record in fastavro's form: aware UTC datetimes, enum symbols as strings."""

    @property
    def schema_name(self) -> str:
        """Full name of the writer schema, e.g. ``intelshare.v1.Alert``."""
        return self.writer.full_name

    @property
    def name(self) -> str:
        """Short name shared by every version, e.g. ``Alert``."""
        return self.writer.name


def header(schema: Schema) -> bytes:
    """The 10-byte single-object header naming ``schema``."""
    return MARKER + schema.fingerprint


def encode(registry: SchemaRegistry, name: str, record: dict[str, Any]) -> bytes:
    """Encode ``record`` with schema ``name`` (short name: newest version) as one message.

    Raises:
        SchemaError: the name is unknown.
        EncodeError: the record does not fit the schema (the message names the field).
    """
    return encode_with(registry.get(name), record)


def encode_with(schema: Schema, record: dict[str, Any]) -> bytes:
    """Encode ``record`` with an already looked-up schema version."""
    write = _compiled_writer(schema)
    if write is not None:
        body = bytearray(header(schema))
        try:
            write(record, body)
            return bytes(body)
        except Exception:  # noqa: BLE001, S110 - NotPlain, or a value odd enough to trip it
            pass  # fastavro writes it, or says precisely what does not fit
    out = io.BytesIO()
    out.write(header(schema))
    try:
        # Missing fields with a default are filled in; unknown fields are refused.
        fastavro.schemaless_writer(out, schema.parsed, record, strict_allow_default=True)
    except Exception as error:  # fastavro raises whatever the bad value provokes
        raise EncodeError(f"{schema.full_name}: {_explain(schema, record, error)}") from error
    return out.getvalue()


_WRITERS: dict[bytes, avrobinary.Write | None] = {}
_READERS: dict[bytes, avroread.Read | None] = {}


def _compiled_writer(schema: Schema) -> avrobinary.Write | None:
    return _compiled(_WRITERS, avrobinary.writer, schema)


def _compiled_reader(schema: Schema) -> avroread.Read | None:
    return _compiled(_READERS, avroread.reader, schema)


def _compiled(
    cache: dict[bytes, _Fast | None], make: Callable[[Any], _Fast], schema: Schema
) -> _Fast | None:
    """One compiled writer or reader per schema version, made on first use.

    None: a schema the fast path cannot handle (fastavro does it all).
    """
    try:
        return cache[schema.fingerprint]
    except KeyError:
        pass
    try:
        found: _Fast | None = make(schema.parsed)
    except NotPlain:
        found = None
    cache[schema.fingerprint] = found
    return found


def _explain(schema: Schema, record: object, error: Exception) -> str:
    # Only on failure: walk the record to name the first field that does not fit.
    named: dict[str, Any] = schema.parsed.get("__named_schemas", {})
    found = _locate(schema.parsed, record, "", named)
    return found or str(error) or type(error).__name__


def _fits(value: object, node: object, named: dict[str, Any]) -> bool:
    # fastavro's public validate() re-parses and cannot resolve names defined elsewhere in
    # the record, so the walk uses its inner function, which takes the names.
    options = {"strict": True, "disable_tuple_notation": False}
    try:
        return bool(_VALIDATE(value, node, named, "", False, options))
    except Exception:  # noqa: BLE001 - the validator itself may trip on odd values
        return False


def _describe(node: object) -> str:
    if isinstance(node, list):
        return " or ".join(_describe(item) for item in node)
    if isinstance(node, dict):
        return str(node.get("logicalType") or node.get("name") or node.get("type"))
    return str(node)


def _locate(node: object, value: object, path: str, named: dict[str, Any]) -> str | None:
    if isinstance(node, str) and node in named:
        node = named[node]
    if not isinstance(node, dict):
        return None
    if node.get("type") == "record" and isinstance(value, dict):
        return _locate_field(node, value, path, named)
    if node.get("type") == "array" and isinstance(value, list):
        items = node["items"]
        for index, item in enumerate(value):
            if not _fits(item, items, named):
                where = f"{path.rstrip('.')}[{index}]"
                inner = _locate(items, item, f"{where}.", named)
                return inner or f"{where}: {item!r:.60} is not {_describe(items)}"
    return None


def _locate_field(
    node: dict[str, Any], value: dict[str, Any], path: str, named: dict[str, Any]
) -> str | None:
    fields = {f["name"]: f for f in node["fields"]}
    for key in value:
        if key not in fields:
            return f"{path}{key}: not a field of {node['name']}"
    for name, spec in fields.items():
        if name not in value:
            if "default" in spec:
                continue
            return f"{path}{name}: missing"
        if not _fits(value[name], spec["type"], named):
            inner = _locate(spec["type"], value[name], f"{path}{name}.", named)
            return inner or f"{path}{name}: {value[name]!r:.60} is not {_describe(spec['type'])}"
    return None


def read_header(registry: SchemaRegistry, data: bytes) -> Schema:
    """The writer schema a message names, without decoding its body.

    Raises:
        MessageTooShort, BadMarker, UnknownFingerprint: as :func:`decode`.
    """
    if len(data) < HEADER_SIZE:
        raise MessageTooShort(
            f"message of {len(data)} bytes is shorter than the {HEADER_SIZE}-byte header"
        )
    if data[:2] != MARKER:
        raise BadMarker(f"message starts with {data[:2].hex()}, not the marker c301")
    fp = bytes(data[2:HEADER_SIZE])
    writer = registry.by_fingerprint(fp)
    if writer is None:
        raise UnknownFingerprint(f"no known schema has fingerprint {fp.hex()}")
    return writer


def decode(registry: SchemaRegistry, data: bytes, *, reader: str | None = None) -> Decoded:
    """Decode one single-object message, reading it with the newest version of its name.

    ``reader`` picks another reader version by full name (e.g. an older one, to show what an
    older consumer sees).

    Raises:
        MessageTooShort: fewer than 10 bytes.
        BadMarker: the message does not start with ``C3 01``.
        UnknownFingerprint: no known schema has the writer's fingerprint.
        CorruptBody: the body does not decode with the writer schema, or bytes are left over.
        DecodeError: the reader version cannot read the writer's data.
    """
    writer = read_header(registry, data)
    chosen = registry.newest(writer.name) if reader is None else registry.get(reader)
    if chosen.name != writer.name:
        raise DecodeError(f"a {writer.full_name} message cannot be read as {chosen.full_name}")
    return Decoded(writer=writer, reader=chosen, record=_read_body(writer, chosen, data))


def _read_body(writer: Schema, reader: Schema, data: bytes) -> dict[str, Any]:
    if reader is writer:
        read = _compiled_reader(writer)
        if read is not None:
            try:
                record, end = read(data, HEADER_SIZE)
            except Exception:  # noqa: BLE001, S110 - damaged or unusual: fastavro judges it below
                pass
            else:
                if end == len(data) and isinstance(record, dict):
                    return record
    body = io.BytesIO(data)
    body.seek(HEADER_SIZE)
    try:
        record = fastavro.schemaless_reader(
            body,
            writer.parsed,
            # None when they are the same version: fastavro then skips schema resolution.
            None if reader is writer else reader.parsed,
        )
    except fastavro.read.SchemaResolutionError as error:
        raise DecodeError(
            f"{writer.full_name} cannot be read as {reader.full_name}: {error}"
        ) from error
    except Exception as error:  # truncated or garbled bodies fail in many ways inside fastavro
        raise CorruptBody(
            f"{writer.full_name} body does not decode: {_what_failed(error)}"
        ) from error
    left = len(data) - body.tell()
    if left:
        raise CorruptBody(f"{writer.full_name} body has {left} bytes left over after the record")
    if not isinstance(record, dict):
        raise CorruptBody(f"{writer.full_name} body is not a record")
    return record


def _what_failed(error: BaseException) -> str:
    # A truncated body often ends in an EOFError or a struct.error with an empty message:
    # the type then says what failed, so the line never ends at the colon.
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def to_json(schema: Schema, record: dict[str, Any]) -> str:
    """The record in the Avro JSON encoding (unions tagged with their branch), one line."""
    out = io.StringIO()
    try:
        fastavro.json_writer(out, schema.parsed, [record])
    except Exception as error:  # fastavro raises whatever the bad value provokes
        raise EncodeError(f"{schema.full_name}: {_explain(schema, record, error)}") from error
    return out.getvalue()


def from_json(schema: Schema, text: str) -> dict[str, Any]:
    """Read exactly one record in the Avro JSON encoding of ``schema``.

    Raises:
        EncodeError: the text is not one JSON record of that schema.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        # json_reader reads one record per line; pretty-printed JSON is folded to one line.
        try:
            lines = [json.dumps(json.loads(text))]
        except json.JSONDecodeError as error:
            raise EncodeError(
                f"input is not one JSON record: line {error.lineno} column {error.colno}: "
                f"{error.msg}"
            ) from error
    try:
        records = list(fastavro.json_reader(io.StringIO(lines[0]), schema.parsed))
    except json.JSONDecodeError as error:
        raise EncodeError(f"input is not JSON: column {error.colno}: {error.msg}") from error
    except Exception as error:  # the JSON decoder raises many types for a mismatched record
        hint = _json_hint(schema, lines[0]) or str(error) or type(error).__name__
        raise EncodeError(f"input does not match {schema.full_name}: {hint}") from error
    if len(records) != 1 or not isinstance(records[0], dict):
        raise EncodeError(f"expected one {schema.full_name} record, got {len(records)}")
    return records[0]


def _json_hint(schema: Schema, line: str) -> str | None:
    # The JSON decoder's own messages rarely name the field; check the top level here.
    value = json.loads(line)
    if not isinstance(value, dict):
        return f"expected a JSON object, got {type(value).__name__}"
    fields = {f["name"]: f for f in schema.parsed["fields"]}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        return f"unknown field {unknown[0]!r}"
    missing = [name for name, f in fields.items() if name not in value and "default" not in f]
    if missing:
        return f"missing field {missing[0]!r}"
    return None
