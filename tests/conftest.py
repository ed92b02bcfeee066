"""A real Apache Kafka broker for the tests that need one, and a topic prefix per test.

A test gets a broker by asking for ``kafka_bootstrap`` (it is then marked ``kafka``), from, in
order:

1. ``INTELSHARE_TEST_BOOTSTRAP`` (``host:port``): a broker someone runs (``scripts/kafka-local``);
2. a container started with testcontainers when a Docker engine answers:
   ``INTELSHARE_KAFKA_IMAGE`` (default ``apache/kafka:<KAFKA_VERSION from compose/.env>``),
   configured only by ``KAFKA_*`` variables as compose configures it, so the official and the
   offline image both serve;
3. none: the test is skipped, or fails where ``INTELSHARE_REQUIRE_KAFKA=1`` (CI), where a
   ``kafka`` test that skips for any other reason fails too.

testcontainers reads its own settings from the environment (``TESTCONTAINERS_RYUK_DISABLED``,
``TESTCONTAINERS_CONNECTION_MODE``, ``TC_HOST``); they are left as given.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from intelshare.network.model import Network, default_network
from intelshare.runtime.client_config import ClientSecurity, load_client_config
from intelshare.runtime.provision import provision

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator

ROOT = Path(__file__).resolve().parent.parent
STARTED_WITHIN = 120.0
"""Seconds a broker container may take to log that it started (a cold JVM on a busy machine)."""
TOPIC_ALREADY_EXISTS = 36
"""Kafka's error code for CreateTopics on an existing topic: fine, creation is idempotent."""

T = TypeVar("T")


def kafka_version() -> str:
    """The project's Kafka version, named once in compose/.env."""
    for line in (ROOT / "compose" / ".env").read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition("=")
        if name.strip() == "KAFKA_VERSION":
            return value.strip().strip("\"'")
    raise AssertionError("compose/.env names no KAFKA_VERSION")


def kafka_image() -> str:
    """The broker image testcontainers starts: INTELSHARE_KAFKA_IMAGE or the official one."""
    return os.environ.get("INTELSHARE_KAFKA_IMAGE") or f"apache/kafka:{kafka_version()}"


def kafka_required() -> bool:
    """Whether a missing broker fails the run instead of skipping its tests (CI)."""
    return os.environ.get("INTELSHARE_REQUIRE_KAFKA") == "1"


def docker_answers(timeout: float = 5.0) -> bool:
    """Whether a Docker engine answers ``GET /_ping`` at DOCKER_HOST or the default socket.

    Asked over a plain socket: the Docker SDK leaves a socket open when the engine is absent,
    which ``filterwarnings = error`` would turn into a failure of an unrelated test.
    """
    address = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    scheme, _, rest = address.partition("://")
    try:
        if scheme == "unix":
            sock = socket.socket(socket.AF_UNIX)
            target: str | tuple[str, int] = rest
        elif scheme in {"tcp", "http", "https"}:
            host, _, port = rest.rstrip("/").rpartition(":")
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
            target = (host.strip("[]"), int(port))
        else:
            return False
        with sock:
            sock.settimeout(timeout)
            sock.connect(target)
            if os.environ.get("DOCKER_TLS_VERIFY"):
                return True  # a TLS engine is not pinged in plain HTTP; it listens, that will do
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            status_line = sock.recv(64).split(b"\r\n", 1)[0]
            return status_line.startswith(b"HTTP/1.") and b" 200" in status_line
    except (OSError, ValueError):
        return False


def _in_thread(work: Callable[[], Awaitable[T]], timeout: float) -> T:
    """Run a coroutine to completion on its own loop in a worker thread.

    Session fixtures are synchronous and may be set up while a test's event loop is running,
    so a broker check gets a loop of its own.
    """

    def run() -> T:
        async def bounded() -> T:
            return await asyncio.wait_for(work(), timeout)

        return asyncio.run(bounded())

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


