"""The compose network as a test fixture: up, wait until healthy, and always down again.

These tests start the whole compose file (a broker and twelve services) and take minutes, so
they are collected only when ``INTELSHARE_E2E=1`` (``scripts/ci-docker`` sets it); a plain
``pytest`` run neither runs nor skips them. Images come from ``KAFKA_IMAGE`` and
``INTELSHARE_IMAGE`` as for any compose run (``eval "$(scripts/offline-images)"``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"
HEALTHY_WITHIN = 300.0


def pytest_ignore_collect(collection_path: Path) -> bool | None:
    """Leave this folder out of every run that did not ask for it."""
    if os.environ.get("INTELSHARE_E2E") == "1":
        return None
    return collection_path.name.startswith("test_")


def _compose_command() -> list[str]:
    """The compose command: INTELSHARE_COMPOSE, else ``docker compose`` (v2), else v1."""
    if chosen := os.environ.get("INTELSHARE_COMPOSE"):
        return chosen.split()
    v2 = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, check=False, text=True
    )
    if v2.returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("neither `docker compose` nor `docker-compose` is installed")
    raise AssertionError  # unreachable: pytest.fail raises


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, kw_only=True, slots=True)
class Compose:
    """One compose project of the intelshare network, driven through the compose CLI."""

    command: tuple[str, ...]
    """The compose command with file and project options (``docker compose -f ... -p ...``)."""
    project: str
    """The compose project name; every container, network and volume carries it as a label."""
    env: dict[str, str]
    """The environment compose runs with (image variables, the host port)."""

    def run(
        self, *args: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        """Run one compose sub-command and return its result (output captured as text)."""
        result = subprocess.run(
            [*self.command, *args],
            capture_output=True,
            check=False,
            env=self.env,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            pytest.fail(f"compose {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def containers(self) -> dict[str, dict[str, Any]]:
        """Each of the project's containers by service name: its ``docker inspect`` state."""
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={self.project}"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout.split()
        if not ids:
            return {}
        inspected = json.loads(
            subprocess.run(
                ["docker", "inspect", *ids], capture_output=True, check=True, text=True
            ).stdout
        )
        return {
            item["Config"]["Labels"]["com.docker.compose.service"]: item["State"]
            for item in inspected
            if item["Config"]["Labels"].get("com.docker.compose.oneoff", "False") == "False"
        }

    def logs(self, service: str) -> str:
        """A service's output so far, without colours."""
        return self.run("logs", "--no-color", service).stdout

    def remove_everything(self) -> None:
        """Remove the project's containers, networks and volumes, whatever state they are in."""
        self.run(
            "--profile",
            "replay",
            "down",
            "--volumes",
            "--remove-orphans",
            "--timeout",
            "10",
            check=False,
            timeout=180,
        )
        label = f"label=com.docker.compose.project={self.project}"
        for kind, remove in (
            ("ps -aq", "rm -f -v"),
            ("network ls -q", "network rm"),
            ("volume ls -q", "volume rm"),
        ):
            listed = subprocess.run(
                ["docker", *kind.split(), "--filter", label],
                capture_output=True,
                check=False,
                text=True,
            ).stdout.split()
            if listed:
                subprocess.run(
                    ["docker", *remove.split(), *listed], capture_output=True, check=False
                )


ONE_SHOT = ("pki", "init")
"""Services that run once and exit 0 before the others start."""


def _wait_until_running(compose: Compose) -> None:
    """Wait for a healthy broker, the topics created and every country service running.

    The services' own healthcheck runs once a minute (it is cheap only when rare), so running
    without restarts is what is awaited for them; the broker must be healthy.
    """
    deadline = time.monotonic() + HEALTHY_WITHIN
    while True:
        # `up --detach` has created every container it starts (none of the profiles' services).
        states = compose.containers()
        # The one-shot jobs: pki (TLS material, identities), then init (topics, ACLs).
        for job in ONE_SHOT:
            done = states.get(job, {})
            if done.get("Status") == "exited" and done.get("ExitCode") != 0:
                pytest.fail(f"{job} exited {done.get('ExitCode')}:\n{compose.logs(job)}")
        waiting = []
        for name, state in states.items():
            if name in ONE_SHOT:
                ready = state.get("Status") == "exited"
            elif name.startswith("kafka"):
                ready = state.get("Health", {}).get("Status") == "healthy"
            else:
                ready = state.get("Status") == "running" and not state.get("Restarting")
            if not ready:
                waiting.append(name)
        if states and not waiting:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"not running after {HEALTHY_WITHIN:.0f}s: {', '.join(waiting)}")
        time.sleep(2)


@contextlib.contextmanager
def network_up(
    project: str, env: dict[str, str], *up_args: str, pre: tuple[str, ...] = ()
) -> Iterator[Compose]:
    """A compose project up and healthy (``up --detach UP_ARGS``); removed again afterwards.

    ``pre`` goes before ``up`` (e.g. ``--profile cluster``).
    """
    network = Compose(
        command=(*_compose_command(), "-f", str(COMPOSE_FILE), "-p", project, *pre),
        project=project,
        env=env,
    )
    network.remove_everything()  # a run killed halfway may have left this project behind
    try:
        started = time.monotonic()
        network.run("up", "--detach", "--no-build", *up_args)
        _wait_until_running(network)
        print(f"compose up to healthy: {time.monotonic() - started:.1f}s")  # noqa: T201
        yield network
    finally:
        network.remove_everything()


def e2e_project() -> str:
    """The compose project name of this run (one per run: side-by-side runs never collide)."""
    return os.environ.get("INTELSHARE_E2E_PROJECT") or f"intelshare-e2e-{os.getpid()}"


# Module scope: the network is removed when its tests are done, before the next module's
# network (the cluster drill) starts on the same machine.
@pytest.fixture(scope="module")
def compose() -> Iterator[Compose]:
    """The intelshare network up and healthy; everything it made is removed afterwards."""
    # The default story spans four hours on the scenario clock: a minute at 240x.
    env = {"REPLAY_SPEED": "240", **os.environ, "KAFKA_HOST_PORT": str(_free_port())}
    with network_up(e2e_project(), env) as network:
        yield network
