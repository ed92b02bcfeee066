"""The project's TLS material: a certificate authority and the broker's certificate.

Made with the ``cryptography`` library, so no ``openssl`` or ``keytool`` is needed. Kafka reads
the results as PEM stores (``ssl.keystore.type=PEM``): one file with the broker's unencrypted
PKCS#8 key and its certificate chain, and the CA certificate as the trust store that clients
name in ``ssl.ca.location``. Files that exist are kept, so a restarted broker keeps the identity
its clients already trust.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

DEFAULT_HOSTS: Final = ("127.0.0.1", "localhost", "kafka", "kafka-1", "kafka-2", "kafka-3")
"""Names the broker certificate is valid for: loopback, and the compose service host names."""
VALID_DAYS: Final = 825
"""How long certificates are valid (the longest a server certificate commonly may be)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PkiFiles:
    """Where the TLS material of one broker (or cluster) lives."""

    ca_certificate: Path
    """The CA certificate (PEM): what clients trust (``ssl.ca.location``)."""
    ca_key: Path
    """The CA's private key (PEM, readable by the owner only)."""
    broker_keystore: Path
    """The broker's key and certificate chain in one PEM file (``ssl.keystore.location``)."""

    @classmethod
    def under(cls, directory: Path) -> PkiFiles:
        """The files' places in one folder."""
        return cls(
            ca_certificate=directory / "ca.pem",
            ca_key=directory / "ca.key",
            broker_keystore=directory / "broker.pem",
        )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "intelshare"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    # Kafka's PEM key store reads unencrypted PKCS#8 when no ssl.key.password is set.
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _san(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def make_ca(
    *, common_name: str = "intelshare CA", now: dt.datetime | None = None
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A new self-signed CA key and certificate (P-256, may sign server certificates only)."""
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(common_name)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def make_server_certificate(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_certificate: x509.Certificate,
    hosts: Iterable[str],
    *,
    common_name: str = "kafka",
    now: dt.datetime | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A server key and certificate signed by the CA, valid for every name in ``hosts``.

    Both server and client authentication are allowed: a broker also connects to its peers
    (and, in KRaft, to the controller) with the same certificate.
    """
    now = now or dt.datetime.now(dt.UTC)
    names = list(dict.fromkeys(hosts))
    if not names:
        raise ValueError("a server certificate needs at least one host name")
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([_san(h) for h in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, certificate


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(data)


def ensure_pki(directory: Path, hosts: Iterable[str] = DEFAULT_HOSTS) -> PkiFiles:
    """The CA and broker files in ``directory``, made now unless they are there already."""
    files = PkiFiles.under(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if not (files.ca_certificate.is_file() and files.ca_key.is_file()):
        ca_key, ca_certificate = make_ca()
        _write_private(files.ca_key, _key_pem(ca_key))
        files.ca_certificate.write_bytes(ca_certificate.public_bytes(serialization.Encoding.PEM))
        files.broker_keystore.unlink(missing_ok=True)  # signed by a CA that is gone
    if not files.broker_keystore.is_file():
        loaded_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), None)
        if not isinstance(loaded_key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{files.ca_key} is not an EC private key")
        ca_certificate = x509.load_pem_x509_certificate(files.ca_certificate.read_bytes())
        key, certificate = make_server_certificate(loaded_key, ca_certificate, hosts)
        _write_private(
            files.broker_keystore,
            _key_pem(key)
            + certificate.public_bytes(serialization.Encoding.PEM)
            + ca_certificate.public_bytes(serialization.Encoding.PEM),
        )
    return files