def check_broker(
    bootstrap: str, security: ClientSecurity | None = None, timeout: float = 30.0
) -> None:
    """Ask the broker for its cluster metadata with aiokafka; raise when it does not answer."""
    options = security.aiokafka_options() if security is not None else {}

    async def describe() -> dict[str, Any]:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=10_000, **options
        )
        await admin.start()
        try:
            return await admin.describe_cluster()
        finally:
            await admin.close()

    cluster = _in_thread(describe, timeout)
    if not cluster.get("brokers"):
        raise ConnectionError(f"{bootstrap} answered without any broker in its metadata")


def broker_container(image: str, *, secure_dir: Path | None = None) -> tuple[Any, str]:
    """Start a one-node KRaft broker container; return it and its bootstrap on the host.

    The host port is only known once the container runs, so the container waits for its
    advertised listener before it starts Kafka (``/etc/kafka/docker/run``, as in the official
    image); on failure the container's log is part of the error.

    With ``secure_dir`` the broker is secured as in compose: intelshare's provisioning writes
    the CA, the broker's certificate and a client file per principal there (mounted at
    /secrets), the storage is formatted with the SCRAM users, and every listener speaks
    SASL_SSL with the StandardAuthorizer refusing what no ACL allows.
    """
    from testcontainers.core.container import DockerContainer  # noqa: PLC0415 - optional
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy  # noqa: PLC0415
    from testcontainers.core.waiting_utils import wait_for_logs  # noqa: PLC0415

    container = (
        DockerContainer(image)
        .with_exposed_ports(9092)
        .with_envs(
            CLUSTER_ID="aW50ZWxzaGFyZS10ZXN0cw",
            KAFKA_NODE_ID="1",
            KAFKA_PROCESS_ROLES="broker,controller",
            KAFKA_CONTROLLER_QUORUM_VOTERS="1@localhost:9093",
            KAFKA_LISTENERS="HOST://:9092,INTERNAL://:19092,CONTROLLER://:9093",
            KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=(
                "HOST:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT"
            ),
            KAFKA_INTER_BROKER_LISTENER_NAME="INTERNAL",
            KAFKA_CONTROLLER_LISTENER_NAMES="CONTROLLER",
            KAFKA_AUTO_CREATE_TOPICS_ENABLE="false",
            KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_MIN_ISR="1",
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR="1",
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR="1",
            KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS="0",
            KAFKA_HEAP_OPTS="-Xmx512M -Xms512M",
        )
        .with_command(
            [
                "sh",
                "-c",
                (
                    "while [ ! -f /tmp/advertised ]; do sleep 0.1; done; "
                    "KAFKA_ADVERTISED_LISTENERS=$(cat /tmp/advertised) exec /etc/kafka/docker/run"
                ),
            ]
        )
    )
    if secure_dir is not None:
        container = secure_container(container, secure_dir)
    try:
        container.start()
    except Exception as error:  # noqa: BLE001 - the engine's reason, e.g. an image it cannot pull
        pytest.fail(
            f"could not start the Kafka container {image}: {error!r} (set INTELSHARE_KAFKA_IMAGE "
            "to a local image, e.g. from scripts/offline-images, or INTELSHARE_TEST_BOOTSTRAP)",
            pytrace=False,
        )
    try:
        host = container.get_container_host_ip()
        port = container.get_exposed_port(9092)
        advertised = f"HOST://{host}:{port},INTERNAL://localhost:19092"
        container.exec(["sh", "-c", f"echo '{advertised}' > /tmp/a && mv /tmp/a /tmp/advertised"])
        wait_for_logs(container, LogMessageWaitStrategy("Kafka Server started"), STARTED_WITHIN)
        bootstrap = f"{host}:{port}"
        if secure_dir is None:
            check_broker(bootstrap)
        else:
            rewrite_bootstrap(secure_dir / "clients", bootstrap)
            admin = load_client_config(secure_dir / "clients" / "admin.properties")
            # The SCRAM users are known once the broker has loaded its metadata, a moment
            # after it logs that it started; until then a login is refused.
            deadline = time.monotonic() + STARTED_WITHIN
            while True:
                try:
                    check_broker(bootstrap, admin)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1)
    except Exception as error:  # noqa: BLE001 - whatever went wrong, the broker's log says why
        stdout, stderr = container.get_logs()
        log = (stdout + stderr).decode(errors="replace")[-6000:]
        container.stop()
        pytest.fail(
            f"the Kafka container ({image}) did not become ready: {error!r}\n"
            f"--- container log (end) ---\n{log}",
            pytrace=False,
        )
    return container, bootstrap


