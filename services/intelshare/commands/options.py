"""Options shared by every command that talks to Kafka, declared once.

Each carries its ``INTELSHARE_*`` variable, the same one :mod:`intelshare.runtime.settings`
reads, so a flag and its variable cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from intelshare.runtime.settings import ENV

ClientConfig = Annotated[
    Path | None,
    typer.Option(
        "--client-config",
        help="Client file (librdkafka names: security.protocol, sasl.mechanisms, "
        "sasl.username, sasl.password, ssl.ca.location), e.g. var/kafka-9092/clients/RS.properties"
        " from scripts/kafka-local start --secure. A command acting for several countries (demo,"
        " replay) connects each as <CC>.properties and makes topics as admin.properties when"
        " those files are beside this one. Default: plaintext, anonymous.",
        envvar=ENV["client_config"],
        show_default=False,
    ),
]
