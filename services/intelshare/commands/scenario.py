"""``intelshare scenario check|generate`` and ``intelshare replay``: scenario files at work.

``check`` reads a file without a broker and prints every problem as ``file:line:column``;
``generate`` writes a synthetic scenario of any size; ``replay`` plays one into Kafka and
checks its expectations (exit 0 all met, 1 one failed, 2 bad input).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from intelshare.durations import format_duration
from intelshare.errors import ScenarioError
from intelshare.scenario import CheckReport, check_scenario

scenario_app = typer.Typer(
    name="scenario",
    help="Check and generate scenario files (a story told in alerts, with expectations).",
    no_args_is_help=True,
)

FileArgument = Annotated[
    Path,
    typer.Argument(help="The scenario file (YAML; see scenarios/README.md).", show_default=False),
]
SeedOption = Annotated[
    str | None,
    typer.Option("--seed", help="Use this seed instead of the file's (alert ids follow the seed)."),
]


def print_problems(report: CheckReport) -> None:
    """Every problem on standard error, one per line, in file order."""
    for problem in report.problems:
        typer.echo(str(problem), err=True)


@scenario_app.command("check")
def check(file: FileArgument, seed: SeedOption = None) -> None:
    """Check a scenario file without a broker: every problem with file:line:column.

    Exits 2 when there is any error; warnings are printed and do not fail the check.
    """
    report = check_scenario(file, seed=seed)
    print_problems(report)
    if not report.ok:
        raise ScenarioError(report.summary())
    assert report.outline is not None
    outline = report.outline
    expectations = len(report.scenario.expectations) if report.scenario else 0
    typer.echo(
        f"{report.summary()}: {outline.alerts} alerts, {outline.messages} messages over "
        f"{format_duration(outline.duration)}, {expectations} expectations"
    )


def register(app: typer.Typer) -> None:
    """Add this area's sub-commands to the intelshare command."""
    app.add_typer(scenario_app)
