"""The whole network in one process: a producer and a consumer per country, for a while.

Each country's Publisher sends generated alerts at a steady rate while every country's
Consumer receives, answers with receipts and logs. A live view prints one line per alert
copy as it lands (or is refused), with a status line every few seconds; with a log folder,
each service's JSON log goes to its own file (``consumer-RS.log``, ``producer-GB.log``).
At the end the producers stop first, the consumers get a moment to answer the last alerts,
and the run is judged by :mod:`intelshare.demo.check`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from rich.table import Table

from intelshare.consumer.loop import Consumer
from intelshare.contract import events
from intelshare.contract.markings import tlp_label
from intelshare.demo.check import DemoReport, check_events, copy_of
from intelshare.producer.generator import AlertGenerator
from intelshare.producer.publisher import Publisher
from intelshare.producer.sources import from_generator, pump
from intelshare.runtime.eventlog import EventLog, service_log

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from rich.console import Console

    from intelshare.network.model import Network
    from intelshare.runtime.settings import Settings

STATUS_EVERY: Final = 5.0
"""Seconds between status lines in the live view."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DemoOptions:
    """How long and how hard the demo runs.

    Attributes:
        duration: Seconds the producers send for.
        rate: Alerts per second each country's producer sends.
        seed: Seed of every country's generator (with the country: different alerts each).
        misaddress: Fraction of alerts that also address a partner the policy refuses (never sent).
        log_dir: Folder for one JSON log per service; None keeps logs in memory only.
        drain_timeout: Seconds to wait after the producers stop for the last receipts.
    """

    duration: float = 60.0
    rate: float = 0.25
    seed: int = 1
    misaddress: float = 0.05
    log_dir: Path | None = None
    drain_timeout: float = 20.0


class LiveView:
    """One line per alert copy as it lands or is refused; a status line now and then."""

    def __init__(self, console: Console, started: float) -> None:
        """Print to ``console``; times are shown from ``started`` (monotonic)."""
        self.console = console
        self.started = started
        self.counts: dict[str, int] = dict.fromkeys(
            ("sent", "received", "receipts", "refused", "rejected", "dead letters"), 0
        )
        self._last_status = started

    def __call__(self, event: dict[str, Any]) -> None:
        """Take one event from any service's log."""
        name = event.get("event")
        key = {
            events.ALERT_SENT: "sent",
            events.ALERT_RECEIVED: "received",
            events.RECEIPT_RECEIVED: "receipts",
            events.ALERT_REFUSED: "refused",
            events.ALERT_REJECTED: "rejected",
            events.MESSAGE_DEADLETTERED: "dead letters",
        }.get(str(name))
        if key is not None:
            self.counts[key] += 1
        line = self._line(event)
        if line is not None:
            self.console.print(line, highlight=False)
        now = time.monotonic()
        if now - self._last_status >= STATUS_EVERY:
            self._last_status = now
            self.status()

    def status(self) -> None:
        """Print the running totals."""
        totals = "  ".join(f"{name} {count}" for name, count in self.counts.items())
        self.console.print(f"[dim]t+{time.monotonic() - self.started:5.1f}s  {totals}[/]")

    def _line(self, event: dict[str, Any]) -> str | None:
        name = event.get("event")
        stamp = str(event.get("timestamp", ""))[11:23]
        alert = f"{event.get('alert_id')} r{event.get('revision')}"
        what = f"{event.get('category', '')!s:<23} {tlp_label(str(event.get('tlp', ''))):<17}"
        if name in (events.ALERT_RECEIVED, events.ALERT_REVOKED):
            verb = "received" if name == events.ALERT_RECEIVED else "revoked "
            colour = "green" if name == events.ALERT_RECEIVED else "yellow"
            route = f"{event.get('sender') or event.get('originator')} → {event.get('country')}"
            latency = f"{float(event.get('latency_ms') or 0):7.1f} ms"
            return f"{stamp}  {route}  [{colour}]{verb}[/]  {alert:<20} {what} {latency}"
        if name in (events.ALERT_REFUSED, events.ALERT_REJECTED):
            verb = "refused " if name == events.ALERT_REFUSED else "rejected"
            route = (
                f"{event.get('country')} ✗ {event.get('recipient') or '?'}"
                if name == events.ALERT_REFUSED
                else f"{event.get('originator')} ✗ {event.get('country')}"
            )
            why = f"{event.get('rule')}: {event.get('reason')}"
            return f"{stamp}  {route}  [red]{verb}[/]  {alert:<20} {why}"
        if name in (events.MESSAGE_DEADLETTERED, events.RECEIPT_OVERDUE):
            detail = event.get("error") or alert
            return f"{stamp}  {event.get('country')}  [bold red]{name}[/]  {detail}"
        return None


