"""The steps of a long scenario, read in a helper process while this one checks them.

Reading the YAML (libyaml's events composed into nodes, then each node read into a step) is
about half of a long scenario's check; checking the steps in order and building their
timeline is the other half. :class:`StepsAhead` runs the first half in a helper process
(``spawn``: nothing of the caller's threads or loop is copied) that reads the header for
itself and sends the steps over a pipe in pickled chunks, so the two halves share two cores.

Only a clean file takes this way: the helper gives up at the first problem it finds, and the
caller then checks the file in one process, which reports every problem at its exact key. A
step read ahead carries only where it starts, which is all a clean check needs.
"""

from __future__ import annotations

import contextlib
import copyreg
import io
import multiprocessing
import pickle
import signal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from intelshare.errors import FatalSyntax
from intelshare.scenario.parse import parse_header, read_steps
from intelshare.yamlpos import Reader, read_top_level

if TYPE_CHECKING:
    from collections.abc import Iterator
    from multiprocessing.connection import Connection
    from pathlib import Path

    from intelshare.scenario.model import AnyStep

WORTH_IT: Final = 256 * 1024
"""File size (bytes, about 1,000 steps) from which a helper pays for its start (~1 s of CPU)."""
CHUNK: Final = 256
"""Steps per message on the pipe."""
_DONE: Final = "done"
_GAVE_UP: Final = "gave up"


class GaveUp(Exception):
    """The helper found a problem (or stopped): check the file in one process instead."""


def _proxy(values: dict[str, Any]) -> MappingProxyType[str, Any]:
    """A read-only mapping again (alert fields hold their subjects as such)."""
    return MappingProxyType(values)


def _dumps(chunk: list[Any]) -> bytes:
    """``chunk`` pickled; read-only mappings (which pickle refuses) travel as dicts."""
    out = io.BytesIO()
    pickler = pickle.Pickler(out, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {
        **copyreg.dispatch_table,
        MappingProxyType: lambda m: (_proxy, (dict(m),)),
    }
    pickler.dump(chunk)
    return out.getvalue()


def _read_into(path: Path, seed: str | None, conn: Connection) -> None:
    """The helper process: every step of a clean file into ``conn``, chunk by chunk."""
    # Ctrl-C is the caller's to handle; it ends this process by closing the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    reader = Reader(source=str(path))
    chunk: list[Any] = []
    try:
        top, _ = read_top_level(path, reader)
        scenario = parse_header(reader, top, path, seed)
        if scenario is None or reader.problems:
            conn.send_bytes(_dumps([_GAVE_UP]))
            return
        for step in read_steps(path, reader, scenario, strict=True):
            chunk.append(step)
            if len(chunk) >= CHUNK:
                conn.send_bytes(_dumps(chunk))
                chunk = []
        conn.send_bytes(_dumps([*chunk, _GAVE_UP if reader.problems else _DONE]))
    except FatalSyntax:
        conn.send_bytes(_dumps([*chunk, _GAVE_UP]))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the caller stopped reading: it found a problem, or was interrupted
    finally:
        conn.close()


class StepsAhead:
    """A helper process reading a scenario's steps: :meth:`start` it, :meth:`steps` takes them."""

    def __init__(self, path: Path, seed: str | None) -> None:
        """Read ``path`` (with ``seed`` overriding the file's, as the caller's check does)."""
        self._path = path
        self._seed = seed
        self._process: Any = None
        self._conn: Connection | None = None
        self._failed: str | None = None

    def start(self) -> None:
        """Start the helper, which reads the header for itself while the caller reads it too."""
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        self._conn = receiver
        self._process = context.Process(
            target=_read_into,
            args=(self._path, self._seed, sender),
            name="scenario-reader",
            daemon=True,
        )
        try:
            self._process.start()
        except OSError as error:  # no processes left to start: the caller reads alone
            self._failed = f"no helper: {error}"
        finally:
            sender.close()

    def steps(self) -> Iterator[AnyStep]:
        """The steps the helper reads, in file order.

        Raises:
            GaveUp: the helper found a problem in the file, stopped before the end, or could
                not be started.
        """
        if self._failed is not None or self._conn is None:
            raise GaveUp(self._failed or "the helper was not started")
        receiver = self._conn
        while True:
            try:
                chunk = pickle.loads(receiver.recv_bytes())  # noqa: S301 - our helper's bytes
            except EOFError:
                raise GaveUp("the helper stopped early") from None
            for item in chunk:
                if item == _DONE:
                    return
                if item == _GAVE_UP:
                    raise GaveUp("the helper found a problem")
                yield item

    def stop(self) -> None:
        """End the helper (at once if it is still reading) and close the pipe."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        process, self._process = self._process, None
        if process is not None and process.pid is not None:  # started
            # Nothing it holds needs cleaning up: a helper still reading (the header had a
            # problem, or the check stopped early) ends now rather than after its pass.
            if process.is_alive():
                process.terminate()
            process.join(timeout=5)
            with contextlib.suppress(ValueError):  # still running after all
                process.close()
