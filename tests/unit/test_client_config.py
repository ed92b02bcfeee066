from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

import pytest

from intelshare.errors import SettingsError
from intelshare.runtime.client_config import (
    ClientSecurity,
    load_client_config,
    parse_client_config,
    render_client_config,
)
from intelshare.runtime.pki import ensure_pki

if TYPE_CHECKING:
    from pathlib import Path


def test_a_written_file_reads_back_as_the_same_security(tmp_path: Path) -> None:
    """render_client_config and load_client_config round-trip every field."""
    pki = ensure_pki(tmp_path / "tls", ["127.0.0.1"])
    security = ClientSecurity(
        protocol="SASL_SSL",
        mechanism="SCRAM-SHA-512",
        username="RS",
        password="s3cret",  # noqa: S106 - a test value
        ca_location=pki.ca_certificate,
        bootstrap="127.0.0.1:9092",
    )
    path = tmp_path / "RS.properties"
    path.write_text(render_client_config(security, comment="RS"))
    loaded = load_client_config(path)
    assert loaded.principal == "User:RS"
    assert (loaded.username, loaded.password, loaded.mechanism) == ("RS", "s3cret", "SCRAM-SHA-512")
    assert loaded.bootstrap == "127.0.0.1:9092"
    options = loaded.aiokafka_options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert "s3cret" not in loaded.describe()


def test_java_spelling_and_comments_are_accepted() -> None:
    """sasl.mechanism (the Java clients' name), comments and blank lines are fine."""
    text = (
        "# c\n\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n"
        "sasl.username=a\nsasl.password=b\n"
    )
    assert parse_client_config(text, "f").mechanism == "PLAIN"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            "security.protocol SASL_SSL\n", "f.properties:1: expected key=value", id="no-equals"
        ),
        pytest.param("sasl.jaas=x\n", "f.properties:1: unknown key 'sasl.jaas'", id="unknown-key"),
        pytest.param("security.protocol=TLS\n", "security.protocol 'TLS'", id="bad-protocol"),
        pytest.param(
            "security.protocol=SASL_SSL\nsasl.mechanisms=SCRAM-SHA-512\nsasl.username=RS\n",
            "f.properties: sasl.password is missing",
            id="missing-password",
        ),
        pytest.param(
            "security.protocol=SASL_SSL\nsasl.mechanisms=GSSAPI\nsasl.username=RS\nsasl.password=x\n",
            "sasl.mechanisms 'GSSAPI'",
            id="bad-mechanism",
        ),
        pytest.param(
            "security.protocol=SSL\nssl.ca.location=/nowhere/ca.pem\n",
            "ssl.ca.location /nowhere/ca.pem: no such file",
            id="missing-ca",
        ),
        pytest.param(
            "sasl.username=a\nsasl.username=b\n", ":2: sasl.username is given twice", id="twice"
        ),
        pytest.param("sasl.username=\n", ":1: sasl.username has no value", id="empty"),
    ],
)
def test_a_bad_file_is_refused_naming_file_and_key(text: str, message: str) -> None:
    """Every malformed client file gets one SettingsError naming the file and the key."""
    with pytest.raises(SettingsError) as caught:
        parse_client_config(text, "f.properties")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    """A client file that does not exist is refused with its path."""
    with pytest.raises(SettingsError, match=r"client config .*nope\.properties: no such file"):
        load_client_config(tmp_path / "nope.properties")


def test_a_ca_file_that_is_not_pem_is_refused_when_used(tmp_path: Path) -> None:
    """A CA file that is not a certificate is named when the TLS context is made."""
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    security = parse_client_config(f"security.protocol=SSL\nssl.ca.location={bad}\n", "f")
    with pytest.raises(SettingsError, match=r"ssl\.ca\.location .*ca\.pem: not a readable PEM"):
        security.ssl_context()


def test_no_file_means_plaintext_and_anonymous() -> None:
    """The default security is plaintext, seen by the broker as User:ANONYMOUS."""
    security = ClientSecurity()
    assert security.aiokafka_options() == {"security_protocol": "PLAINTEXT"}
    assert security.principal == "User:ANONYMOUS"
