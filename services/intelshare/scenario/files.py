"""Scenario files: a story told in alerts, checked before it is played.

A scenario is YAML (see ``scenarios/README.md``): a header (name, seed, network, start,
defaults), a list of steps (alerts, updates, revocations, receipts, consent, pauses) and a
list of expectations. :func:`check_scenario` reads it all and reports every problem with
``file:line:column``; :func:`iter_steps` streams the steps again for a replay.

::

    report = check_scenario(Path("scenarios/western-balkans.yaml"))
    for problem in report.problems: print(problem)
    for step in iter_steps(report): ...
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from timeit import default_timer
from typing import TYPE_CHECKING

from intelshare.errors import FatalSyntax, ScenarioError
from intelshare.scenario import ahead
from intelshare.scenario.check import Checker
from intelshare.scenario.model import (
    AlertFields,
    AlertStep,
    AnyStep,
    ConsentRequestStep,
    Outline,
    PauseStep,
    ReceiptStep,
    RevocationStep,
    Scenario,
    TimeValue,
    UpdateStep,
)
from intelshare.scenario.parse import parse_header, parse_step, read_steps
from intelshare.scenario.spool import TimelineSpool
from intelshare.scenario.timeline import TimelineBuilder
from intelshare.yamlpos import (
    Position,
    Problem,
    Reader,
    Where,
    iter_step_nodes,
    read_top_level,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from pathlib import Path

__all__ = [
    "AlertFields",
    "AlertStep",
    "AnyStep",
    "CheckReport",
    "ConsentRequestStep",
    "Outline",
    "PauseStep",
    "Problem",
    "ReceiptStep",
    "RevocationStep",
    "Scenario",
    "TimeValue",
    "UpdateStep",
    "Where",
    "check_scenario",
    "iter_steps",
    "load_scenario",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckReport:
    """Everything a check of one scenario file found."""

    path: Path
    """The file checked."""
    scenario: Scenario | None
    """Header and expectations; None when even those could not be read."""
    outline: Outline | None
    """What the steps add up to; None when the steps could not be read."""
    ids: Mapping[str, str] = field(default_factory=dict)
    """Generated alert id of each local name the expectations use."""
    problems: tuple[Problem, ...] = ()
    """Errors and warnings, in file order."""
    seconds: float = 0.0
    """How long the check took."""
    timeline: TimelineSpool | None = None
    """The timeline built while checking, when asked for and the file is usable."""

    @property
    def errors(self) -> tuple[Problem, ...]:
        """The problems that make the file unusable."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """The problems worth saying but not stopping for."""
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        """Whether the file can be replayed."""
        return not self.errors and self.scenario is not None and self.outline is not None

    def summary(self) -> str:
        """``file: 2 errors, 1 warning`` (or ``file: ok, N steps``)."""
        if self.ok:
            assert self.outline is not None
            extra = f", {len(self.warnings)} warning(s)" if self.warnings else ""
            return f"{self.path}: ok, {self.outline.steps} steps{extra}"
        return f"{self.path}: {len(self.errors)} error(s), {len(self.warnings)} warning(s)"


def check_scenario(path: Path, *, seed: str | None = None, timeline: bool = False) -> CheckReport:
    """Read and check a whole scenario file, streaming its steps; never raises for bad input.

    ``seed`` overrides the file's seed (ids follow it). ``timeline``: also build the timeline
    as the steps are checked, for a replay (see :mod:`.spool`); the report holds it when the
    file is usable, and its :meth:`~.spool.TimelineSpool.close` is the caller's.
    """
    started = default_timer()
    reader = Reader(source=str(path))
    scenario = outline = spool = None
    ids: dict[str, str] = {}
    # A long file's steps are read in a helper from the start: its own pass over the header
    # runs beside this one's.
    helper = ahead.StepsAhead(path, seed) if _size(path) >= ahead.WORTH_IT else None
    try:
        if helper is not None:
            helper.start()
        # The first pass, over parser events only, also finds which alerts later steps name:
        # only those are remembered in full while checking a long scenario.
        top, keep = read_top_level(path, reader)
        scenario = parse_header(reader, top, path, seed)
        if scenario is not None:
            if keep is not None:
                keep |= {e.alert for e in scenario.expectations if e.alert is not None}
            checker, spool = _check_all_steps(
                path, reader, scenario, keep=keep, timeline=timeline, helper=helper
            )
            outline, ids = checker.finish()
    except FatalSyntax:
        outline = None
    finally:
        if helper is not None:
            helper.stop()
    if spool is not None and (reader.failed or outline is None):
        spool.close()
        spool = None
    problems = sorted(reader.problems, key=lambda p: (p.where.line, p.where.column))
    return CheckReport(
        path=path,
        scenario=scenario,
        outline=outline,
        ids=ids,
        problems=tuple(problems),
        seconds=default_timer() - started,
        timeline=spool,
    )


def _check_all_steps(
    path: Path,
    reader: Reader,
    scenario: Scenario,
    *,
    keep: frozenset[str] | None,
    timeline: bool,
    helper: ahead.StepsAhead | None,
) -> tuple[Checker, TimelineSpool | None]:
    """Every step checked, and its timeline kept when asked for.

    With a ``helper`` and a clean header, the steps it reads (:mod:`.ahead`) are checked; at
    the first problem either finds, the file is checked again here alone, which reports every
    problem at its exact key.
    """

    def fresh() -> tuple[Checker, TimelineBuilder | None]:
        builder = TimelineBuilder(scenario, keep) if timeline else None
        return Checker(reader, scenario, keep, builder), builder

    if helper is not None and not reader.problems:
        checker, builder = fresh()
        try:
            steps = ((step, step.where) for step in helper.steps())
            return checker, _check_steps(steps, checker, builder, clean=True)
        except ahead.GaveUp:
            del reader.problems[:]  # found again below, each at its exact key
        finally:
            helper.stop()
    checker, builder = fresh()
    return checker, _check_steps(_read_steps(path, checker), checker, builder, clean=False)


def _read_steps(path: Path, checker: Checker) -> Iterator[tuple[AnyStep | None, Position]]:
    """Each step of the file with its node, read when the checker is ready for it."""
    reader = checker.reader
    for index, node in enumerate(iter_step_nodes(path, reader)):
        # The cursor is read as each step is: a step without ``at`` follows the one before.
        yield parse_step(reader, node, index, checker.scenario, checker.cursor), node


def _check_steps(
    steps: Iterable[tuple[AnyStep | None, Position]],
    checker: Checker,
    builder: TimelineBuilder | None,
    *,
    clean: bool,
) -> TimelineSpool | None:
    """Check ``steps``; with a ``builder``, the timeline of a file without errors so far.

    Raises:
        ahead.GaveUp: ``clean`` was asked for and a step has a problem.
    """
    reader = checker.reader
    spool = None if builder is None else _new_spool()
    seen = len(reader.problems)
    try:
        for step, node in steps:
            checker.step(step, node)
            if len(reader.problems) > seen:
                _give_up_if(clean)
                seen = len(reader.problems)
                step = None if reader.failed else step  # noqa: PLW2901 - no longer played
            if spool is None or builder is None:
                continue
            if step is None:  # nothing of this file will be replayed
                spool.close()
                spool = None
                continue
            try:
                spool.add(builder.entry(step))
            except OSError:  # no room for it: the replay reads the file again instead
                spool.close()
                spool = None
    except BaseException:
        if spool is not None:
            spool.close()
        raise
    if spool is not None:
        try:
            spool.seal()
        except OSError:
            spool.close()
            spool = None
    return spool


def _new_spool() -> TimelineSpool | None:
    """A spool for the timeline; None where no temporary file can be made (read-only disk)."""
    try:
        return TimelineSpool()
    except OSError:
        return None


def _give_up_if(clean: bool) -> None:
    """A problem in a step read ahead: the file is checked again in one process."""
    if clean:
        raise ahead.GaveUp("a problem in a step read ahead")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def load_scenario(path: Path, *, seed: str | None = None, timeline: bool = False) -> CheckReport:
    """Check a scenario and insist it is usable (``timeline``: as in :func:`check_scenario`).

    Raises:
        ScenarioError: the first error as ``file:line:column: reason`` (and how many more).
    """
    report = check_scenario(path, seed=seed, timeline=timeline)
    if not report.ok:
        errors = report.errors
        more = (
            f" (and {len(errors) - 1} more; run 'intelshare scenario check')"
            if len(errors) > 1
            else ""
        )
        # The command line prefixes "error:" itself; the problem's own severity would repeat it.
        first = f"{errors[0].where}: {errors[0].message}" if errors else f"{path}: cannot be read"
        raise ScenarioError(first + more)
    return report


def iter_steps(report: CheckReport) -> Iterator[AnyStep]:
    """The steps of a checked scenario, read from its file again one at a time.

    Raises:
        ScenarioError: the file changed since it was checked and is no longer valid.
    """
    assert report.scenario is not None
    reader = Reader(source=str(report.path))
    with contextlib.suppress(FatalSyntax):  # the reader's problems say why, below
        yield from read_steps(report.path, reader, report.scenario)
    if reader.failed:
        raise ScenarioError(f"{reader.problems[0]} (the file changed after it was checked)")
