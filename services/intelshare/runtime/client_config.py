"""Client files: how a client connects to Kafka, in librdkafka's property names.

One file per principal (``security.protocol``, ``sasl.mechanisms``, ``sasl.username``,
``sasl.password``, ``ssl.ca.location``, optionally ``bootstrap.servers``) serves every client:
``kcat -F RS.properties`` reads it as it is, and :meth:`ClientSecurity.aiokafka_options` turns it
into aiokafka's ``security_protocol``, ``sasl_mechanism`` and ``ssl_context``. A file that cannot
be used is refused with one line naming the file, the line and the key.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from intelshare.errors import SettingsError

PROTOCOLS: Final = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
"""Values of ``security.protocol``."""
MECHANISMS: Final = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")
"""Values of ``sasl.mechanisms`` that aiokafka and the broker both speak."""
KEYS: Final = (
    "bootstrap.servers",
    "security.protocol",
    "sasl.mechanisms",
    "sasl.mechanism",
    "sasl.username",
    "sasl.password",
    "ssl.ca.location",
    "ssl.endpoint.identification.algorithm",
)
"""The keys a client file may hold (``sasl.mechanism`` is the Java clients' spelling)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ClientSecurity:
    """How to connect: protocol, SASL identity and the CA to trust."""

    protocol: str = "PLAINTEXT"
    """``security.protocol``: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL."""
    mechanism: str | None = None
    """``sasl.mechanisms``, e.g. SCRAM-SHA-512 (SASL protocols only)."""
    username: str | None = None
    """``sasl.username``: the principal this client authenticates as."""
    password: str | None = None
    """``sasl.password``."""
    ca_location: Path | None = None
    """``ssl.ca.location``: the CA certificate (PEM) to trust; None: the system's."""
    verify_hostname: bool = True
    """False when ``ssl.endpoint.identification.algorithm=none``."""
    bootstrap: str | None = None
    """``bootstrap.servers`` when the file names them."""
    source: str | None = None
    """The file this came from (for messages), None for the plaintext default."""

    @property
    def uses_sasl(self) -> bool:
        """Whether the client authenticates with SASL."""
        return self.protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        """Whether the connection is encrypted."""
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def principal(self) -> str:
        """The Kafka principal the broker will see, e.g. ``User:RS`` (``User:ANONYMOUS``)."""
        return f"User:{self.username}" if self.uses_sasl and self.username else "User:ANONYMOUS"

    def describe(self) -> str:
        """A short description for log lines: protocol and principal, never the password."""
        if self.uses_sasl:
            return f"{self.protocol} as {self.username} ({self.mechanism})"
        return self.protocol

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for an encrypted connection, trusting ``ca_location``.

        Raises:
            SettingsError: the CA file cannot be read as PEM certificates.
        """
        if not self.uses_tls:
            return None
        try:
            context = ssl.create_default_context(
                cafile=str(self.ca_location) if self.ca_location else None
            )
        except (OSError, ssl.SSLError) as error:
            raise SettingsError(
                f"{self.source}: ssl.ca.location {self.ca_location}: not a readable PEM "
                f"certificate ({error})"
            ) from None
        context.check_hostname = self.verify_hostname
        return context

    def aiokafka_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options["sasl_mechanism"] = self.mechanism
            options["sasl_plain_username"] = self.username
            options["sasl_plain_password"] = self.password
        return options


PLAINTEXT: Final = ClientSecurity()
"""No file: plaintext and anonymous (the development broker)."""


def parse_client_config(text: str, source: str, *, check_files: bool = True) -> ClientSecurity:
    """A client file's text as :class:`ClientSecurity`; relative paths are taken from ``source``.

    ``check_files=False`` accepts a CA path that does not exist here (a file written for a
    container, read back by its maker).

    Raises:
        SettingsError: a line is not ``key=value``, a key is unknown or repeated, a value is
            not allowed, or a key the protocol needs is missing (one line naming file and key).
    """
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, separator, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not separator or not key:
            raise SettingsError(f"{source}:{number}: expected key=value, found {line[:40]!r}")
        if key not in KEYS:
            raise SettingsError(
                f"{source}:{number}: unknown key {key!r} (known: {', '.join(KEYS)})"
            )
        if key == "sasl.mechanism":
            key = "sasl.mechanisms"
        if key in values:
            raise SettingsError(f"{source}:{number}: {key} is given twice")
        if not value:
            raise SettingsError(f"{source}:{number}: {key} has no value")
        values[key] = value
    return _from_values(values, source, check_files=check_files)


def _from_values(values: dict[str, str], source: str, *, check_files: bool) -> ClientSecurity:
    protocol = values.get("security.protocol", "PLAINTEXT").upper()
    if protocol not in PROTOCOLS:
        raise SettingsError(
            f"{source}: security.protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}"
        )
    mechanism = username = password = None
    if protocol.startswith("SASL_"):
        for key in ("sasl.mechanisms", "sasl.username", "sasl.password"):
            if key not in values:
                raise SettingsError(f"{source}: {key} is missing (needed for {protocol})")
        mechanism = values["sasl.mechanisms"].upper()
        if mechanism not in MECHANISMS:
            raise SettingsError(
                f"{source}: sasl.mechanisms {mechanism!r} is not one of {', '.join(MECHANISMS)}"
            )
        username, password = values["sasl.username"], values["sasl.password"]
    ca_location = None
    if "ssl.ca.location" in values:
        ca_location = Path(values["ssl.ca.location"])
        if not ca_location.is_absolute():
            ca_location = Path(source).parent / ca_location
        if check_files and not ca_location.is_file():
            raise SettingsError(f"{source}: ssl.ca.location {ca_location}: no such file")
    identification = values.get("ssl.endpoint.identification.algorithm", "https").lower()
    if identification not in ("https", "none"):
        raise SettingsError(
            f"{source}: ssl.endpoint.identification.algorithm {identification!r} "
            "is not https or none"
        )
    return ClientSecurity(
        protocol=protocol,
        mechanism=mechanism,
        username=username,
        password=password,
        ca_location=ca_location,
        verify_hostname=identification == "https",
        bootstrap=values.get("bootstrap.servers"),
        source=source,
    )


def load_client_config(path: Path, *, check_files: bool = True) -> ClientSecurity:
    """Read and check a client file (see :func:`parse_client_config` for ``check_files``).

    Raises:
        SettingsError: the file cannot be read or is not a usable client file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"client config {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"client config {path}: cannot be read ({error})") from None
    return parse_client_config(text, str(path), check_files=check_files)


def render_client_config(security: ClientSecurity, *, comment: str = "") -> str:
    """The client file for ``security``, in librdkafka's names (``kcat -F`` reads it)."""
    lines = [f"# {line}" for line in comment.splitlines()]
    if security.bootstrap:
        lines.append(f"bootstrap.servers={security.bootstrap}")
    lines.append(f"security.protocol={security.protocol}")
    if security.uses_sasl:
        lines += [
            f"sasl.mechanisms={security.mechanism}",
            f"sasl.username={security.username}",
            f"sasl.password={security.password}",
        ]
    if security.ca_location is not None:
        lines.append(f"ssl.ca.location={security.ca_location}")
    if not security.verify_hostname:
        lines.append("ssl.endpoint.identification.algorithm=none")
    return "\n".join(lines) + "\n"
