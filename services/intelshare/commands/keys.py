"""``intelshare keys``: make each country's Ed25519 key pair for the origin proof.

Writes ``<CC>.key`` (private, mode 0600: give it to that country's services only) and
``<CC>.pub`` (public: the folder of ``.pub`` files travels with the network, named by the
network file's ``keys:``). Existing keys are never overwritten.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from intelshare.commands.options import NetworkOption
from intelshare.contract.signing import key_text, new_key
from intelshare.errors import SettingsError
from intelshare.network.model import load_network


def keys(
    *,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Folder to write <CC>.key and <CC>.pub into."),
    ],
    countries: Annotated[
        list[str] | None,
        typer.Argument(
            help="Country codes (default: every country of the network).", show_default=False
        ),
    ] = None,
    network: NetworkOption = None,
) -> None:
    """Make a key pair per country: <CC>.key (private, 0600) and <CC>.pub (for the network)."""
    known = load_network(network)
    codes = [c.upper() for c in countries] if countries else list(known.codes)
    for code in codes:
        if known.country(code) is None:
            raise SettingsError(f"keys: {code} is not in {known.source}")
    out.mkdir(parents=True, exist_ok=True)
    made = 0
    for code in codes:
        private, public = out / f"{code}.key", out / f"{code}.pub"
        if private.exists() or public.exists():
            typer.echo(f"{code}: kept (already in {out})")
            continue
        key = new_key(code)
        seed = key.seed
        # Created 0600 from the start: the private key is never readable by others.
        descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(key_text(seed) + "\n")
        public.write_text(key_text(key.public) + "\n", encoding="ascii")
        typer.echo(f"{code}: {private} (private, 0600), {public}")
        made += 1
    typer.echo(f"{made} made; name the folder in the network file as keys: {out}")


def register(app: typer.Typer) -> None:
    """Add ``keys`` to the command."""
    app.command("keys")(keys)
