from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from intelshare.runtime.pki import DEFAULT_HOSTS, ensure_pki

if TYPE_CHECKING:
    from pathlib import Path


def test_the_broker_certificate_names_loopback_and_compose_hosts(tmp_path: Path) -> None:
    """The broker certificate's SANs hold 127.0.0.1, localhost and the compose host names."""
    files = ensure_pki(tmp_path)
    chain = x509.load_pem_x509_certificates(files.broker_keystore.read_bytes())
    san = chain[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in san.get_values_for_type(x509.IPAddress)
    assert {"localhost", "kafka"} <= set(san.get_values_for_type(x509.DNSName))
    assert set(DEFAULT_HOSTS) - {"127.0.0.1"} == set(san.get_values_for_type(x509.DNSName))


def test_the_ca_signs_the_broker_certificate(tmp_path: Path) -> None:
    """The broker certificate verifies against the CA's public key and is not itself a CA."""
    files = ensure_pki(tmp_path)
    ca = x509.load_pem_x509_certificate(files.ca_certificate.read_bytes())
    broker = x509.load_pem_x509_certificates(files.broker_keystore.read_bytes())[0]
    broker.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not broker.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    public = ca.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)


def test_existing_files_are_kept_and_keys_are_private(tmp_path: Path) -> None:
    """A second run keeps the same CA and broker files; private keys are mode 0600."""
    first = ensure_pki(tmp_path)
    before = (first.ca_certificate.read_bytes(), first.broker_keystore.read_bytes())
    second = ensure_pki(tmp_path)
    assert (second.ca_certificate.read_bytes(), second.broker_keystore.read_bytes()) == before
    assert first.ca_key.stat().st_mode & 0o777 == 0o600
    assert first.broker_keystore.stat().st_mode & 0o777 == 0o600
