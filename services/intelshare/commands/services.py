"""``intelshare topics``, ``producer``, ``consumer`` and ``demo``: the country services.

Every option can also come from an ``INTELSHARE_*`` variable (compose sets
``INTELSHARE_BOOTSTRAP``). The services run until SIGTERM or SIGINT, then finish the message
in hand, commit, flush and exit 0; an unreachable broker is reported in one line and retried
with backoff until ``--connect-timeout``, then the command exits 2.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from intelshare.commands.options import (
    BootstrapOption,
    ClientConfigOption,
    ClockSkewOption,
    CommitIntervalOption,
    ConnectTimeoutOption,
    CountryOption,
    GroupIdOption,
    InstanceOption,
    LogDirOption,
    LogFileOption,
    LogFormatOption,
    NetworkOption,
    PrefixOption,
    SigningKeyFileOption,
)
from intelshare.consumer.loop import Consumer
from intelshare.contract import events
from intelshare.demo.run import DemoOptions, LiveView, run_demo, summary_table
from intelshare.errors import CheckFailed, SettingsError
from intelshare.network.acls import ADMIN, AclChanges, network_acls
from intelshare.network.model import load_network
from intelshare.producer.generator import AlertGenerator
from intelshare.producer.publisher import Publisher
from intelshare.producer.sources import from_generator, from_json_lines, pump
from intelshare.runtime import eventloop
from intelshare.runtime.eventlog import configure_library_logging
from intelshare.runtime.lifecycle import install_stop_signals, run_until_signalled
from intelshare.runtime.settings import DEFAULT_BOOTSTRAP, Settings
from intelshare.runtime.topics import TopicsReport, ensure_acls, ensure_topics, plan_topics

T = TypeVar("T")


def _service_settings(
    service: str,
    *,
    country: str,
    **given: Any,  # noqa: ANN401 - the settings' own fields; Settings checks each
) -> Settings:
    """One country service's settings (flags over ``INTELSHARE_*``), its logging configured."""
    settings = Settings.from_env(country=country.upper(), **given)
    configure_library_logging(fmt=settings.log_format, service=service, country=settings.country)
    return settings


