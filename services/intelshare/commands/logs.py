"""``intelshare logs``: filter, trace, summarise and report on the services' JSON log events.

``intelshare logs [OPTIONS] SOURCES...`` filters (the default sub-command, also reachable as
``intelshare logs filter``); ``trace``, ``stats`` and ``report`` are sub-commands. Sources are
files, directories (searched for *.log, *.jsonl, *.ndjson, their rotations and .gz forms), or
``-`` for standard input; with no source and a pipe on stdin, stdin is read.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from rich.console import Console
from typer.core import TyperGroup

from intelshare.errors import CheckFailed, LogInputError
from intelshare.logs.filtering import EventFilter
from intelshare.logs.follow import follow_events
from intelshare.logs.lines import ReadCounts
from intelshare.logs.output import (
    CsvWriter,
    EventWriter,
    JsonlWriter,
    OutputFormat,
    TableWriter,
)
from intelshare.logs.reader import STDIN, read_events
from intelshare.logs.render import render_stats, render_trace, stats_json, trace_json
from intelshare.logs.report.collect import ReportCollector
from intelshare.logs.report.page import TITLE, write_html
from intelshare.logs.stats import compute_stats
from intelshare.logs.trace import trace
from intelshare.logs.when import parse_when

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from typer._click import Context  # typer vendors click; this is the type parse_args takes

    from intelshare.logs.model import LogEvent


class _FilterByDefault(TyperGroup):
    """Route ``intelshare logs --country RS file.log`` to the ``filter`` sub-command."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        if not args and sys.stdin.isatty():
            return super().parse_args(ctx, ["--help"])
        if not args or (args[0] not in self.commands and args[0] not in {"--help", "-h"}):
            args = ["filter", *args]
        return super().parse_args(ctx, args)


logs_app = typer.Typer(
    cls=_FilterByDefault,
    name="logs",
    help=(
        "Inspect the services' JSON log events: filter (default), trace, stats, report. "
        "Sources: files, directories, - for stdin, docker compose logs output."
    ),
    context_settings={"help_option_names": ["--help", "-h"]},
)

Sources = Annotated[
    list[str] | None,
    typer.Argument(
        help=(
            "Log files, directories (searched for *.log/*.jsonl/*.ndjson, rotated and .gz too)"
            " or - for stdin."
        ),
        envvar="INTELSHARE_LOGS",
        show_default=False,
    ),
]
FILTER_OPTIONS: Final[dict[str, object]] = {
    "country": Annotated[
        list[str] | None,
        typer.Option("--country", "-c", help="Only events logged by this country (repeat or a,b)."),
    ],
    "event": Annotated[
        list[str] | None,
        typer.Option("--event", "-e", help="Only these event names or patterns, e.g. 'alert.*'."),
    ],
    "alert": Annotated[list[str] | None, typer.Option("--alert", "-a", help="Only this alert id.")],
    "case": Annotated[list[str] | None, typer.Option("--case", help="Only this case id.")],
    "originator": Annotated[
        list[str] | None,
        typer.Option("--originator", "--from", help="Only hops starting at this country."),
    ],
    "recipient": Annotated[
        list[str] | None,
        typer.Option("--recipient", "--to", help="Only hops ending at this country."),
    ],
    "category": Annotated[
        list[str] | None, typer.Option("--category", help="Only this alert category.")
    ],
    "tlp": Annotated[
        list[str] | None,
        typer.Option("--tlp", help="Only this TLP level (AMBER, AMBER+STRICT, ...)."),
    ],
    "handling": Annotated[
        list[str] | None,
        typer.Option("--handling", help="Only events carrying this EU (H0-H3) or UK (P, C) code."),
    ],
    "since": Annotated[
        str | None,
        typer.Option(
            help="From this time on: ISO-8601 (2026-11-28T09:00Z) or back from now (15m)."
        ),
    ],
    "until": Annotated[
        str | None,
        typer.Option(help="Before this time: ISO-8601 or back from now (2h, 1d); exclusive."),
    ],
}
"""The eleven filter options every ``logs`` command but ``trace`` takes, declared once."""
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Do not print the line counts on stderr.")
]


class _PipeConsole(Console):
    """A console that lets a closed pipe (``| head``) end the command quietly with exit 0."""

    def on_broken_pipe(self) -> None:
        """Raise, so :func:`_pipe_safe` handles it like any other write to a closed pipe."""
        raise BrokenPipeError


def _console() -> Console:
    width = None if sys.stdout.isatty() else 200
    return _PipeConsole(file=sys.stdout, width=width, soft_wrap=False)


@contextmanager
def _pipe_safe() -> Iterator[None]:
    """Stop quietly when the reader of our output goes away, like other Unix filters."""
    try:
        yield
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _sources(sources: list[str] | None) -> list[str]:
    if sources:
        return sources
    if not sys.stdin.isatty():
        return [STDIN]
    raise LogInputError("no log source given: name files, directories, or - for stdin")


def _build_filter(values: dict[str, Any]) -> EventFilter:
    """The filter the options given on the command line describe."""
    now = datetime.now(UTC)
    since, until = values["since"], values["until"]
    return EventFilter.build(
        countries=values["country"] or (),
        events=values["event"] or (),
        alert_ids=values["alert"] or (),
        case_ids=values["case"] or (),
        originators=values["originator"] or (),
        recipients=values["recipient"] or (),
        categories=values["category"] or (),
        tlps=values["tlp"] or (),
        handling=values["handling"] or (),
        since=parse_when(since, now=now, option="--since") if since else None,
        until=parse_when(until, now=now, option="--until") if until else None,
    )


