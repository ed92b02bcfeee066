"""Debian's kcat, run with the librdkafka of the confluent-kafka wheel (Kafka 4's SCRAM needs it).

kcat is a client nobody here wrote: what it is allowed and refused on the secured broker is what
any client would be. Debian 12's librdkafka 2.0.2 fails SCRAM against Kafka 4, so the library
bundled in the confluent-kafka wheel (a test extra) is put first on LD_LIBRARY_PATH under the
name kcat links against.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL = "apt-get install kcat (done by .ci/run's prerequisites step)"


@dataclass(frozen=True, kw_only=True, slots=True)
class Kcat:
    """kcat with a newer librdkafka; each call uses one principal's client file."""

    binary: str
    """The kcat executable."""
    library_dir: Path
    """A folder holding librdkafka.so.1 (and what it needs) for LD_LIBRARY_PATH."""

    def __call__(
        self, client_file: Path, *args: str, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run ``kcat -F client_file -m 10 args`` and return what it did."""
        env = {**os.environ, "LD_LIBRARY_PATH": str(self.library_dir)}
        return subprocess.run(
            [self.binary, "-F", str(client_file), "-m", "10", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )

    def version(self) -> str:
        """The version line, naming the librdkafka it loaded."""
        env = {**os.environ, "LD_LIBRARY_PATH": str(self.library_dir)}
        result = subprocess.run(
            [self.binary, "-V"], capture_output=True, text=True, env=env, check=False
        )
        return next((line for line in result.stdout.splitlines() if "librdkafka" in line), "")


def find_kcat(folder: Path) -> Kcat:
    """The kcat executable and a library folder in ``folder``; fail naming what is missing."""
    binary = shutil.which("kcat")
    if binary is None:
        pytest.fail(f"kcat is not installed: {INSTALL}", pytrace=False)
    spec = importlib.util.find_spec("confluent_kafka")
    if spec is None or spec.origin is None:
        pytest.fail("confluent-kafka is not installed (pip install -e '.[test]')", pytrace=False)
    libs = Path(spec.origin).parent.parent / "confluent_kafka.libs"
    found = sorted(libs.glob("librdkafka*.so*"))
    if not found:
        pytest.fail(f"no librdkafka in {libs}", pytrace=False)
    folder.mkdir(parents=True, exist_ok=True)
    for library in libs.iterdir():
        (folder / library.name).symlink_to(library)
    (folder / "librdkafka.so.1").symlink_to(found[0])
    return Kcat(binary=binary, library_dir=folder)
