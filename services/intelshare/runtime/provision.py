"""Provision a secured broker: TLS material, one SCRAM identity per principal, client files.

Run by ``scripts/kafka-local start --secure`` (and the compose init job) through the virtualenv's
python, before the broker's storage is formatted::

    python -m intelshare.runtime.provision DIR --bootstrap 127.0.0.1:9092 [--network FILE]

It writes ``DIR/tls/`` (see :mod:`intelshare.runtime.pki`) and ``DIR/clients/<name>.properties``
for every country of the network, the admin and the exercise controller, and prints on stdout a
JSON object the script reads: the TLS files and each user's password. Existing files are kept
(their passwords too), so running it again changes nothing.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from intelshare.errors import IntelshareError
from intelshare.network.acls import ADMIN, CONTROLLER
from intelshare.network.model import load_network
from intelshare.runtime.client_config import (
    ClientSecurity,
    load_client_config,
    render_client_config,
)
from intelshare.runtime.pki import DEFAULT_HOSTS, PkiFiles, ensure_pki

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True, kw_only=True, slots=True)
class Provisioned:
    """What :func:`provision` made or found."""

    pki: PkiFiles
    """The CA and the broker's key store."""
    clients: Path
    """The folder of client files."""
    passwords: dict[str, str]
    """Each SCRAM user's password, by user name."""


def user_names(codes: Iterable[str]) -> tuple[str, ...]:
    """The SCRAM users of a network: admin, controller, then every country."""
    return (ADMIN, CONTROLLER, *codes)


def provision(
    directory: Path,
    *,
    bootstrap: str,
    codes: Iterable[str],
    hosts: Iterable[str] = DEFAULT_HOSTS,
    ca_location: Path | None = None,
) -> Provisioned:
    """Make (or keep) the TLS files and one client file per user under ``directory``.

    ``ca_location`` is the CA path written into client files, when clients see it elsewhere
    (a container's mount point); by default the real path.
    """
    pki = ensure_pki(directory / "tls", hosts)
    clients = directory / "clients"
    clients.mkdir(parents=True, exist_ok=True)
    passwords: dict[str, str] = {}
    for name in user_names(codes):
        path = clients / f"{name}.properties"
        if path.is_file():
            existing = load_client_config(path, check_files=False)
            if existing.username == name and existing.password:
                passwords[name] = existing.password
                continue
        password = secrets.token_urlsafe(24)
        security = ClientSecurity(
            protocol="SASL_SSL",
            mechanism=MECHANISM,
            username=name,
            password=password,
            ca_location=ca_location or pki.ca_certificate.resolve(),
            bootstrap=bootstrap,
        )
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(
            render_client_config(
                security,
                comment=f"{name}: Kafka client file (librdkafka names; kcat -F {path.name})",
            )
        )
        passwords[name] = password
    return Provisioned(pki=pki, clients=clients, passwords=passwords)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: provision, print JSON; one line on stderr and exit 2 on bad input."""
    parser = argparse.ArgumentParser(prog="python -m intelshare.runtime.provision")
    parser.add_argument("directory", type=Path, help="where tls/ and clients/ go")
    parser.add_argument("--bootstrap", required=True, help="host:port written into client files")
    parser.add_argument("--network", type=Path, help="network file (default: the shipped one)")
    parser.add_argument(
        "--host", action="append", help="a name the broker certificate is valid for (repeatable)"
    )
    parser.add_argument("--ca-location", type=Path, help="CA path as clients will see it")
    arguments = parser.parse_args(argv)
    try:
        network = load_network(arguments.network)
        done = provision(
            arguments.directory,
            bootstrap=arguments.bootstrap,
            codes=network.codes,
            hosts=arguments.host or DEFAULT_HOSTS,
            ca_location=arguments.ca_location,
        )
    except (IntelshareError, OSError, ValueError) as error:
        print(f"provision: {error}", file=sys.stderr)  # noqa: T201 - a command's error line
        return 2
    json.dump(
        {
            "ca": str(done.pki.ca_certificate.resolve()),
            "keystore": str(done.pki.broker_keystore.resolve()),
            "clients": str(done.clients.resolve()),
            "mechanism": MECHANISM,
            "admin": ADMIN,
            "passwords": done.passwords,
        },
        sys.stdout,
        indent=2,
    )
    print()  # noqa: T201 - the JSON's final newline
    return 0


if __name__ == "__main__":
    sys.exit(main())
