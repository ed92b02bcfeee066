"""Kafka record header names, and headers to and from text.

Headers carry what routing and auditing need without decoding the value: the writer schema,
the originator, the handling codes and the trace id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

HEADER_SCHEMA: Final = "schema"
"""Header: full name of the value's writer schema, e.g. ``intelshare.v2.Alert``."""
HEADER_ORIGINATOR: Final = "originator"
"""Header: the alert's originating country."""
HEADER_HANDLING: Final = "handling"
"""Header: the handling codes, e.g. ``TLP_AMBER;H0,H2;P``."""
HEADER_TRACE: Final = "trace_id"
"""Header: the trace id shared by every copy, receipt and event of one publication."""

Headers = list[tuple[str, bytes]]
"""Kafka record headers as aiokafka takes them."""


def headers(**values: str) -> Headers:
    """Record headers from text values (empty values left out)."""
    return [(name, value.encode()) for name, value in values.items() if value]


def header_map(raw: Sequence[tuple[str, bytes | None]] | None) -> dict[str, bytes]:
    """Record headers by name, last value winning; headers without a value left out."""
    return {name: value for name, value in raw or () if value is not None}


def header_text(found: Mapping[str, bytes], name: str) -> str | None:
    """One header of :func:`header_map`'s result as text; None when absent or not UTF-8.

    Only the header asked for is decoded: others (a signature) are binary.
    """
    value = found.get(name)
    if value is None:
        return None
    try:
        return value.decode()
    except UnicodeDecodeError:
        return None
