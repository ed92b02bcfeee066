"""Options shared by the commands that talk to Kafka, declared once.

Each carries the ``INTELSHARE_*`` variable that :data:`intelshare.runtime.settings.ENV` names
for its setting, the same one :meth:`~intelshare.runtime.settings.Settings.from_env` reads, so
a flag and its variable cannot drift apart between commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from intelshare.runtime.settings import ENV


def setting_option(setting: str, *flags: str, help: str, show_default: bool = True) -> Any:  # noqa: A002, ANN401 - typer's own names; typer.Option is typed Any
    """A typer option for one setting, read from the setting's variable when the flag is absent."""
    return typer.Option(*flags, help=help, envvar=ENV[setting], show_default=show_default)


BootstrapOption = Annotated[
    str,
    setting_option("bootstrap", "--bootstrap", "-b", help="Kafka bootstrap servers, host:port."),
]
CountryOption = Annotated[
    str,
    setting_option(
        "country",
        "--country",
        "-c",
        help="The country this service speaks for (ISO 3166-1 alpha-2; Kosovo XK).",
        show_default=False,
    ),
]
NetworkOption = Annotated[
    Path | None,
    setting_option(
        "network_path",
        "--network",
        "-n",
        help="Network file (YAML); default: the network shipped with intelshare.",
        show_default=False,
    ),
]
PrefixOption = Annotated[
    str, setting_option("topic_prefix", "--prefix", help="Prepended to every topic name.")
]
FreshPrefixOption = Annotated[
    str | None,
    setting_option(
        "topic_prefix",
        "--prefix",
        help="Prepended to every topic name (default: none; with --with-consumers, a fresh "
        "prefix of the replay's own).",
        show_default=False,
    ),
]
"""``--prefix`` where leaving it out means more than the empty prefix (``replay``)."""
GroupIdOption = Annotated[
    str | None,
    setting_option(
        "group_id",
        "--group-id",
        help="Consumer group (default: <prefix>intelshare-consumer-<CC>).",
        show_default=False,
    ),
]
LogFormatOption = Annotated[
    str,
    setting_option(
        "log_format",
        "--log-format",
        help="json, pretty, or auto (pretty on a terminal, else JSON).",
    ),
]
LogFileOption = Annotated[
    Path | None,
    setting_option(
        "log_file",
        "--log-file",
        help="Append JSON log lines to this file instead of standard output.",
        show_default=False,
    ),
]
ConnectTimeoutOption = Annotated[
    float,
    setting_option(
        "connect_timeout",
        "--connect-timeout",
        help="Seconds to keep retrying an unreachable broker (0: forever).",
    ),
]
ClockSkewOption = Annotated[
    float | None,
    setting_option(
        "clock_skew",
        "--clock-skew",
        help="Seconds an alert's created_at may lie ahead of this clock (default 300).",
        show_default=False,
    ),
]
ClientConfigOption = Annotated[
    Path | None,
    setting_option(
        "client_config",
        "--client-config",
        help="Client file (librdkafka names: security.protocol, sasl.mechanisms, "
        "sasl.username, sasl.password, ssl.ca.location), e.g. var/kafka-9092/clients/RS.properties"
        " from scripts/kafka-local start --secure. A command acting for several countries (demo,"
        " replay) connects each as <CC>.properties and makes topics as admin.properties when"
        " those files are beside this one. Default: plaintext, anonymous.",
        show_default=False,
    ),
]
SigningKeyFileOption = Annotated[
    Path | None,
    setting_option(
        "signing_key_file",
        "--signing-key-file",
        help="This country's private Ed25519 key (<CC>.key from intelshare keys); "
        "INTELSHARE_SIGNING_KEY may hold the key itself. Default: the country's demo key, "
        "allowed only where the network names no keys folder.",
        show_default=False,
    ),
]
InstanceOption = Annotated[
    str | None,
    setting_option(
        "instance",
        "--instance",
        help="Names this consumer process (its transactional id); give each replica a "
        "stable one so a restart fences the unfinished transaction of its predecessor.",
        show_default=False,
    ),
]
CommitIntervalOption = Annotated[
    float | None,
    setting_option(
        "commit_interval",
        "--commit-interval",
        help="Seconds to let records gather after a transaction begins before the next one "
        "(default 0: commit as soon as the one before committed). Fewer, larger transactions "
        "for up to this much more latency; 1-2 suits many consumers sharing few cores "
        "(a large replay).",
        show_default=False,
    ),
]
LogDirOption = Annotated[
    Path | None,
    typer.Option(
        "--log-dir",
        help="Write each service's JSON log to its own file here, <service>-<CC>.log.",
        envvar="INTELSHARE_LOG_DIR",
        show_default=False,
    ),
]
"""For the commands that run several services in one process (``demo``, ``replay``)."""