SCRAM_LOGIN = "org.apache.kafka.common.security.scram.ScramLoginModule"
PLAIN_LOGIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
FORMAT_PROPERTIES = (
    "process.roles=broker,controller node.id=1 controller.quorum.voters=1@localhost:9093 "
    "controller.listener.names=CONTROLLER listeners=CONTROLLER://:9093,INTERNAL://:19092 "
    "listener.security.protocol.map=CONTROLLER:SASL_SSL,INTERNAL:SASL_SSL "
    "inter.broker.listener.name=INTERNAL log.dirs=/var/lib/kafka/data"
)


def secure_container(container: Any, folder: Path) -> Any:
    """The broker container secured with files provisioned into ``folder`` (as compose does)."""
    done = provision(
        folder,
        bootstrap="pending:0",
        codes=default_network().codes,
        hosts=["127.0.0.1", "localhost", os.environ.get("TC_HOST", "localhost")],
    )
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # the image's user is not ours
    password = done.passwords["admin"]
    scram = f'{SCRAM_LOGIN} required username="admin" password="{password}";'
    users = " ".join(
        f"--add-scram SCRAM-SHA-512=[name={name},password={secret}]"
        for name, secret in done.passwords.items()
    )
    return (
        container.with_volume_mapping(str(folder), "/secrets", "ro")
        .with_envs(
            KAFKA_LISTENER_SECURITY_PROTOCOL_MAP="HOST:SASL_SSL,INTERNAL:SASL_SSL,CONTROLLER:SASL_SSL",
            KAFKA_SASL_ENABLED_MECHANISMS="SCRAM-SHA-512",
            KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL="SCRAM-SHA-512",
            KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL="PLAIN",
            KAFKA_LISTENER_NAME_CONTROLLER_SASL_ENABLED_MECHANISMS="PLAIN",
            KAFKA_LISTENER_NAME_INTERNAL_SCRAM___SHA___512_SASL_JAAS_CONFIG=scram,
            KAFKA_LISTENER_NAME_HOST_SCRAM___SHA___512_SASL_JAAS_CONFIG=scram,
            KAFKA_LISTENER_NAME_CONTROLLER_PLAIN_SASL_JAAS_CONFIG=(
                f'{PLAIN_LOGIN} required username="admin" password="{password}" '
                f'user_admin="{password}";'
            ),
            KAFKA_SSL_KEYSTORE_TYPE="PEM",
            KAFKA_SSL_KEYSTORE_LOCATION="/secrets/tls/broker.pem",
            KAFKA_SSL_TRUSTSTORE_TYPE="PEM",
            KAFKA_SSL_TRUSTSTORE_LOCATION="/secrets/tls/ca.pem",
            KAFKA_AUTHORIZER_CLASS_NAME="org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND="false",
            KAFKA_SUPER_USERS="User:admin",
            # The folder the command formats with the SCRAM users; the image's run keeps it.
            KAFKA_LOG_DIRS="/var/lib/kafka/data",
        )
        .with_command(
            [
                "sh",
                "-c",
                (
                    "set -euf; while [ ! -f /tmp/advertised ]; do sleep 0.1; done; "
                    f"printf '%s\\n' {FORMAT_PROPERTIES} > /tmp/format.properties; "
                    "/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "
                    f"$CLUSTER_ID --config /tmp/format.properties {users}; "
                    "KAFKA_ADVERTISED_LISTENERS=$(cat /tmp/advertised) exec /etc/kafka/docker/run"
                ),
            ]
        )
    )


