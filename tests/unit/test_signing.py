"""Origin-proof keys: the keys command, the network's keys folder, the service's own key."""

from __future__ import annotations

import hashlib
import stat
from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fake_outbox import fake_country
from typer.testing import CliRunner

from intelshare.cli import app
from intelshare.contract.signing import (
    HEADER_SIGNATURE,
    ROOT_CONTEXT,
    SIGNATURE_BYTES,
    SigningKey,
    demo_key,
    parse_key,
    sign_batch,
    signing_key,
    verify,
)
from intelshare.errors import NetworkError, SettingsError
from intelshare.network.model import default_network, load_network
from intelshare.runtime.settings import Settings

if TYPE_CHECKING:
    from pathlib import Path

NETWORK = """
countries: [{code: GB, name: UK}, {code: RS, name: Serbia}]
agreements:
  - {id: A, parties: [GB, RS], categories: [MODUS_OPERANDI], max_tlp: TLP_GREEN,
     retention_days: 1}
keys: keys
"""


@pytest.fixture
def keyed(tmp_path: Path) -> Path:
    """A network file whose keys folder holds pairs made by ``intelshare keys``."""
    result = CliRunner().invoke(app, ["keys", "--out", str(tmp_path / "keys"), "GB", "RS"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "network.yaml"
    path.write_text(NETWORK)
    return path


def test_keys_makes_private_keys_readable_by_the_owner_only(keyed: Path) -> None:
    """<CC>.key is 0600, <CC>.pub is the matching public key; a second run keeps them."""
    folder = keyed.parent / "keys"
    private = (folder / "GB.key").read_text()

    assert stat.S_IMODE((folder / "GB.key").stat().st_mode) == 0o600
    assert parse_key((folder / "GB.pub").read_text()) == signing_key("GB", private).public
    again = CliRunner().invoke(app, ["keys", "--out", str(folder), "GB"])
    assert "kept" in again.output
    assert (folder / "GB.key").read_text() == private


def test_a_network_with_a_keys_folder_lists_those_keys_not_demo_ones(keyed: Path) -> None:
    """Its countries have the made keys; the demo key of GB is not GB's key there."""
    network = load_network(keyed)

    assert not network.demo_keys
    assert network.public_key("GB") == parse_key((keyed.parent / "keys/GB.pub").read_text())
    assert network.public_key("GB") != demo_key("GB").public
    assert network.public_key("FR") is None


def test_a_missing_keys_folder_is_named(tmp_path: Path) -> None:
    """keys: naming no folder is a network error with file and line."""
    path = tmp_path / "network.yaml"
    path.write_text(NETWORK)

    with pytest.raises(NetworkError, match=r"network.yaml:6:\d+: keys folder .* does not exist"):
        load_network(path)


def test_a_service_of_a_keyed_network_needs_its_own_key(keyed: Path) -> None:
    """No key configured: refused (never the demo key); its own file: used; another's: refused."""
    network = load_network(keyed)
    folder = keyed.parent / "keys"

    with pytest.raises(SettingsError, match="needs its private key"):
        Settings(country="GB").signer("GB", network)
    key = Settings(signing_key_file=folder / "GB.key").signer("GB", network)
    assert verify(network.public_key("GB") or b"", key.sign(b"x"), b"x")
    with pytest.raises(SettingsError, match="not the key"):
        Settings(signing_key_file=folder / "RS.key").signer("GB", network)


def test_the_default_network_uses_derivable_demo_keys() -> None:
    """Without a keys folder each country signs with its demo key, marked as such."""
    key = Settings().signer("GB", default_network())

    assert key.demo
    assert default_network().public_key("GB") == key.public
    assert default_network().public_key("RS") != key.public


def test_a_malformed_key_is_one_clear_line(tmp_path: Path) -> None:
    """A key file that is not base64 of 32 bytes: SettingsError naming the file."""
    bad = tmp_path / "GB.key"
    bad.write_text("not a key\n")

    with pytest.raises(SettingsError, match=r"GB\.key: not base64"):
        Settings(signing_key_file=bad).signer("GB", default_network())


def test_a_folder_of_keys_serves_each_country_its_own(keyed: Path) -> None:
    """A keys folder as the key file: each country's services sign with <CC>.key from it."""
    network = load_network(keyed)
    settings = Settings(signing_key_file=keyed.parent / "keys")

    for country in ("GB", "RS"):
        assert settings.signer(country, network).public == network.public_key(country)


async def test_records_enqueued_together_are_signed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """One Ed25519 signature covers what is enqueued together; equal values share a proof."""
    signed: list[bytes] = []
    sign = SigningKey.sign

    def counting(key: SigningKey, data: bytes) -> bytes:
        signed.append(data)
        return sign(key, data)

    monkeypatch.setattr(SigningKey, "sign", counting)
    country = fake_country("GB")
    outbox = country.handlers.outbox
    alert, receipt = b"one alert's bytes", b"a receipt's bytes"
    writes = (("intel.alerts.RS", alert), ("intel.alerts.MK", alert), ("r", receipt))
    await outbox.enqueue([outbox.record(topic, "case", value, []) for topic, value in writes])
    assert len(signed) == 1
    assert signed[0].startswith(ROOT_CONTEXT)
    signatures = [sent.headers[HEADER_SIGNATURE] for sent in country.producer.sent]
    assert signatures[0] == signatures[1] != signatures[2]
    public = demo_key("GB").public
    assert verify(public, signatures[0], alert)
    assert verify(public, signatures[2], receipt)


def test_a_batch_of_one_is_signed_plainly() -> None:
    """One distinct value gets the key's plain 64-byte signature, as a single write always did."""
    key = demo_key("GB")
    assert sign_batch(key, [b"v", b"v"]) == [key.sign(b"v")] * 2
    assert sign_batch(key, []) == []


@pytest.mark.parametrize("count", [2, 3, 5, 64, 65, 200])
def test_every_record_of_a_batch_proves_itself_and_nothing_else(count: int) -> None:
    """Each value verifies with its own proof; another value, key or proof does not."""
    key = demo_key("GB")
    values = [f"record {n}".encode() * (n % 5 + 1) for n in range(count)]
    proofs = sign_batch(key, values)
    for number, (value, proof) in enumerate(zip(values, proofs, strict=True)):
        alone = number == count - 1 and count % 64 == 1  # the last tree's only leaf: plain
        assert (len(proof) == SIGNATURE_BYTES) == alone
        assert verify(key.public, proof, value)
        assert not verify(demo_key("MK").public, proof, value)
        assert not verify(key.public, proof, value + b"!")
    assert not verify(key.public, proofs[1], values[0])  # a borrowed path
    assert len({proof[:SIGNATURE_BYTES] for proof in proofs}) == (count + 63) // 64


def test_a_damaged_batch_proof_is_refused() -> None:
    """A cut, lengthened, bit-flipped or badly sided path, or a node passed as a value, fails."""
    key = demo_key("GB")
    values = [b"first", b"second", b"third"]
    proof = sign_batch(key, values)[0]
    steps = proof[SIGNATURE_BYTES:]
    assert not verify(key.public, proof[:-1], values[0])
    assert not verify(key.public, proof + bytes(33), values[0])
    assert not verify(key.public, proof[:SIGNATURE_BYTES] + steps[33:], values[0])
    assert not verify(key.public, proof[:-1] + bytes([proof[-1] ^ 1]), values[0])
    assert not verify(key.public, proof[:SIGNATURE_BYTES] + b"\x02" + steps[1:], values[0])
    assert not verify(key.public, proof[:SIGNATURE_BYTES], values[0])
    # The two leaves under the first node, passed as one value one level up: leaves and
    # nodes hash with different prefixes, so it is no leaf of the signed tree.
    left = hashlib.sha256(b"\x00" + values[0]).digest()
    node_value = b"\x01" + left + steps[1:33]
    assert not verify(key.public, proof[:SIGNATURE_BYTES] + steps[33:], node_value)


def test_signatures_match_and_verify_with_openssl() -> None:
    """Our (libsodium's) signature is OpenSSL's byte for byte; each verifies the other's."""
    ours = demo_key("GB")
    theirs = Ed25519PrivateKey.from_private_bytes(ours.seed)
    for data in (b"", b"an alert's value", bytes(range(256)) * 40):
        signature = ours.sign(data)
        assert signature == theirs.sign(data)
        Ed25519PublicKey.from_public_bytes(ours.public).verify(signature, data)
        assert verify(ours.public, theirs.sign(data), data)


def test_verify_refuses_what_is_not_the_signers_exact_bytes() -> None:
    """A changed byte, another key, a short signature and a key that is no point all fail."""
    gb, rs = demo_key("GB"), demo_key("RS")
    data = b"GB-1 r1 to RS"
    signature = gb.sign(data)
    assert verify(gb.public, signature, data)
    assert not verify(gb.public, signature, data + b" ")
    assert not verify(gb.public, bytes([signature[0] ^ 1]) + signature[1:], data)
    assert not verify(rs.public, signature, data)
    assert not verify(gb.public, signature[:63], data)
    assert not verify(b"\xff" * 32, signature, data)
    assert not verify(bytes(32), signature, data)


def test_a_signing_key_never_shows_its_secret() -> None:
    """The key's repr names the country, not the seed."""
    key = demo_key("GB")
    assert key.seed.hex() not in repr(key)
    assert key.secret.hex()[:16] not in repr(key)