async def run_demo(
    settings: Settings,
    network: Network,
    options: DemoOptions,
    *,
    stop: asyncio.Event | None = None,
    listeners: tuple[Callable[[dict[str, Any]], None], ...] = (),
) -> DemoReport:
    """Run every country's producer and consumer, then judge the run from its events.

    ``stop`` ends the sending early (a signal); draining and judging still happen.
    """
    stop = stop or asyncio.Event()
    collected: list[dict[str, Any]] = []
    async with contextlib.AsyncExitStack() as stack:

        def log_for(service: str, country: str) -> EventLog:
            log = service_log(service, country, options.log_dir)
            log.add_listener(collected.append)
            for listener in listeners:
                log.add_listener(listener)
            stack.callback(log.close)
            return log

        consumers = [
            Consumer(settings.with_country(c), network=network, log=log_for("consumer", c))
            for c in network.codes
        ]
        publishers = [
            Publisher(settings.with_country(c), network=network, log=log_for("producer", c))
            for c in network.codes
        ]
        for service in (*consumers, *publishers):
            await stack.enter_async_context(service)
        stop_consumers = asyncio.Event()
        receiving = [asyncio.create_task(c.run(stop_consumers)) for c in consumers]
        # Runs before the services stop (last in, first out), also when interrupted.
        stack.push_async_callback(_settle_tasks, receiving)
        sending = [
            asyncio.create_task(
                pump(
                    p,
                    from_generator(
                        AlertGenerator(
                            network, p.country, seed=options.seed, misaddress=options.misaddress
                        )
                    ),
                    rate=options.rate,
                    count=None,
                    stop=stop,
                    # Countries do not send in step: each starts its own share of the
                    # interval later, so no twelve alerts meet in one instant.
                    offset=index / (options.rate * len(publishers)) if options.rate > 0 else 0.0,
                )
            )
            for index, p in enumerate(publishers)
        ]
        stack.push_async_callback(_settle_tasks, sending)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), options.duration)
        stop.set()
        await asyncio.gather(*sending)
        await _drain(collected, options.drain_timeout, receiving)
        stop_consumers.set()
        await asyncio.gather(*receiving)
    return check_events(network, collected)


async def _settle_tasks(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _drain(
    collected: list[dict[str, Any]], limit: float, receiving: list[asyncio.Task[None]]
) -> None:
    # Wait until every sent copy has its receipt (or time runs out, or a consumer died).
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and not any(t.done() for t in receiving):
        sent = {copy_of(e, "recipient") for e in collected if e.get("event") == events.ALERT_SENT}
        answered = {
            copy_of(e, "receipt_from")
            for e in collected
            if e.get("event") == events.RECEIPT_RECEIVED
        }
        if sent <= answered:
            return
        await asyncio.sleep(0.25)


def summary_table(report: DemoReport) -> Table:
    """The run's totals as a table."""
    table = Table("sent", "received", "revoked", "receipts", "refused", "problems")
    table.add_row(
        str(report.sent),
        str(report.received),
        str(report.revoked),
        str(report.receipts),
        str(report.refused),
        str(len(report.problems)),
    )
    return table