def rewrite_bootstrap(clients: Path, bootstrap: str) -> None:
    """Name the container's host port in every client file (known only once it runs)."""
    for path in clients.glob("*.properties"):
        lines = path.read_text().splitlines()
        path.write_text(
            "\n".join(
                f"bootstrap.servers={bootstrap}" if line.startswith("bootstrap.servers=") else line
                for line in lines
            )
            + "\n"
        )


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """A real broker's ``host:port`` for the whole session (see the module docstring)."""
    if given := os.environ.get("INTELSHARE_TEST_BOOTSTRAP"):
        try:
            check_broker(given)
        except Exception as error:  # noqa: BLE001 - any failure: say which broker and why
            pytest.fail(
                f"INTELSHARE_TEST_BOOTSTRAP={given} does not answer: {error!r}", pytrace=False
            )
        yield given
        return
    if docker_answers():
        container, bootstrap = broker_container(kafka_image())
        try:
            yield bootstrap
        finally:
            container.stop()
        return
    message = (
        "no Kafka broker: set INTELSHARE_TEST_BOOTSTRAP (scripts/kafka-local start) or run a "
        "Docker engine, or use scripts/test, which starts one"
    )
    if kafka_required():
        pytest.fail(f"{message} (INTELSHARE_REQUIRE_KAFKA=1)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def topic_prefix(request: pytest.FixtureRequest) -> str:
    """A topic prefix no other test uses, e.g. ``t.test-alert-arrives.3f9c2a1b.``.

    Every topic function in intelshare.network.model takes it, so tests on a shared broker never see
    each other's messages. Only letters, digits, ``-`` and ``.``: Kafka treats ``_`` and ``.``
    as colliding in topic names.
    """
    name = re.sub(r"[^A-Za-z0-9-]+", "-", request.node.name).strip("-").lower()[:40]
    return f"t.{name}.{uuid.uuid4().hex[:8]}."


@dataclass(frozen=True, kw_only=True, slots=True)
class TopicMaker:
    """Creates topics under one test's prefix on the test broker."""

    bootstrap: str
    """The broker's ``host:port``."""
    prefix: str
    """Prepended to every name; the test's ``topic_prefix``."""

    async def __call__(
        self, *names: str, network: Network | None = None, partitions: int = 1
    ) -> tuple[str, ...]:
        """Create the given topics, or with no names every topic the network needs; idempotent.

        Names are given without the prefix; the full names are returned.
        """
        if names:
            full = tuple(f"{self.prefix}{name}" for name in names)
        else:
            full = (network or default_network()).all_topics(self.prefix)
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            response = await admin.create_topics(
                [NewTopic(name, partitions, 1) for name in full], timeout_ms=30_000
            )
        finally:
            await admin.close()
        # Each entry is (topic, error code[, error message]) depending on the protocol version.
        failed = [
            " ".join(str(part) for part in entry)
            for entry in response.topic_errors
            if entry[1] not in {0, TOPIC_ALREADY_EXISTS}
        ]
        if failed:
            raise RuntimeError("could not create topics: " + "; ".join(failed))
        return full


async def delete_prefixed_topics(bootstrap: str, prefix: str) -> None:
    """Delete every topic that starts with the prefix, so a shared broker does not fill up."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        ours = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if ours:
            await admin.delete_topics(ours, timeout_ms=30_000)
    finally:
        await admin.close()


@pytest.fixture
async def create_topics(kafka_bootstrap: str, topic_prefix: str) -> AsyncIterator[TopicMaker]:
    """A maker of topics under the test's prefix, deleting every prefixed topic afterwards.

    ``await create_topics()`` makes the default network's topics; ``await create_topics("a")``
    makes just that one (prefixed); ``network=`` and ``partitions=`` change what is made. Every
    topic with the prefix, also those the code under test created, is deleted after the test.
    """
    yield TopicMaker(bootstrap=kafka_bootstrap, prefix=topic_prefix)
    await delete_prefixed_topics(kafka_bootstrap, topic_prefix)


@dataclass(frozen=True, kw_only=True, slots=True)
class SecureBroker:
    """A broker that speaks SASL_SSL only and enforces ACLs, with a client file per principal."""

    bootstrap: str
    """Its ``host:port``."""
    clients: Path
    """The folder of client files: ``<CC>.properties``, ``admin.properties``, ..."""

    def client(self, name: str) -> Path:
        """The client file of one principal (a country code, ``admin`` or ``controller``)."""
        return self.clients / f"{name}.properties"


def free_port_pair() -> int:
    """A free loopback port whose successor (the controller port) is free too."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port


@pytest.fixture(scope="session")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    """A secured broker for the session (``scripts/kafka-local start --secure``), stopped after.

    ``INTELSHARE_TEST_SECURE_DIR`` names the folder of one already running instead. Without
    Java the tests skip, or fail where ``INTELSHARE_REQUIRE_KAFKA=1``.
    """
    if given := os.environ.get("INTELSHARE_TEST_SECURE_DIR"):
        clients = Path(given) / "clients"
        bootstrap = load_client_config(clients / "admin.properties").bootstrap
        assert bootstrap, f"{clients}/admin.properties names no bootstrap.servers"
        yield SecureBroker(bootstrap=bootstrap, clients=clients)
        return
    wanted = os.environ.get("INTELSHARE_TEST_BROKER", "auto")
    if wanted == "container" or (
        wanted == "auto" and os.environ.get("INTELSHARE_KAFKA_IMAGE") and docker_answers()
    ):
        folder = tmp_path_factory.mktemp("secure-container")
        container, bootstrap = broker_container(kafka_image(), secure_dir=folder)
        try:
            yield SecureBroker(bootstrap=bootstrap, clients=folder / "clients")
        finally:
            container.stop()
        return
    if shutil.which("java") is None:
        message = (
            "no secured broker: scripts/kafka-local needs Java (or INTELSHARE_TEST_SECURE_DIR)"
        )
        if kafka_required():
            pytest.fail(f"{message} (INTELSHARE_REQUIRE_KAFKA=1)", pytrace=False)
        pytest.skip(message)
    folder = tmp_path_factory.mktemp("secure-kafka")
    port = free_port_pair()
    script = ROOT / "scripts" / "kafka-local"
    started = subprocess.run(
        [sys.executable, str(script), "start", "--secure", "--port", str(port), "--data-dir",
         str(folder), "--timeout", "120"],
        check=False, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    try:
        if started.returncode != 0:
            pytest.fail(
                f"the secured broker did not start:\n{started.stderr[-4000:]}", pytrace=False
            )
        yield SecureBroker(bootstrap=f"127.0.0.1:{port}", clients=folder / "clients")
    finally:
        subprocess.run(
            [sys.executable, str(script), "stop", "--data-dir", str(folder)],
            check=False, capture_output=True, timeout=120,
        )  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the broker ``kafka``, so ``-m kafka`` selects exactly those."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "kafka_bootstrap" in names or "secure_kafka" in names:
            item.add_marker(pytest.mark.kafka)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Where INTELSHARE_REQUIRE_KAFKA=1, a skipped ``kafka`` test is a failure: CI runs them all."""
    report = yield
    skipped = report.skipped and not hasattr(report, "wasxfail")  # an xfail reports as skipped
    if skipped and kafka_required() and item.get_closest_marker("kafka"):
        # A skip's report holds (file, line, reason).
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (
            f"skipped where INTELSHARE_REQUIRE_KAFKA=1 (CI runs every kafka test): {reason}"
        )
    return report