def _run(main: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; an interrupt that cannot wait (a second Ctrl-C) exits 130."""
    try:
        return eventloop.run(main)
    except (asyncio.CancelledError, KeyboardInterrupt):
        typer.echo("intelshare: interrupted", err=True)
        raise typer.Exit(130) from None


def topics(
    *,
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
    network: NetworkOption = None,
    prefix: PrefixOption = "",
    partitions: Annotated[
        int,
        typer.Option("--partitions", help="Partitions per topic.", envvar="INTELSHARE_PARTITIONS"),
    ] = 3,
    replication_factor: Annotated[
        int,
        typer.Option(
            "--replication-factor",
            help="Replicas per topic (at most the number of brokers).",
            envvar="INTELSHARE_REPLICATION_FACTOR",
        ),
    ] = 1,
    min_insync_replicas: Annotated[
        int | None,
        typer.Option(
            "--min-insync-replicas",
            help="Replicas a write needs, set on each new topic (default: the broker's).",
            envvar="INTELSHARE_MIN_INSYNC_REPLICAS",
        ),
    ] = None,
    connect_timeout: ConnectTimeoutOption = 60.0,
    client_config: ClientConfigOption = None,
) -> None:
    """Create every topic the network needs (inboxes, receipts, dead letters, state, audit).

    Topics that already exist are left as they are, so this is safe to run on every start; one
    with fewer partitions or replicas, or a lower min.insync.replicas, than asked for is named
    with what it lacks, and the command exits 1.
    With the admin's client file (a secured broker) it also makes the broker's ACLs the
    network's: grants added, grants of removed agreements deleted (see intelshare acls).
    """
    configure_library_logging()
    settings = Settings.from_env(
        bootstrap=bootstrap,
        network_path=network,
        topic_prefix=prefix,
        connect_timeout=connect_timeout,
        log_format="pretty",
        client_config=client_config,
    )
    net = load_network(network)
    specs = plan_topics(
        net,
        prefix=prefix,
        partitions=partitions,
        replication_factor=replication_factor,
        min_insync_replicas=min_insync_replicas,
    )

    async def main() -> tuple[TopicsReport, AclChanges | None]:
        return await ensure_topics(settings, specs), await ensure_acls(settings, net)

    report, acl_changes = _run(main())
    short = {s.name: s.problems for s in report.short}
    for spec in specs:
        state = "created" if spec.name in report.created else "exists "
        config = " ".join(f"{k}={v}" for k, v in spec.config.items())
        if spec.name in short:
            state, config = "SHORT  ", "; ".join(short[spec.name])
        typer.echo(f"{state}  {spec.name}  {config}".rstrip())
    typer.echo(
        f"{len(report.created)} created, {len(report.existing)} already there, "
        f"at {settings.bootstrap}"
    )
    if acl_changes is None:
        typer.echo(
            "ACLs: none (a plaintext broker; --client-config with the admin's file sets them)"
        )
    else:
        typer.echo(
            f"ACLs: {len(acl_changes.create)} created, {len(acl_changes.delete)} deleted, "
            f"{acl_changes.kept} already there (intelshare acls lists them)"
        )
    if short:
        # Kafka would accept writes to them, with less redundancy than was asked for: a topic
        # left from a smaller cluster must not pass as this one's.
        raise CheckFailed(
            f"{len(short)} existing topic(s) have less than asked for (above); they were made "
            "for a smaller cluster: delete them (docker compose ... down -v removes the "
            "volumes) and run this again"
        )


def producer(
    *,
    country: CountryOption,
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
    network: NetworkOption = None,
    prefix: PrefixOption = "",
    source: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            help="JSON-lines file of alerts (Avro JSON, as intelshare decode prints); - for "
            "stdin. Default: the built-in generator.",
            envvar="INTELSHARE_INPUT",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Generator seed.", envvar="INTELSHARE_SEED")
    ] = 1,
    rate: Annotated[
        float,
        typer.Option(
            "--rate",
            help="Alerts per second (0: as fast as possible); the default, one every 5 s, keeps "
            "a dozen services on a small machine quiet.",
            envvar="INTELSHARE_RATE",
        ),
    ] = 0.2,
    count: Annotated[
        int | None,
        typer.Option(
            "--count",
            help="Stop after this many alerts (default: all input, or run until stopped).",
            envvar="INTELSHARE_COUNT",
            show_default=False,
        ),
    ] = None,
    misaddress: Annotated[
        float,
        typer.Option(
            "--misaddress",
            help="Fraction of generated alerts that also address a partner the policy refuses.",
            envvar="INTELSHARE_MISADDRESS",
        ),
    ] = 0.0,
    log_format: LogFormatOption = "auto",
    log_file: LogFileOption = None,
    connect_timeout: ConnectTimeoutOption = 60.0,
    client_config: ClientConfigOption = None,
    signing_key_file: SigningKeyFileOption = None,
) -> None:
    """Publish alerts as COUNTRY: checked by the policy, one copy per allowed recipient."""
    settings = _service_settings(
        "producer",
        client_config=client_config,
        signing_key_file=signing_key_file,
        country=country,
        bootstrap=bootstrap,
        network_path=network,
        topic_prefix=prefix,
        log_format=log_format,
        log_file=log_file,
        connect_timeout=connect_timeout,
    )
    publisher = Publisher(settings)

    async def main() -> None:
        stop = asyncio.Event()
        remove = install_stop_signals(stop)
        try:
            async with publisher:
                lines = (
                    from_json_lines(Path(source), stop=stop)
                    if source is not None
                    else from_generator(
                        AlertGenerator(
                            publisher.network, publisher.country, seed=seed, misaddress=misaddress
                        )
                    )
                )
                # Where a run's clock starts: connected, before the first alert is read.
                publisher.log.info(events.PRODUCER_READY, source=source or "generator", rate=rate)
                published = await pump(publisher, lines, rate=rate, count=count, stop=stop)
                publisher.log.info(events.PRODUCER_DONE, published=published)
        finally:
            remove()

    _run(main())


def consumer(
    *,
    country: CountryOption,
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
    network: NetworkOption = None,
    prefix: PrefixOption = "",
    group_id: GroupIdOption = None,
    log_format: LogFormatOption = "auto",
    log_file: LogFileOption = None,
    connect_timeout: ConnectTimeoutOption = 60.0,
    clock_skew: ClockSkewOption = None,
    client_config: ClientConfigOption = None,
    instance: InstanceOption = None,
    signing_key_file: SigningKeyFileOption = None,
    commit_interval: CommitIntervalOption = None,
    crypto_helper: Annotated[
        bool,
        typer.Option(
            "--crypto-helper/--no-crypto-helper",
            envvar="INTELSHARE_CRYPTO_HELPER",
            help="Check the plain signatures of large polls in a helper process beside the "
            "consumer (on a machine with one core it is never used).",
        ),
    ] = True,
) -> None:
    """Receive COUNTRY's alerts and receipts: check, log, answer; until SIGTERM/SIGINT."""
    settings = _service_settings(
        "consumer",
        client_config=client_config,
        signing_key_file=signing_key_file,
        country=country,
        bootstrap=bootstrap,
        network_path=network,
        topic_prefix=prefix,
        group_id=group_id,
        log_format=log_format,
        log_file=log_file,
        connect_timeout=connect_timeout,
        clock_skew=clock_skew,
        instance=instance,
        commit_interval=commit_interval,
    )
    spare_core = (os.cpu_count() or 1) > 1
    _run(run_until_signalled(Consumer(settings, crypto_helper=crypto_helper and spare_core)))


def demo(
    *,
    bootstrap: BootstrapOption = DEFAULT_BOOTSTRAP,
    duration: Annotated[
        float, typer.Option("--duration", "-d", help="Seconds to send alerts for.")
    ] = 60.0,
    log_dir: LogDirOption = None,
    rate: Annotated[
        float, typer.Option("--rate", help="Alerts per second from each country.")
    ] = 0.25,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generators.")] = 1,
    misaddress: Annotated[
        float,
        typer.Option(
            "--misaddress", help="Fraction of alerts also addressed where policy refuses."
        ),
    ] = 0.05,
    network: NetworkOption = None,
    prefix: PrefixOption = "",
    create_topics: Annotated[
        bool,
        typer.Option("--create-topics/--no-create-topics", help="Create the topics first."),
    ] = True,
    client_config: ClientConfigOption = None,
) -> None:
    """Run a producer and a consumer for every country of the network, with a live view.

    Ends by checking the run: every received alert was addressed under an agreement, every
    sent alert got a receipt, no dead letters, no alert logged twice (exit 1 otherwise).
    """
    configure_library_logging(fmt="pretty")
    settings = Settings.from_env(
        bootstrap=bootstrap,
        network_path=network,
        topic_prefix=prefix,
        log_format="json",
        client_config=client_config,
    )
    net = load_network(network)
    console = Console(highlight=False, soft_wrap=True)
    options = DemoOptions(
        duration=duration, rate=rate, seed=seed, misaddress=misaddress, log_dir=log_dir
    )

    async def main() -> None:
        if create_topics:
            admin = settings.as_principal(ADMIN)
            await ensure_topics(admin, plan_topics(net, prefix=prefix))
            await ensure_acls(admin, net)
        stop = asyncio.Event()
        remove = install_stop_signals(stop)
        view = LiveView(console, time.monotonic())
        console.print(
            f"[bold]intelshare demo[/]: {len(net.codes)} countries at {settings.bootstrap}, "
            f"{rate:g} alerts/s each for {duration:g} s (Ctrl-C ends early)"
        )
        try:
            report = await run_demo(settings, net, options, stop=stop, listeners=(view,))
        finally:
            remove()
        view.status()
        console.print(summary_table(report))
        if log_dir is not None:
            console.print(f"logs: {log_dir}/consumer-<CC>.log, {log_dir}/producer-<CC>.log")
        for problem in report.problems[:20]:
            console.print(f"[red]✗[/] {problem}")
        if not report.ok:
            raise CheckFailed(f"demo check failed: {len(report.problems)} problems")
        console.print(
            "[green]✓[/] every received alert was addressed under an agreement; every sent "
            "alert got a receipt; no dead letters; no alert logged twice"
        )

    _run(main())


def acls(
    *,
    network: NetworkOption = None,
    prefix: PrefixOption = "",
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table for people, json for programs.")
    ] = "table",
) -> None:
    """Print the ACLs the network file asks of a secured broker (intelshare topics sets them).

    One principal per country (User:<CC>), the exercise controller (User:controller) and the
    admin (User:admin, the broker's super user, needs none). Everything not listed is refused.
    """
    if fmt not in ("table", "json"):
        raise SettingsError(f"--format: {fmt!r} is not table or json")
    rules = sorted(
        network_acls(load_network(network), prefix),
        key=lambda b: (b.principal, b.operation, b.resource_type, b.resource_name),
    )
    if fmt == "json":
        typer.echo(
            json.dumps(
                [
                    {
                        "principal": b.principal,
                        "operation": b.operation,
                        "resource_type": b.resource_type,
                        "resource_name": b.resource_name,
                        "pattern": b.pattern,
                        "permission": "ALLOW",
                        "reason": b.reason,
                    }
                    for b in rules
                ],
                indent=2,
            )
        )
        return
    header = ("PRINCIPAL", "OPERATION", "RESOURCE", "NAME", "PATTERN", "WHY")
    rows = [
        (b.principal, b.operation, b.resource_type, b.resource_name, b.pattern, b.reason)
        for b in rules
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        typer.echo("  ".join([*cells, row[-1]]).rstrip())
    principals = len({b.principal for b in rules})
    typer.echo(f"{len(rules)} rules for {principals} principals; everything else is refused")


def register(app: typer.Typer) -> None:
    """Add ``topics``, ``acls``, ``producer``, ``consumer`` and ``demo`` to the command."""
    app.command("topics")(topics)
    app.command("acls")(acls)
    app.command("producer")(producer)
    app.command("consumer")(consumer)
    app.command("demo")(demo)
