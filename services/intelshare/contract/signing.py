"""Ed25519 origin proof: every message a country writes is signed by that country.

The proof travels in record headers, beside the unchanged Avro value (no schema changes):
``signer`` (the writing country's code) and ``signature`` (Ed25519 over the value's bytes,
64 bytes). An onward copy also carries the originator's proof of the content:
``origin-value`` (the value as the originator signed it) and ``origin-signature``.

Keys are 32 raw bytes, stored base64 on one line: ``<CC>.key`` (private; the seed) and
``<CC>.pub`` (public). :func:`demo_key` derives a country's *demo* key from its code alone,
so anyone can compute it: it exists so the demo and the tests run without key files, and a
network that names a keys folder never accepts it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HEADER_SIGNER: Final = "signer"
"""Header: the country that wrote (and signed) this record."""
HEADER_SIGNATURE: Final = "signature"
"""Header: Ed25519 signature of the record's value by the signer (64 raw bytes)."""
HEADER_ORIGIN_VALUE: Final = "origin-value"
"""Header of an onward copy: the alert's value exactly as its originator signed it."""
HEADER_ORIGIN_SIGNATURE: Final = "origin-signature"
"""Header of an onward copy: the originator's signature of ``origin-value``."""
KEY_BYTES: Final = 32
SIGNATURE_BYTES: Final = 64
_DEMO_SALT: Final = b"intelshare DEMO key, not secret: "


class KeyFormatError(ValueError):
    """Text that is not a base64-encoded 32-byte key."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One country's private key, able to sign the records it writes."""

    country: str
    """The country the key speaks for."""
    private: Ed25519PrivateKey
    """The Ed25519 private key."""
    demo: bool = False
    """Whether this is the derivable demo key (never for a real deployment)."""

    def sign(self, data: bytes) -> bytes:
        """The 64-byte signature of ``data``."""
        return self.private.sign(data)

    @property
    def public(self) -> bytes:
        """The matching public key, 32 raw bytes."""
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def demo_seed(country: str) -> bytes:
    """The demo private key seed of ``country``: derivable by anyone, for demos and tests."""
    return hashlib.sha256(_DEMO_SALT + country.encode()).digest()


def demo_key(country: str) -> SigningKey:
    """The demo signing key of ``country``."""
    return SigningKey(country, Ed25519PrivateKey.from_private_bytes(demo_seed(country)), demo=True)


@functools.cache
def demo_public_key(country: str) -> bytes:
    """The demo public key of ``country`` (derived once: every verification asks for it)."""
    return demo_key(country).public


def new_key(country: str) -> SigningKey:
    """A fresh random key pair for ``country``."""
    return SigningKey(country, Ed25519PrivateKey.generate())


def key_text(raw: bytes) -> str:
    """A 32-byte key as it is stored: base64 on one line."""
    return base64.b64encode(raw).decode()


def parse_key(text: str | bytes) -> bytes:
    """The 32 raw bytes of a stored key.

    Raises:
        KeyFormatError: the text is not base64 of exactly 32 bytes.
    """
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise KeyFormatError(f"not base64: {error}") from None
    if len(raw) != KEY_BYTES:
        raise KeyFormatError(f"{len(raw)} bytes, not {KEY_BYTES}")
    return raw


def signing_key(country: str, text: str | bytes) -> SigningKey:
    """A country's signing key from its stored private key."""
    return SigningKey(country, Ed25519PrivateKey.from_private_bytes(parse_key(text)))


def verify(public: bytes, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is ``public``'s Ed25519 signature of ``data``."""
    if len(signature) != SIGNATURE_BYTES or len(public) != KEY_BYTES:
        return False
    try:
        _public_key(public).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=1024)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    # Loading a key costs more than a verification; a network has a few dozen keys.
    return Ed25519PublicKey.from_public_bytes(raw)
