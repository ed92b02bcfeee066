"""Helpers for the service tests: run services in-process, wait for events, read topics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from intelshare.consumer.loop import Consumer
from intelshare.contract.headers import HEADER_ORIGINATOR
from intelshare.contract.signing import HEADER_SIGNATURE, HEADER_SIGNER, demo_key
from intelshare.network.model import default_network
from intelshare.producer.publisher import Publisher
from intelshare.runtime.eventlog import EventLog
from intelshare.runtime.settings import Settings
from intelshare.runtime.topics import ensure_topics, plan_topics

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable

WAIT = 60.0
"""Safety bound for waiting on an event; tests assert what happened, never how fast."""
INTELSHARE = Path(sys.executable).with_name("intelshare")


@dataclass
class Events:
    """Every event the services of one test logged, as dicts, in logging order."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, event: dict[str, Any]) -> None:
        """Take one event (a log listener)."""
        self.items.append(event)

    def named(self, name: str, **match: object) -> list[dict[str, Any]]:
        """Events called ``name`` whose fields equal ``match``."""
        return [
            e
            for e in self.items
            if e["event"] == name and all(e.get(k) == v for k, v in match.items())
        ]

    async def wait(self, name: str, count: int = 1, **match: object) -> list[dict[str, Any]]:
        """Wait until at least ``count`` such events were logged; return them."""
        await wait_until(lambda: len(self.named(name, **match)) >= count, WAIT, self.describe)
        return self.named(name, **match)

    def describe(self) -> str:
        """The last events, one line each, for a failure message."""
        return "\n".join(
            f"{e.get('country')} {e['event']} {e.get('alert_id')} {e.get('rule', '')}"
            for e in self.items[-40:]
        )


async def wait_until(
    condition: Callable[[], bool], limit: float = WAIT, describe: Callable[[], str] | None = None
) -> None:
    """Poll ``condition`` until it holds; fail after ``limit`` seconds with what was seen."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            detail = describe() if describe else ""
            raise AssertionError(f"condition not met within {limit:g} s\n{detail}")
        await asyncio.sleep(0.05)


def settings_for(bootstrap: str, prefix: str, country: str | None = None, **extra: Any) -> Settings:
    """Settings for one country's services under the test's topic prefix."""
    return Settings(
        bootstrap=bootstrap, topic_prefix=prefix, country=country, log_format="json", **extra
    )


async def make_topics(bootstrap: str, prefix: str, partitions: int = 1) -> None:
    """Create every topic the default network needs under the prefix."""
    specs = plan_topics(default_network(), prefix=prefix, partitions=partitions)
    await ensure_topics(settings_for(bootstrap, prefix), specs)


@dataclass
class Services:
    """In-process services of one test: publishers and running consumers, logging to ``events``."""

    bootstrap: str
    prefix: str
    folder: Path
    events: Events = field(default_factory=Events)
    stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def log(self, service: str, country: str) -> EventLog:
        """A log file for one service in the test's folder, feeding ``events``."""
        log = EventLog(
            service=service, country=country, path=self.folder / f"{service}-{country}.log"
        )
        log.add_listener(self.events)
        self.stack.callback(log.close)
        return log

    async def publisher(self, country: str, **extra: Any) -> Publisher:
        """A started Publisher for ``country``."""
        settings = settings_for(self.bootstrap, self.prefix, country, **extra)
        return await self.stack.enter_async_context(
            Publisher(settings, log=self.log("producer", country))
        )

    async def consumer(
        self, country: str, *, crypto_helper: bool = False, **extra: Any
    ) -> Consumer:
        """A started Consumer for ``country``, running until the test's services close."""
        settings = settings_for(self.bootstrap, self.prefix, country, **extra)
        consumer = await self.stack.enter_async_context(
            Consumer(
                settings,
                log=self.log("consumer", country),
                poll_ms=100,
                crypto_helper=crypto_helper,
            )
        )
        self.tasks.append(asyncio.create_task(consumer.run(self.stop)))
        return consumer

    async def close(self) -> None:
        """Stop the consumers, then every service; re-raise a consumer's failure."""
        self.stop.set()
        results = await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.stack.aclose()
        for result in results:
            if isinstance(result, BaseException):
                raise result


@contextlib.asynccontextmanager
async def services(bootstrap: str, prefix: str, folder: Path) -> AsyncIterator[Services]:
    """Services for one test; consumers stop cleanly at the end (failures re-raised)."""
    net = Services(bootstrap=bootstrap, prefix=prefix, folder=folder)
    try:
        yield net
    finally:
        await net.close()


async def read_topic(bootstrap: str, topic: str) -> list[Any]:
    """Every record on a topic right now (all partitions, from the start)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()
        partitions = cluster.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[Any] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batch = await consumer.getmany(*tps, timeout_ms=500)
            for items in batch.values():
                records.extend(items)
        return records
    finally:
        await consumer.stop()


async def produce_raw(
    bootstrap: str,
    topic: str,
    value: bytes,
    key: bytes = b"raw",
    *,
    signer: str | None = None,
    originator: str | None = None,
) -> None:
    """Write one record as is (e.g. garbage bytes) to a topic.

    With ``signer``: signed by that country's demo key, as its services would sign it, with
    the ``originator`` header (default: the signer).
    """
    headers: list[tuple[str, bytes]] = []
    if signer is not None:
        headers = [
            (HEADER_ORIGINATOR, (originator or signer).encode()),
            (HEADER_SIGNER, signer.encode()),
            (HEADER_SIGNATURE, demo_key(signer).sign(value)),
        ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


def log_lines(path: Path) -> list[dict[str, Any]]:
    """The JSON events in a log file (other lines skipped)."""
    found: list[dict[str, Any]] = []
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict) and "event" in event:
                found.append(event)
    return found


def start_cli(
    *args: str, log_file: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``intelshare ARGS`` as its own process, JSON logs appended to ``log_file``.

    Standard error goes to ``<log_file>.stderr`` (a pipe nobody reads could fill and block).
    """
    with stderr_path(log_file).open("ab") as stderr:
        return subprocess.Popen(
            [str(INTELSHARE), *args, "--log-format", "json", "--log-file", str(log_file)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, **(env or {})},
        )


def stderr_path(log_file: Path) -> Path:
    """Where :func:`start_cli` writes a process's standard error."""
    return log_file.with_name(log_file.name + ".stderr")


async def wait_for_lines(
    path: Path, name: str, count: int, process: subprocess.Popen[bytes] | None = None
) -> list[dict[str, Any]]:
    """Wait until a log file holds ``count`` events called ``name`` (fail if the process died)."""

    def enough() -> bool:
        if process is not None and process.poll() is not None:
            stderr = stderr_path(path).read_text(errors="replace")
            raise AssertionError(f"process exited with {process.returncode}: {stderr}")
        return len([e for e in log_lines(path) if e["event"] == name]) >= count

    await wait_until(enough, WAIT, lambda: f"{name} in {path}: {len(log_lines(path))} lines")
    return [e for e in log_lines(path) if e["event"] == name]


def terminate(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM) -> int:
    """Send ``sig`` and wait for the exit code."""
    process.send_signal(sig)
    try:
        return process.wait(timeout=WAIT)
    finally:
        if process.poll() is None:
            process.kill()


def records_with(records: Iterable[Any], needle: bytes) -> list[Any]:
    """Records whose value contains ``needle`` (e.g. an alert id) anywhere."""
    return [r for r in records if r.value is not None and needle in r.value]
