"""The ``intelshare`` command: one entry point, one sub-command per job.

Exit codes: 0 success, 1 a check failed, 2 bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import sys

import typer

from intelshare import __version__
from intelshare.commands import codec, keys, logs, scenario, services
from intelshare.errors import IntelshareError

app = typer.Typer(
    name="intelshare",
    help="Simulate cross-border intelligence sharing between partner agencies over Kafka.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"intelshare {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Simulate cross-border intelligence sharing between partner agencies over Kafka."""


for module in (codec, services, keys, scenario, logs):
    module.register(app)


def main() -> None:
    """Run the command; turn intelshare errors into one stderr line and their exit code."""
    try:
        app()  # standalone: click handles usage errors (exit 2) and exits itself
    except IntelshareError as error:
        typer.echo(f"intelshare: error: {error}", err=True)
        sys.exit(error.exit_code)
