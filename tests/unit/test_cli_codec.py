from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import avro.io
import avro.schema
import pytest
from fastavro.utils import generate_many
from typer.testing import CliRunner

from intelshare.cli import app
from intelshare.contract import codec
from intelshare.contract.schemas import default_registry
from intelshare.errors import BadMarker, EncodeError, IntelshareError, SchemaError

if TYPE_CHECKING:
    from intelshare.contract.schemas import Schema

REGISTRY = default_registry()
RUNNER = CliRunner()


def _intelshare() -> list[str]:
    """The installed command, or the module entry when the script is not on PATH."""
    found = shutil.which("intelshare", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-c", "from intelshare.cli import main; main()"]


def _run(args: list[str], data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run the real command line in a child process."""
    return subprocess.run([*_intelshare(), *args], input=data, capture_output=True, check=False)


def _invoke(args: list[str], data: bytes = b"") -> Any:
    """Run a sub-command in-process and return click's result."""
    return RUNNER.invoke(app, args, input=data)


def _messages(schema: Schema, count: int = 8) -> list[bytes]:
    """Single-object messages of generated records for one schema version."""
    random.seed(31)
    return [codec.encode_with(schema, r) for r in generate_many(schema.parsed, count)]


def _reference_message(schema: Schema, record: dict[str, Any]) -> bytes:
    """A message written by the Apache avro library: single-object header plus its body."""
    out = io.BytesIO()
    avro.io.DatumWriter(avro.schema.parse(json.dumps(schema.definition))).write(
        record, avro.io.BinaryEncoder(out)
    )
    return b"\xc3\x01" + schema.fingerprint + out.getvalue()


@pytest.mark.parametrize("schema", REGISTRY.schemas, ids=lambda s: s.full_name)
def test_decode_then_encode_gives_the_same_bytes(schema: Schema) -> None:
    """For every record schema version, decode then encode reproduces the message exactly."""
    for message in _messages(schema):
        decoded = _invoke(["decode"], message)
        assert decoded.exit_code == 0, decoded.output
        encoded = _invoke(["encode", "--schema", schema.full_name], decoded.stdout_bytes)
        assert encoded.exit_code == 0, encoded.output
        assert encoded.stdout_bytes == message


@pytest.mark.parametrize("schema", REGISTRY.schemas, ids=lambda s: s.full_name)
def test_reference_library_messages_round_trip(schema: Schema) -> None:
    """Messages the Apache library writes decode, and encoding the JSON gives them back."""
    records = [codec.decode(REGISTRY, m, reader=schema.full_name).record for m in _messages(schema)]
    for record in records[:3]:
        message = _reference_message(schema, record)
        decoded = _invoke(["decode", "--show-schema"], message)
        assert decoded.exit_code == 0
        assert decoded.stderr.split() == [schema.full_name, schema.fingerprint_hex]
        encoded = _invoke(["encode", "-s", schema.full_name], decoded.stdout_bytes)
        assert encoded.stdout_bytes == message


def test_decode_output_is_avro_json_one_line() -> None:
    """The decode command prints one line of Avro JSON, unions tagged with their branch."""
    record = {
        "receipt_id": "R-1",
        "alert_id": "GB-1",
        "revision": 1,
        "case_id": "CASE-7",
        "originator": "GB",
        "recipient": "RS",
        "status": "HIT",
        "note": "seen",
        "sent_at": 1_795_856_400_000,
    }
    result = _invoke(["decode"], codec.encode(REGISTRY, "Receipt", record))
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout) == {**record, "rule": None, "note": {"string": "seen"}}


def test_decode_with_the_newest_reader() -> None:
    """--reader Alert shows a v1 message as the newest version sees it."""
    v1 = REGISTRY.get("intelshare.v1.Alert")
    message = _messages(v1, 1)[0]
    result = _invoke(["decode", "--reader", "Alert"], message)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["related_alert_ids"] == []


def test_hex_in_and_out() -> None:
    """--hex writes and reads the message as hex text."""
    message = _messages(REGISTRY.get("Receipt"), 1)[0]
    decoded = _invoke(["decode"], message)
    encoded = _invoke(["encode", "-s", "Receipt", "--hex"], decoded.stdout_bytes)
    assert encoded.stdout == message.hex() + "\n"
    again = _invoke(["decode", "--hex"], encoded.stdout_bytes)
    assert again.stdout == decoded.stdout


def test_schemas_lists_every_version() -> None:
    """The schemas command with --json prints one line per version with fingerprint and flag."""
    result = _invoke(["schemas", "--json"])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["full_name"], r["fingerprint"]) for r in rows] == [
        (s.full_name, s.fingerprint_hex) for s in REGISTRY.schemas
    ]
    assert {r["full_name"] for r in rows if r["newest"]} >= {"intelshare.v2.Alert"}


def test_schemas_table() -> None:
    """The schemas command without --json prints a table naming every full name."""
    result = _invoke(["schemas"])
    assert result.exit_code == 0
    for schema in REGISTRY.schemas:
        assert schema.full_name in result.stdout


@pytest.mark.parametrize(
    ("args", "data", "error"),
    [
        pytest.param(["decode"], b"\x00" * 20, BadMarker, id="decode-no-marker"),
        pytest.param(["decode", "--hex"], b"zz", IntelshareError, id="decode-bad-hex"),
        pytest.param(["encode", "-s", "Nope"], b"{}", SchemaError, id="encode-unknown-schema"),
        pytest.param(["encode", "-s", "Receipt"], b"{", EncodeError, id="encode-not-json"),
        pytest.param(["encode", "-s", "Receipt"], b"\xff", EncodeError, id="encode-not-utf8"),
        pytest.param(["encode", "-s", "Receipt"], b'{"x": 1}', EncodeError, id="encode-bad-record"),
    ],
)
def test_bad_input_raises_intelshare_errors(
    args: list[str], data: bytes, error: type[IntelshareError]
) -> None:
    """Bad input surfaces as an IntelshareError (exit code 2), never another exception."""
    result = _invoke(args, data)
    assert isinstance(result.exception, error)
    assert result.exception.exit_code == 2


@pytest.mark.parametrize(
    ("args", "data", "message"),
    [
        pytest.param(["decode"], b"short", "shorter than the 10-byte header", id="too-short"),
        pytest.param(
            ["decode"], b"\xc3\x01" + b"\x01" * 9, "no known schema has fingerprint", id="unknown"
        ),
        pytest.param(["encode", "--schema", "Receipt"], b"[]", "expected a JSON object", id="json"),
    ],
)
def test_command_line_exits_2_with_one_line(args: list[str], data: bytes, message: str) -> None:
    """The real command exits 2 with one stderr line and no traceback on bad input."""
    result = _run(args, data)
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("intelshare: error: ")
    assert message in lines[0]
    assert result.stdout == b""


def test_command_line_round_trip_and_version() -> None:
    """The real command decodes and re-encodes a message byte for byte; --version answers."""
    message = _messages(REGISTRY.get("intelshare.v1.Alert"), 1)[0]
    decoded = _run(["decode"], message)
    assert decoded.returncode == 0
    encoded = _run(["encode", "--schema", "intelshare.v1.Alert"], decoded.stdout)
    assert encoded.returncode == 0
    assert encoded.stdout == message
    version = _run(["--version"])
    assert version.returncode == 0
    assert version.stdout.decode().startswith("intelshare ")
