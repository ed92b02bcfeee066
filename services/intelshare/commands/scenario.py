"""``intelshare scenario check|generate`` and ``intelshare replay``: scenario files at work.

``check`` reads a file without a broker and prints every problem as ``file:line:column``;
``generate`` writes a synthetic scenario of any size; ``replay`` plays one into Kafka and
checks its expectations (exit 0 all met, 1 one failed, 2 bad input).
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from intelshare.commands.options import (
    BootstrapOption,
    ClientConfigOption,
    ConnectTimeoutOption,
    FreshPrefixOption,
    LogDirOption,
)
from intelshare.durations import format_duration, parse_duration
from intelshare.errors import CheckFailed, ScenarioError, SettingsError
from intelshare.network.model import default_network, load_network
from intelshare.replay.engine import ReplayOptions, timeline
from intelshare.replay.render import (
    duplicates_hint,
    results_table,
    silence_hint,
    timeline_json,
    timeline_line,
    totals_line,
)
from intelshare.replay.session import KafkaSetup, fresh_prefix, replay_on_kafka
from intelshare.replay.validate import check_window, finite
from intelshare.runtime import eventloop
from intelshare.runtime.eventlog import configure_library_logging
from intelshare.runtime.settings import DEFAULT_BOOTSTRAP, Settings
from intelshare.scenario.files import CheckReport, check_scenario, load_scenario
from intelshare.scenario.generate import GenerateOptions, generate

if TYPE_CHECKING:
    from collections.abc import Sequence

    from intelshare.yamlpos import Problem

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
    typer.Option(
        "--seed",
        help="Use this seed instead of the file's (alert ids follow the seed).",
        envvar="INTELSHARE_REPLAY_SEED",
        show_default=False,
    ),
]
PROGRESS_AFTER = 3.0
"""Replays expected to take longer than this many seconds show a progress bar."""


MAX_PROBLEMS = 50
"""Problems printed before the rest are only counted (a generated file can have 100,000)."""
MaxProblemsOption = Annotated[
    int,
    typer.Option(
        "--max-problems",
        help="Print at most this many problems, then count the rest (0: print all).",
        envvar="INTELSHARE_MAX_PROBLEMS",
        min=0,
    ),
]


def print_problems(problems: Sequence[Problem], limit: int = MAX_PROBLEMS) -> None:
    """The first ``limit`` problems on standard error, one per line, then how many more."""
    shown = problems if limit == 0 else problems[:limit]
    for problem in shown:
        typer.echo(str(problem), err=True)
    rest = problems[len(shown) :]
    if rest:
        errors = sum(p.severity == "error" for p in rest)
        typer.echo(
            f"... and {errors} more error(s), {len(rest) - errors} more warning(s) "
            "(--max-problems 0 prints them all)",
            err=True,
        )


@scenario_app.command("check")
def check(
    file: FileArgument, seed: SeedOption = None, max_problems: MaxProblemsOption = MAX_PROBLEMS
) -> None:
    """Check a scenario file without a broker: every problem with file:line:column.

    Exits 2 when there is any error; warnings are printed and do not fail the check.
    """
    report = check_scenario(file, seed=seed)
    print_problems(report.problems, max_problems)
    if not report.ok:
        raise ScenarioError(report.summary())
    assert report.outline is not None
    outline = report.outline
    expectations = len(report.scenario.expectations) if report.scenario else 0
    typer.echo(
        f"{report.summary()}: {outline.alerts} alerts, {outline.messages} messages over "
        f"{format_duration(outline.duration)}, {expectations} expectations"
    )


@scenario_app.command("generate")
def generate_command(
    *,
    alerts: Annotated[int, typer.Option("--alerts", "-n", help="Number of new alerts.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same file).")] = 1,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write here instead of standard output.", show_default=False
        ),
    ] = None,
    countries: Annotated[
        str | None,
        typer.Option(
            "--countries",
            help="Comma-separated countries that take part (default: the whole network), "
            "e.g. GB,RS,MK,XK,AL,TR for the compose demo's consumers.",
            show_default=False,
        ),
    ] = None,
    interval: Annotated[
        str, typer.Option("--interval", help="Mean time between steps on the scenario clock.")
    ] = "2s",
) -> None:
    """Write a synthetic scenario of N alerts shaped like the route, for load runs.

    The file is written step by step and ends with exact-count expectations, so a replay
    of it (e.g. --as-fast-as-possible --with-consumers) checks that nothing was lost.
    """
    if alerts < 1:
        raise SettingsError(f"--alerts: {alerts} must be at least 1")
    gap = _offset(interval, "--interval")
    assert gap is not None
    chosen = (
        tuple(c.strip().upper() for c in countries.split(",") if c.strip()) if countries else ()
    )
    options = GenerateOptions(alerts=alerts, seed=seed, countries=chosen, interval=gap)
    network = default_network()
    unknown = [c for c in chosen if network.country(c) is None]
    if unknown:
        raise SettingsError(f"--countries: {', '.join(unknown)} not in the network")
    try:
        if output is None:
            steps = generate(sys.stdout, network, options)
        else:
            with output.open("w", encoding="utf-8") as out:
                steps = generate(out, network, options)
    except ValueError as error:
        raise SettingsError(f"--countries: {error}") from error
    if output is not None:
        typer.echo(f"{output}: {steps} steps, {alerts} alerts (seed {seed})", err=True)


def _offset(text: str | None, flag: str) -> timedelta | None:
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as error:
        raise SettingsError(f"{flag}: {error}") from error


def replay(
    file: FileArgument,
    *,
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
    prefix: FreshPrefixOption = None,
    speed: Annotated[
        float | None,
        typer.Option(
            "--speed",
            help="Scenario seconds per real second (2 = twice as fast; default 1).",
            envvar="INTELSHARE_REPLAY_SPEED",
            show_default=False,
        ),
    ] = None,
    fast: Annotated[
        bool,
        typer.Option(
            "--as-fast-as-possible",
            help="Ignore the schedule: publish every step at once.",
            envvar="INTELSHARE_REPLAY_FAST",
        ),
    ] = False,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Start at this offset (e.g. 5m); earlier steps are not published.",
            show_default=False,
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="Stop after this offset (e.g. 1h).", show_default=False),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the timeline that would be published; no broker."),
    ] = False,
    records: Annotated[
        bool,
        typer.Option("--records", help="With --dry-run: one JSON line per step, full records."),
    ] = False,
    seed: SeedOption = None,
    with_consumers: Annotated[
        bool,
        typer.Option(
            "--with-consumers",
            help="Run the countries' consumers in this process (nothing else needed but a "
            "broker); uses a fresh topic prefix unless --prefix is given.",
        ),
    ] = False,
    keep_topics: Annotated[
        bool,
        typer.Option(
            "--keep-topics", help="With --with-consumers: keep the fresh prefix's topics."
        ),
    ] = False,
    create_topics: Annotated[
        bool,
        typer.Option(
            "--create-topics/--no-create-topics",
            help="Create the network's topics first (existing ones are left alone).",
            envvar="INTELSHARE_REPLAY_CREATE_TOPICS",
        ),
    ] = True,
    settle: Annotated[
        float,
        typer.Option(
            "--settle",
            help="Seconds to wait for the outcome after the last step, at most.",
            envvar="INTELSHARE_REPLAY_SETTLE",
        ),
    ] = 30.0,
    idle: Annotated[
        float,
        typer.Option(
            "--idle",
            help="Seconds without any news from the network after which the replay ends "
            "with what it has (a failing replay need not wait the whole --settle).",
            envvar="INTELSHARE_REPLAY_IDLE",
        ),
    ] = 10.0,
    log_dir: LogDirOption = None,
    connect_timeout: ConnectTimeoutOption = 30.0,
    client_config: ClientConfigOption = None,
) -> None:
    """Replay a scenario into Kafka and check its expectations (exit 0 met, 1 failed).

    Secured, give the exercise controller's file (controller.properties, the only reader of the
    audit topic); countries send with their files beside it, topics are made as admin.

    Each step is published by the originating country's own producer at its time on the
    scenario clock (scaled by --speed); the outcome is read from the audit topic, so the
    country consumers may run anywhere: in containers, as `intelshare consumer --country
    CC`, or in this process with --with-consumers.
    """
    if speed is not None and fast:
        raise SettingsError("--speed and --as-fast-as-possible contradict each other; pick one")
    options = ReplayOptions(
        speed=1.0 if speed is None else finite(speed, "--speed"),
        as_fast_as_possible=fast,
        start=_offset(start, "--from") or timedelta(0),
        end=_offset(end, "--to"),
        settle=finite(settle, "--settle", zero=True),
        idle=finite(idle, "--idle"),
    )
    finite(connect_timeout, "--connect-timeout")
    # Replayed live, the check keeps the timeline it builds: the file is read once.
    report = load_scenario(file, seed=seed, timeline=not dry_run)
    assert report.outline is not None
    check_window(options, report.outline)
    print_problems(report.warnings)
    if dry_run:
        _dry_run(report, options, records=records)
        return
    configure_library_logging()
    assert report.scenario is not None
    settings = Settings.from_env(
        bootstrap=bootstrap,
        topic_prefix=prefix
        if prefix is not None or not with_consumers
        else fresh_prefix(report.scenario.name),
        connect_timeout=connect_timeout,
        log_format="json",
        client_config=client_config,
    )
    report = _on_configured_network(report, settings)
    setup = KafkaSetup(
        settings=settings,
        with_consumers=with_consumers,
        create_topics=create_topics,
        delete_topics=with_consumers and prefix is None and not keep_topics,
        log_dir=log_dir,
    )
    try:
        _replay_live(report, setup, options)
    finally:
        if report.timeline is not None:
            report.timeline.close()


def _on_configured_network(report: CheckReport, settings: Settings) -> CheckReport:
    """The report on INTELSHARE_NETWORK's network when the scenario plays on the shipped one.

    A scenario without ``network:`` plays on the default network; a deployment that gives the
    default network its own keys folder (compose does) names that copy in INTELSHARE_NETWORK,
    and the replay must sign and verify with those keys, not the demo ones.
    """
    scenario = report.scenario
    if (
        scenario is None
        or settings.network_path is None
        or scenario.network is not default_network()
    ):
        return report
    configured = load_network(settings.network_path)
    if (configured.countries, configured.agreements) != (
        scenario.network.countries,
        scenario.network.agreements,
    ):
        raise SettingsError(
            f"network: {configured.source} is not the default network {scenario.source} plays "
            "on; name it in the scenario's network:"
        )
    return dataclasses.replace(report, scenario=dataclasses.replace(scenario, network=configured))


def _dry_run(report: CheckReport, options: ReplayOptions, *, records: bool) -> None:
    render = timeline_json if records else timeline_line
    out = sys.stdout
    for entry in timeline(report):
        if entry.step.at < options.start:
            continue
        if options.end is not None and entry.step.at > options.end:
            break
        out.write(render(entry) + "\n")
    out.flush()


def _expected_seconds(report: CheckReport, options: ReplayOptions) -> float:
    assert report.outline is not None
    if options.as_fast_as_possible:
        return report.outline.messages / 1000  # roughly what one process publishes per second
    end = options.end if options.end is not None else report.outline.duration
    return max(0.0, (end - options.start).total_seconds()) / options.speed


def _replay_live(report: CheckReport, setup: KafkaSetup, options: ReplayOptions) -> None:
    assert report.scenario is not None
    assert report.outline is not None
    console = Console(stderr=True)
    prefix = setup.settings.topic_prefix
    console.print(
        f"checked in {report.seconds:.1f} s; replaying {report.path} "
        f"({report.outline.messages} messages, "
        f"{format_duration(report.outline.duration)} on the scenario clock) at "
        f"{setup.settings.bootstrap}" + (f", topic prefix {prefix}" if prefix else ""),
        highlight=False,
    )
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=_expected_seconds(report, options) < PROGRESS_AFTER,
    )
    task = progress.add_task("publishing", total=report.outline.messages)

    def advance(done: int) -> None:
        progress.update(task, completed=done)

    try:
        with progress:
            result = eventloop.run(
                replay_on_kafka(report, setup, options, progress=advance, ready=progress.start)
            )
    except KeyboardInterrupt:
        # The publishers, the audit reader and any local consumers were stopped on the way out.
        console.print("replay interrupted; nothing was judged", highlight=False)
        raise typer.Exit(130) from None
    # Piped output (CI logs, compose) gets a table wide enough not to wrap every row.
    out = Console() if sys.stdout.isatty() else Console(width=160)
    out.print(results_table(result))
    out.print(totals_line(result), highlight=False)
    for hint in (duplicates_hint(result, report.scenario.seed), silence_hint(result)):
        if hint is not None:
            console.print(f"[yellow]{hint}[/]", highlight=False, soft_wrap=True)
    if result.failed:
        names = "; ".join(
            f"{r.expectation.text} (line {r.expectation.where.line}: {r.detail})"
            for r in result.failed
        )
        raise CheckFailed(f"{len(result.failed)} expectation(s) failed: {names}")


def register(app: typer.Typer) -> None:
    """Add ``scenario check|generate`` and ``replay`` to the intelshare command."""
    app.add_typer(scenario_app)
    app.command("replay")(replay)
