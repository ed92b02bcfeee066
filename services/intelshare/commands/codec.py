"""``intelshare encode``, ``decode`` and ``schemas``: the wire format from the command line.

``encode`` reads one record in the Avro JSON encoding (as fastavro's ``json_writer`` and
avro-tools write it) and writes one single-object encoded message; ``decode`` does the
reverse, choosing the schema from the message's fingerprint. Decoding with the writer's own
schema (the default) and encoding again gives back the very same bytes.
"""

from __future__ import annotations

import binascii
import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from intelshare.contract import codec
from intelshare.contract.schemas import default_registry
from intelshare.errors import DecodeError, EncodeError


def _read_stdin() -> bytes:
    return typer.get_binary_stream("stdin").read()


def _write_stdout(data: bytes) -> None:
    out = typer.get_binary_stream("stdout")
    out.write(data)
    out.flush()


def encode_command(
    schema: Annotated[
        str,
        typer.Option(
            "--schema",
            "-s",
            help="Schema name (Alert = newest version) or full name (intelshare.v1.Alert).",
            show_default=False,
        ),
    ],
    hex_output: Annotated[
        bool, typer.Option("--hex", help="Write the message as hex text instead of raw bytes.")
    ] = False,
) -> None:
    """Encode one Avro JSON record from stdin as a single-object message on stdout."""
    chosen = default_registry().get(schema)
    raw = _read_stdin()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise EncodeError(f"input is not UTF-8 text (byte {error.start})") from error
    data = codec.encode_with(chosen, codec.from_json(chosen, text))
    _write_stdout(data.hex().encode() + b"\n" if hex_output else data)


def decode_command(
    reader: Annotated[
        str | None,
        typer.Option(
            "--reader",
            "-r",
            help="Read with this version instead of the writer's own, e.g. Alert for the newest.",
            show_default=False,
        ),
    ] = None,
    hex_input: Annotated[
        bool, typer.Option("--hex", help="Read the message as hex text instead of raw bytes.")
    ] = False,
    show_schema: Annotated[
        bool,
        typer.Option(
            "--show-schema", help="Print the writer schema's full name and fingerprint on stderr."
        ),
    ] = False,
) -> None:
    """Decode one single-object message from stdin to Avro JSON on stdout.

    The schema comes from the message's fingerprint. By default the record is shown as its writer wrote it, so encoding it again with the writer's schema gives back the same bytes.
    """  # noqa: E501 - typer shows docstring lines as written
    registry = default_registry()
    data = _read_stdin()
    if hex_input:
        try:
            data = binascii.unhexlify(b"".join(data.split()))
        except (binascii.Error, ValueError) as error:
            raise DecodeError(f"input is not hex: {error}") from error
    writer = codec.read_header(registry, data)
    decoded = codec.decode(registry, data, reader=reader or writer.full_name)
    if show_schema:
        typer.echo(f"{writer.full_name} {writer.fingerprint_hex}", err=True)
    _write_stdout(codec.to_json(decoded.reader, decoded.record).encode() + b"\n")


def schemas_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON lines instead of a table.")
    ] = False,
) -> None:
    """List every schema version: name, version, full name, fingerprint."""
    registry = default_registry()
    rows = [
        {
            "name": s.name,
            "version": s.version,
            "full_name": s.full_name,
            "fingerprint": s.fingerprint_hex,
            "newest": registry.newest(s.name) is s,
        }
        for s in registry.schemas
    ]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    table = Table("name", "version", "full name", "fingerprint (CRC-64-AVRO)", "newest")
    for row in rows:
        table.add_row(
            str(row["name"]),
            str(row["version"]),
            str(row["full_name"]),
            str(row["fingerprint"]),
            "yes" if row["newest"] else "",
        )
    Console(file=sys.stdout, width=None if sys.stdout.isatty() else 120).print(table)


def register(app: typer.Typer) -> None:
    """Add ``encode``, ``decode`` and ``schemas`` to the intelshare command."""
    app.command("encode")(encode_command)
    app.command("decode")(decode_command)
    app.command("schemas")(schemas_command)