def with_filter_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the options of :data:`FILTER_OPTIONS` in place of its ``chosen`` filter.

    The command declares ``chosen: EventFilter``; typer sees the eleven options instead (after
    the command's own first parameter, the sources), and the command gets the filter they build.
    """
    own = list(inspect.signature(command, eval_str=True).parameters.values())
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
        for name, kind in FILTER_OPTIONS.items()
    ]
    kept = [param.replace(kind=inspect.Parameter.KEYWORD_ONLY) for param in own]
    chosen_at = next(i for i, param in enumerate(kept) if param.name == "chosen")
    del kept[chosen_at]

    @functools.wraps(command)
    def run(**values: Any) -> None:  # noqa: ANN401 - whatever typer parsed
        picked = {name: values.pop(name) for name in FILTER_OPTIONS}
        command(**values, chosen=_build_filter(picked))

    run.__signature__ = inspect.Signature([*kept[:1], *added, *kept[1:]])  # type: ignore[attr-defined]
    return run


def _writer(fmt: OutputFormat | None, *, live: bool) -> EventWriter:
    chosen = fmt or (OutputFormat.TABLE if sys.stdout.isatty() else OutputFormat.JSONL)
    if chosen is OutputFormat.TABLE:
        return TableWriter(_console())
    if chosen is OutputFormat.CSV:
        return CsvWriter(sys.stdout, live=live)
    return JsonlWriter(sys.stdout, live=live)


def _report_counts(counts: ReadCounts, *, quiet: bool) -> None:
    if not quiet:
        typer.echo(counts.summary(), err=True)


@logs_app.command("filter")
@with_filter_options
def filter_command(
    sources: Sources = None,
    *,
    chosen: EventFilter,
    fmt: Annotated[
        OutputFormat | None,
        typer.Option(
            "--format", "-f", help="table (default on a terminal), jsonl (default otherwise), csv."
        ),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow", "-F", help="Keep reading files as they grow, like tail -F."),
    ] = False,
    quiet: Quiet = False,
) -> None:
    """Print the events that match every option given (all of them when none is)."""
    counts = ReadCounts()
    stop = threading.Event()
    stream: Iterator[LogEvent] = (
        follow_events(_sources(sources), counts, stop=stop)
        if follow
        else read_events(_sources(sources), counts)
    )
    with _pipe_safe():
        writer = _writer(fmt, live=follow)
        try:
            for item in chosen.apply(stream):
                writer.write(item)
            writer.close()
        except KeyboardInterrupt:
            stop.set()
    _report_counts(counts, quiet=quiet)


class _SummaryFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


SummaryFormat = Annotated[
    _SummaryFormat,
    typer.Option("--format", "-f", help="table for people, json for programs."),
]


def _summary(
    fmt: _SummaryFormat, as_json: Callable[[], object], render: Callable[[Console], None]
) -> None:
    """Print a summary as indented JSON for programs or as a table for people."""
    with _pipe_safe():
        if fmt is _SummaryFormat.JSON:
            typer.echo(json.dumps(as_json(), ensure_ascii=False, indent=2))
        else:
            render(_console())


@logs_app.command("trace")
def trace_command(
    ident: Annotated[str, typer.Argument(help="An alert id or a case id.", show_default=False)],
    sources: Sources = None,
    fmt: SummaryFormat = _SummaryFormat.TABLE,
    quiet: Quiet = False,
) -> None:
    """Show one alert's (or one case's) journey across every country, in time order."""
    counts = ReadCounts()
    found = trace(read_events(_sources(sources), counts), ident)
    _report_counts(counts, quiet=quiet)
    if not found.found:
        raise CheckFailed(f"no event names {ident!r} as alert_id or case_id")
    _summary(fmt, lambda: trace_json(found), lambda console: render_trace(found, console))


@logs_app.command("stats")
@with_filter_options
def stats_command(
    sources: Sources = None,
    *,
    chosen: EventFilter,
    fmt: SummaryFormat = _SummaryFormat.TABLE,
    quiet: Quiet = False,
) -> None:
    """Country-by-country figures: sent/received, refusals, dead letters, latency per route."""
    counts = ReadCounts()
    stats = compute_stats(chosen.apply(read_events(_sources(sources), counts)))
    _report_counts(counts, quiet=quiet)
    _summary(fmt, lambda: stats_json(stats), lambda console: render_stats(stats, console))


@logs_app.command("report")
@with_filter_options
def report_command(
    sources: Sources = None,
    *,
    chosen: EventFilter,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Where to write the HTML page.", envvar="INTELSHARE_REPORT"
        ),
    ] = Path("report.html"),
    title: Annotated[str, typer.Option(help="The page's heading.")] = TITLE,
    quiet: Quiet = False,
) -> None:
    """Write one self-contained HTML page: flow diagram, latency chart, refusals, traces."""
    counts = ReadCounts()
    data = ReportCollector().add_all(chosen.apply(read_events(_sources(sources), counts))).result()
    note = f"{counts.lines} lines read, {counts.skipped} skipped"
    if counts.broken:  # a truncated .gz: the page says its figures miss that file's rest
        note += f"; unreadable from there on: {'; '.join(counts.broken)}"
    try:
        size = write_html(data, output, read_note=note, title=title)
    except OSError as error:
        raise LogInputError(f"{output}: cannot write: {error.strerror or error}") from error
    _report_counts(counts, quiet=quiet)
    if not quiet:
        typer.echo(f"wrote {output} ({size // 1024} KiB)", err=True)


def register(app: typer.Typer) -> None:
    """Add ``intelshare logs`` and its sub-commands to the intelshare command."""
    app.add_typer(logs_app)
