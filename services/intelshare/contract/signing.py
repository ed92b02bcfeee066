"""Ed25519 origin proof: every message a country writes is signed by that country.

The proof travels in record headers, beside the unchanged Avro value (no schema changes):
``signer`` (the writing country's code) and ``signature`` (Ed25519 over the value's bytes,
64 bytes). An onward copy also carries the originator's proof of the content:
``origin-value`` (the value as the originator signed it) and ``origin-signature``.

Keys are 32 raw bytes, stored base64 on one line: ``<CC>.key`` (private; the seed) and
``<CC>.pub`` (public). :func:`demo_key` derives a country's *demo* key from its code alone,
so anyone can compute it: it exists so the demo and the tests run without key files, and a
network that names a keys folder never accepts it.

Signing and verifying go through libsodium (PyNaCl): measured on the consumer's hot path it
verifies in ~55-60 µs where OpenSSL (the ``cryptography`` library) takes ~100, and signs in
~22 against ~32. Ed25519 is deterministic, so both give the same bytes (a test holds them to
each other); libsodium also refuses non-canonical signatures and small-order keys.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
from dataclasses import dataclass
from typing import Final

import nacl.bindings
from nacl.exceptions import BadSignatureError, CryptoError

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


@dataclass(frozen=True, slots=True, repr=False)
class SigningKey:
    """One country's private key, able to sign the records it writes."""

    country: str
    """The country the key speaks for."""
    secret: bytes
    """libsodium's 64-byte secret key: the 32-byte seed, then the public key."""
    demo: bool = False
    """Whether this is the derivable demo key (never for a real deployment)."""

    @classmethod
    def from_seed(cls, country: str, seed: bytes, *, demo: bool = False) -> SigningKey:
        """The key whose 32-byte private seed is ``seed``."""
        _, secret = nacl.bindings.crypto_sign_seed_keypair(seed)
        return cls(country, secret, demo)

    def sign(self, data: bytes) -> bytes:
        """The 64-byte signature of ``data``."""
        # libsodium returns the signature followed by the message; the signature is the head.
        return nacl.bindings.crypto_sign(data, self.secret)[:SIGNATURE_BYTES]

    @property
    def seed(self) -> bytes:
        """The 32-byte private seed, as ``<CC>.key`` stores it."""
        return self.secret[:KEY_BYTES]

    @property
    def public(self) -> bytes:
        """The matching public key, 32 raw bytes."""
        return self.secret[KEY_BYTES:]

    def __repr__(self) -> str:
        """The country and kind of key, never its secret."""
        return f"SigningKey({self.country!r}, demo={self.demo})"


def demo_seed(country: str) -> bytes:
    """The demo private key seed of ``country``: derivable by anyone, for demos and tests."""
    return hashlib.sha256(_DEMO_SALT + country.encode()).digest()


def demo_key(country: str) -> SigningKey:
    """The demo signing key of ``country``."""
    return SigningKey.from_seed(country, demo_seed(country), demo=True)


@functools.cache
def demo_public_key(country: str) -> bytes:
    """The demo public key of ``country`` (derived once: every verification asks for it)."""
    return demo_key(country).public


def new_key(country: str) -> SigningKey:
    """A fresh random key pair for ``country``."""
    return SigningKey.from_seed(country, os.urandom(KEY_BYTES))


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
    return SigningKey.from_seed(country, parse_key(text))


def verify(public: bytes, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is ``public``'s Ed25519 signature of ``data``."""
    if len(signature) != SIGNATURE_BYTES or len(public) != KEY_BYTES:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + data, public)
    except (BadSignatureError, CryptoError, ValueError):
        return False
    return True
