"""Service settings from flags or ``INTELSHARE_*`` environment variables, validated once.

Flags win over the environment, the environment over defaults. Every value is checked when
:class:`Settings` is built, so a bad value stops a service before it touches Kafka, with one
line naming the setting (:class:`~intelshare.errors.SettingsError`, exit code 2).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from intelshare.contract.signing import KeyFormatError, SigningKey, demo_key, signing_key
from intelshare.errors import SettingsError
from intelshare.network.model import COUNTRY_CODES, Network, load_network
from intelshare.runtime.client_config import PLAINTEXT, ClientSecurity, load_client_config

if TYPE_CHECKING:
    from collections.abc import Mapping

LogFormat = Literal["json", "pretty", "auto"]
"""``json`` lines, ``pretty`` console lines, or ``auto``: pretty on a terminal, else JSON."""

DEFAULT_BOOTSTRAP: Final = "127.0.0.1:9092"
"""Where the local broker (``scripts/kafka-local``) listens."""

_HOST_PORT: Final = re.compile(
    r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>[0-9]{1,5})$"
)
_PREFIX: Final = re.compile(r"^[A-Za-z0-9._-]*$")
_MAX_PORT: Final = 65535
LONGEST_COMMIT_INTERVAL: Final = 60.0
"""Seconds; longer is a typo (milliseconds meant) and would hold every line that long."""

ENV: Final = {
    "bootstrap": "INTELSHARE_BOOTSTRAP",
    "country": "INTELSHARE_COUNTRY",
    "network_path": "INTELSHARE_NETWORK",
    "topic_prefix": "INTELSHARE_TOPIC_PREFIX",
    "client_id": "INTELSHARE_CLIENT_ID",
    "group_id": "INTELSHARE_GROUP_ID",
    "log_format": "INTELSHARE_LOG_FORMAT",
    "log_file": "INTELSHARE_LOG_FILE",
    "audit": "INTELSHARE_AUDIT",
    "connect_timeout": "INTELSHARE_CONNECT_TIMEOUT",
    "stop_timeout": "INTELSHARE_STOP_TIMEOUT",
    "clock_skew": "INTELSHARE_CLOCK_SKEW",
    "client_config": "INTELSHARE_CLIENT_CONFIG",
    "instance": "INTELSHARE_INSTANCE",
    "commit_interval": "INTELSHARE_COMMIT_INTERVAL",
    "signing_key_file": "INTELSHARE_SIGNING_KEY_FILE",
    "signing_key": "INTELSHARE_SIGNING_KEY",
}
"""The environment variable behind each setting."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    """What a producer or consumer service needs to know to run."""

    bootstrap: str = DEFAULT_BOOTSTRAP
    """Kafka bootstrap servers, ``host:port`` (comma-separated for several)."""
    country: str | None = None
    """The country this service speaks for (ISO 3166-1 alpha-2, Kosovo ``XK``)."""
    network_path: Path | None = None
    """The network file; None means the default network shipped with the package."""
    topic_prefix: str = ""
    """Prepended to every topic name, so tests and exercises can share one broker."""
    client_id: str | None = None
    """Kafka client id; derived from service and country when not given."""
    group_id: str | None = None
    """Consumer group id; derived from prefix and country when not given."""
    log_format: LogFormat = "auto"
    """How log lines are written: ``json``, ``pretty`` or ``auto``."""
    log_file: Path | None = None
    """Append log lines to this file instead of standard output."""
    audit: bool = True
    """Mirror every audit event to the audit topic."""
    connect_timeout: float = 60.0
    """Seconds to keep retrying an unreachable broker before giving up (0: forever)."""
    stop_timeout: float = 10.0
    """Seconds a clean stop may take before the service stops waiting."""
    clock_skew: float = 300.0
    """Seconds an alert's ``created_at`` may lie ahead of the consumer's clock."""
    client_config: Path | None = None
    """A client file (librdkafka names): protocol, SASL identity, CA; None: plaintext."""
    security: ClientSecurity = PLAINTEXT
    """How clients connect, read from ``client_config`` when the settings are built."""
    signing_key_file: Path | None = None
    """This country's private Ed25519 key (``intelshare keys`` makes one), read at start; or
    a folder of ``<CC>.key`` files for a command acting for several countries."""
    signing_key: str | None = field(default=None, repr=False)
    """This country's private key itself (base64), for where a file is awkward."""
    instance: str | None = None
    """Names one consumer process of a country (its transactional id); random when unset.
    Give each replica a stable one (a pod ordinal) so a restart fences its predecessor."""
    commit_interval: float = 0.0
    """Seconds a consumer lets records gather after a transaction begins before the next one
    (0: each as soon as the one before committed). Fewer, larger transactions for up to this
    much more latency: worth it where many consumers share few cores (a large replay)."""

    def __post_init__(self) -> None:
        """Refuse bad values at once, naming the setting; read the client file."""
        if self.client_config is not None and self.security is PLAINTEXT:
            object.__setattr__(self, "security", load_client_config(self.client_config))
        for server in self.bootstrap.split(","):
            match = _HOST_PORT.match(server.strip())
            if match is None or not 0 < int(match["port"]) <= _MAX_PORT:
                raise SettingsError(
                    f"bootstrap: {server.strip()!r} is not host:port "
                    f"({ENV['bootstrap']} or --bootstrap)"
                )
        if self.country is not None and self.country not in COUNTRY_CODES:
            raise SettingsError(
                f"country: {self.country!r} is not an ISO 3166-1 alpha-2 code (or XK)"
            )
        if not _PREFIX.match(self.topic_prefix):
            raise SettingsError(
                f"topic prefix: {self.topic_prefix!r} may hold only letters, digits, . _ -"
            )
        if self.log_format not in ("json", "pretty", "auto"):
            raise SettingsError(f"log format: {self.log_format!r} is not json, pretty or auto")
        if self.connect_timeout < 0:
            raise SettingsError(f"connect timeout: {self.connect_timeout} is negative")
        if self.stop_timeout <= 0:
            raise SettingsError(f"stop timeout: {self.stop_timeout} must be positive")
        self._check_consumer_values()

    def _check_consumer_values(self) -> None:
        if self.instance is not None and not _PREFIX.match(self.instance):
            raise SettingsError(f"instance: {self.instance!r} may hold only letters, digits, . _ -")
        if self.clock_skew < 0:
            raise SettingsError(f"clock skew: {self.clock_skew} is negative")
        if not 0 <= self.commit_interval <= LONGEST_COMMIT_INTERVAL:
            raise SettingsError(
                f"commit interval: {self.commit_interval:g} is not between 0 and "
                f"{LONGEST_COMMIT_INTERVAL:g} seconds"
            )

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        **overrides: Any,  # noqa: ANN401 - each field has its own type; __post_init__ checks
    ) -> Settings:
        """Settings from ``INTELSHARE_*`` variables, then ``overrides`` (None means unset).

        Raises:
            SettingsError: a variable or override has a bad value.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, variable in ENV.items():
            raw = env.get(variable)
            if raw is not None and raw.strip():
                values[name] = _parse(name, raw.strip(), variable)
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise SettingsError(f"unknown settings {sorted(unknown)}")
        settings = cls(**values)
        # A client file naming its servers is enough on its own (as for kcat -F), unless a
        # bootstrap other than the default is given.
        named = settings.security.bootstrap
        if named and settings.bootstrap == DEFAULT_BOOTSTRAP:
            settings = replace(settings, bootstrap=named)
        return settings

    def with_country(self, country: str) -> Settings:
        """The same settings for another country (the demo runs every country at once).

        Secured, the country connects as itself: with ``<country>.properties`` from the folder
        of the client file, when there is one (see :meth:`as_principal`).
        """
        return replace(
            self, country=country, client_id=None, group_id=None, security=self.security_of(country)
        )

    def as_principal(self, name: str) -> Settings:
        """These settings connecting as ``name`` (e.g. ``admin``) if its file is beside ours."""
        return replace(self, security=self.security_of(name))

    def security_of(self, name: str) -> ClientSecurity:
        """``<name>.properties`` beside the client file if it exists, else this file's security.

        One folder holds every principal's file (``scripts/kafka-local start --secure`` writes
        them so); a command that acts for several principals (demo, replay) takes one file of
        that folder and finds the others by name.
        """
        if self.client_config is None:
            return self.security
        sibling = self.client_config.parent / f"{name}.properties"
        if sibling == self.client_config or not sibling.is_file():
            return self.security
        return load_client_config(sibling)

    def require_country(self) -> str:
        """The country, or a SettingsError saying how to give one."""
        if self.country is None:
            raise SettingsError(f"country: not set (--country or {ENV['country']})")
        return self.country

    def country_network(self, network: Network | None = None) -> tuple[str, Network]:
        """The country and the network it is in (``network``, else the configured file).

        Raises SettingsError when no country is set or the network does not know it.
        """
        country = self.require_country()
        network = network or load_network(self.network_path)
        if network.country(country) is None:
            raise SettingsError(f"country: {country} is not in {network.source}")
        return country, network

    def signer(self, country: str, network: Network) -> SigningKey:
        """The key ``country``'s services sign with: the configured one, or the demo key.

        Raises SettingsError when the key cannot be read, or when none is configured and the
        network names a keys folder (its countries then have real keys, never demo ones).
        """
        source = "signing key"
        text = self.signing_key
        if text is None and self.signing_key_file is not None:
            path = self.signing_key_file
            if path.is_dir():
                # A folder of <CC>.key files serves a command that acts for several countries
                # (demo, replay); a country's own service is given its own file only.
                path = path / f"{country}.key"
            source = str(path)
            try:
                text = path.read_text(encoding="ascii")
            except (OSError, UnicodeDecodeError) as error:
                raise SettingsError(f"signing key: cannot read {source}: {error}") from None
        if text is None:
            if not network.demo_keys:
                raise SettingsError(
                    f"signing key: {network.source} names a keys folder, so {country} needs its "
                    f"private key (--signing-key-file or {ENV['signing_key_file']})"
                )
            return demo_key(country)
        try:
            key = signing_key(country, text)
        except KeyFormatError as error:
            raise SettingsError(f"signing key: {source}: {error}") from None
        if network.public_key(country) not in (None, key.public):
            raise SettingsError(
                f"signing key: {source} is not the key {network.source} lists for {country}"
            )
        return key

    def client_id_for(self, service: str) -> str:
        """The Kafka client id of one service: one identity per country and role."""
        if self.client_id:
            return self.client_id
        return f"intelshare-{service}-{self.country or 'any'}"

    @property
    def consumer_group(self) -> str:
        """The consumer group of this country's consumer service (prefix-scoped)."""
        if self.group_id:
            return self.group_id
        return f"{self.topic_prefix}intelshare-consumer-{self.require_country()}"


def _parse(name: str, raw: str, variable: str) -> object:
    if name in ("network_path", "log_file", "client_config", "signing_key_file"):
        return Path(raw)
    if name == "audit":
        lowered = raw.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{variable}: {raw!r} is not a boolean (true/false, 1/0)")
    if name in ("connect_timeout", "stop_timeout", "clock_skew", "commit_interval"):
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(f"{variable}: {raw!r} is not a number of seconds") from None
    if name == "country":
        return raw.upper()
    return raw
