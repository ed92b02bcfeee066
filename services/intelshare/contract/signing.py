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

**Batch signatures.** Records written together (a consumer's receipts of one transaction, a
publisher's alerts of one turn of its event loop) are signed once, as a Merkle tree
(:func:`sign_batch`): the leaves are SHA-256 of ``00 || value``, each node SHA-256 of
``01 || left || right`` (the prefixes of RFC 9162, so no node passes for a leaf), an odd node
out goes up unpaired, and the Ed25519 signature is over ``ROOT_CONTEXT || root``, which no
Avro single-object value (they begin ``C3 01``) can equal. Each record's ``signature`` header
is then the 64-byte signature followed by its audit path: per level, one byte saying on which
side the sibling sits (``00`` left, ``01`` right) and the sibling's 32-byte hash. Any holder of
the record and the signer's public key can check it alone (:func:`verify`), as with a plain
signature; a batch of one is signed plainly. A recipient verifies each distinct root once
(:func:`_root_verified` remembers the verdicts), so a batch of 500 costs one Ed25519
verification and 500 short hash paths instead of 500 verifications.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import nacl.bindings
from nacl.exceptions import BadSignatureError, CryptoError

if TYPE_CHECKING:
    from collections.abc import Sequence

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
ROOT_CONTEXT: Final = b"intelshare batch signature v1\x00"
"""What a batch signature signs before the Merkle root: never the start of a signed value."""
_LEAF: Final = b"\x00"
_NODE: Final = b"\x01"
_STEP_BYTES: Final = 1 + 32
MAX_PATH_STEPS: Final = 32
"""Levels an audit path may have, at most (a tree of up to 2**32 records)."""
MAX_TREE_LEAVES: Final = 64
"""Values signed under one root: each adds one level (33 bytes) to every record's header
per doubling, and beyond 64 the Ed25519 signature shared (~22 µs to make, ~60 to check) is
already a small part of each record's cost."""
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
    """Whether ``signature`` proves ``public`` signed ``data``, plainly or in a batch."""
    if len(public) != KEY_BYTES or len(signature) < SIGNATURE_BYTES:
        return False
    if len(signature) == SIGNATURE_BYTES:
        return _ed25519(public, signature, data)
    path = signature[SIGNATURE_BYTES:]
    steps, rest = divmod(len(path), _STEP_BYTES)
    if rest or steps > MAX_PATH_STEPS:
        return False
    node = hashlib.sha256(_LEAF + data).digest()
    parents = _PARENTS
    for start in range(0, len(path), _STEP_BYTES):
        side, sibling = path[start], path[start + 1 : start + _STEP_BYTES]
        if side == 0:
            joined = _NODE + sibling + node
        elif side == 1:
            joined = _NODE + node + sibling
        else:
            return False
        # The records of one batch share their upper nodes: each is hashed once, not per record.
        parent = parents.get(joined)
        if parent is None:
            if len(parents) >= _PARENTS_KEPT:
                parents.clear()
            parent = parents[joined] = hashlib.sha256(joined).digest()
        node = parent
    return _root_verified(public, signature[:SIGNATURE_BYTES], node)


_PARENTS: dict[bytes, bytes] = {}
"""Inner nodes hashed lately (a pure function remembered: nothing is trusted from it)."""
_PARENTS_KEPT: Final = 4_096
"""Inner nodes remembered at most (~400 KiB); a batch of 64 records has 63."""


@functools.lru_cache(maxsize=4_096)
def _root_verified(public: bytes, signature: bytes, root: bytes) -> bool:
    # Every record of a batch leads to the same root: its signature is checked once.
    return _ed25519(public, signature, ROOT_CONTEXT + root)


def _ed25519(public: bytes, signature: bytes, data: bytes) -> bool:
    try:
        nacl.bindings.crypto_sign_open(signature + data, public)
    except (BadSignatureError, CryptoError, ValueError):
        return False
    return True


def sign_batch(key: SigningKey, values: Sequence[bytes]) -> list[bytes]:
    """The ``signature`` header of each value, signed together (see the module's notes).

    One tree per :data:`MAX_TREE_LEAVES` distinct values; equal values get the same header;
    one distinct value is signed plainly.
    """
    distinct = list(dict.fromkeys(values))
    proof: dict[bytes, bytes] = {}
    for start in range(0, len(distinct), MAX_TREE_LEAVES):
        chunk = distinct[start : start + MAX_TREE_LEAVES]
        proof.update(zip(chunk, _sign_tree(key, chunk), strict=True))
    return [proof[value] for value in values]


def _sign_tree(key: SigningKey, distinct: list[bytes]) -> list[bytes]:
    if len(distinct) == 1:
        return [key.sign(distinct[0])]
    level = [hashlib.sha256(_LEAF + value).digest() for value in distinct]
    paths: list[list[bytes]] = [[] for _ in distinct]
    members = [[n] for n in range(len(distinct))]  # the leaves under each node of the level
    while len(level) > 1:
        parents, grouped = [], []
        for n in range(0, len(level) - 1, 2):
            left, right = level[n], level[n + 1]
            for leaf in members[n]:
                paths[leaf].append(b"\x01" + right)
            for leaf in members[n + 1]:
                paths[leaf].append(b"\x00" + left)
            parents.append(hashlib.sha256(_NODE + left + right).digest())
            grouped.append(members[n] + members[n + 1])
        if len(level) % 2:
            parents.append(level[-1])  # the odd node out goes up unpaired
            grouped.append(members[-1])
        level, members = parents, grouped
    signature = key.sign(ROOT_CONTEXT + level[0])
    return [signature + b"".join(path) for path in paths]
