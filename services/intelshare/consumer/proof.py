"""Checking a message's origin proof before anything else is done with it.

Every record a country writes carries its Ed25519 signature (headers ``signer`` and
``signature``, see :mod:`intelshare.contract.signing`). A recipient verifies the signature
over the raw value before decoding it, then, once decoded, that the signer is the country
the record says wrote it: an alert's originator (or, for an onward copy, the hop before the
recipient, with the originator's own proof of the unchanged content beside it), a receipt's
recipient, a consent request's requester, a consent grant's originator; and that the Kafka
``originator`` header agrees with the record. Any failure is a :class:`ProofError` with its
own rule: the message is dead-lettered with that rule and never handled.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from intelshare.consumer.inbox import sender_of
from intelshare.contract import codec
from intelshare.contract.alerts import AlertHeader
from intelshare.contract.headers import HEADER_ORIGINATOR
from intelshare.contract.signing import (
    HEADER_ORIGIN_SIGNATURE,
    HEADER_ORIGIN_VALUE,
    HEADER_SIGNATURE,
    HEADER_SIGNER,
    verify,
)
from intelshare.errors import DecodeError, IntelshareError
from intelshare.runtime.cryptohelper import known

if TYPE_CHECKING:
    from collections.abc import Mapping

    from intelshare.contract.codec import Decoded
    from intelshare.contract.schemas import SchemaRegistry
    from intelshare.network.model import Network
    from intelshare.runtime.cryptohelper import Proven


class ProofRule(StrEnum):
    """Why a message's origin proof was refused."""

    UNSIGNED = "unsigned"
    """No ``signer`` or ``signature`` header."""
    UNKNOWN_KEY = "unknown-key"
    """The signer has no public key in the network."""
    BAD_SIGNATURE = "bad-signature"
    """The signature does not verify over the value with the signer's key."""
    WRONG_SIGNER = "wrong-signer"
    """A valid signature, by a country other than the one the record says wrote it."""
    ORIGINATOR_MISMATCH = "originator-mismatch"
    """The Kafka ``originator`` header disagrees with the record."""
    BAD_ORIGIN_PROOF = "bad-origin-proof"
    """An onward copy without a valid originator's proof of exactly this content."""


class ProofError(IntelshareError):
    """A message whose origin proof does not hold; ``rule`` names which check failed."""

    def __init__(self, rule: ProofRule, reason: str) -> None:
        """Refuse with ``rule``; ``reason`` says what was found."""
        super().__init__(f"{rule}: {reason}")
        self.rule = str(rule)
        self.reason = reason


def check_signature(
    network: Network, headers: Mapping[str, bytes], value: bytes, proven: Proven | None = None
) -> str:
    """Verify the signature over the raw value; the signer's country code.

    ``proven``: signatures a :class:`~intelshare.runtime.cryptohelper.CryptoHelper` checked already.

    Raises:
        ProofError: unsigned, unknown key, or a signature that does not verify.
    """
    signer_raw, signature = headers.get(HEADER_SIGNER), headers.get(HEADER_SIGNATURE)
    if not signer_raw or not signature:
        raise ProofError(ProofRule.UNSIGNED, "the message carries no signer and signature")
    signer = signer_raw.decode(errors="replace")
    public = network.public_key(signer)
    if public is None:
        raise ProofError(ProofRule.UNKNOWN_KEY, f"{signer[:16]!r} has no key in the network")
    if not _verified(public, signature, value, proven):
        raise ProofError(ProofRule.BAD_SIGNATURE, f"the signature is not {signer}'s over it")
    return signer


def check_writer(
    network: Network,
    registry: SchemaRegistry,
    headers: Mapping[str, bytes],
    decoded: Decoded,
    *,
    signer: str,
    receiver: str,
    proven: Proven | None = None,
    alert: AlertHeader | None = None,
) -> None:
    """Check that ``signer`` is who the decoded record says wrote it.

    ``alert``: the record's header when it is an Alert and the caller has read it already.

    Raises:
        ProofError: the wrong signer, a disagreeing ``originator`` header, or an onward copy
            without the originator's valid proof of the same content.
    """
    record = decoded.record
    originator = _originator(decoded.name, record)
    header = headers.get(HEADER_ORIGINATOR, b"").decode(errors="replace")
    if header != originator:
        raise ProofError(
            ProofRule.ORIGINATOR_MISMATCH,
            f"the originator header says {header or 'nothing'}, the record {originator}",
        )
    expected = _expected_writer(decoded.name, record, receiver, alert)
    if signer != expected:
        raise ProofError(
            ProofRule.WRONG_SIGNER,
            f"signed by {signer}, but the {decoded.name} says {expected} wrote it",
        )
    if decoded.name == "Alert" and signer != originator:
        _check_origin(network, registry, headers, record, originator, proven=proven)


def _verified(public: bytes, signature: bytes, value: bytes, proven: Proven | None) -> bool:
    """Whether the signature holds, checked here unless the helper checked this very triple."""
    if proven and known(proven, public, signature, value):
        return True
    return verify(public, signature, value)


def _originator(name: str, record: Mapping[str, Any]) -> str:
    if name == "Alert":
        return str(record["originator"]["country"])
    return str(record["originator"])


def _expected_writer(
    name: str, record: Mapping[str, Any], receiver: str, alert: AlertHeader | None = None
) -> str:
    if name == "Alert":
        return sender_of(alert or AlertHeader.from_record(record), receiver)
    if name == "Receipt":
        return str(record["recipient"])
    if name == "ConsentRequest":
        return str(record["requester"])
    return str(record["originator"])  # a ConsentGrant is the originator's decision


def _check_origin(
    network: Network,
    registry: SchemaRegistry,
    headers: Mapping[str, bytes],
    record: Mapping[str, Any],
    originator: str,
    *,
    proven: Proven | None,
) -> None:
    # An onward copy: its hop path changed, so the sharer signed it; the content must still be
    # the originator's, proven by the originator's signature over its own value.
    value, signature = headers.get(HEADER_ORIGIN_VALUE), headers.get(HEADER_ORIGIN_SIGNATURE)
    if not value or not signature:
        raise ProofError(ProofRule.BAD_ORIGIN_PROOF, "an onward copy without its origin proof")
    public = network.public_key(originator)
    if public is None or not _verified(public, signature, value, proven):
        raise ProofError(ProofRule.BAD_ORIGIN_PROOF, f"the origin proof is not {originator}'s")
    try:
        original = codec.decode(registry, value).record
    except DecodeError as error:
        raise ProofError(ProofRule.BAD_ORIGIN_PROOF, f"the origin value: {error}") from None
    if _content(original) != _content(record):
        raise ProofError(
            ProofRule.BAD_ORIGIN_PROOF, f"the content differs from what {originator} signed"
        )


def _content(record: Mapping[str, Any]) -> dict[str, Any]:
    """An alert without the fields each hop may change (its hop path)."""
    return {k: v for k, v in record.items() if k != "hop_path"}
