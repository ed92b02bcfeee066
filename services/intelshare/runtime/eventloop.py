"""Which asyncio event loop the commands run on: the standard one, or uvloop when chosen.

``INTELSHARE_EVENT_LOOP=uvloop`` runs a command on uvloop (``pip install 'intelshare[fast]'``);
the default ``asyncio`` needs nothing. The services do not depend on either: every await is
plain asyncio.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
from typing import TYPE_CHECKING, Any, Final, TypeVar

from intelshare.errors import SettingsError

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

ENV: Final = "INTELSHARE_EVENT_LOOP"
"""The environment variable that chooses the loop."""
CHOICES: Final = ("asyncio", "uvloop")
"""The loops there are."""

T = TypeVar("T")


def loop_factory(choice: str | None = None) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory of the chosen loop (None: asyncio's own).

    Raises:
        SettingsError: an unknown choice, or uvloop chosen but not installed.
    """
    choice = (choice if choice is not None else os.environ.get(ENV, "")).strip() or "asyncio"
    if choice == "asyncio":
        return None
    if choice == "uvloop":
        try:
            uvloop: Any = importlib.import_module("uvloop")
        except ImportError:
            raise SettingsError(
                f"{ENV}=uvloop, but uvloop is not installed (pip install 'intelshare[fast]')"
            ) from None
        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        return factory
    raise SettingsError(f"{ENV} must be one of {', '.join(CHOICES)}, not {choice!r}")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on the chosen loop, as :func:`asyncio.run` does.

    Raises:
        SettingsError: as :func:`loop_factory` (``main`` is closed, never started).
    """
    try:
        factory = loop_factory()
    except SettingsError:
        main.close()
        raise
    # What start-up built (modules, schemas, the CLI) lives as long as the process: frozen, the
    # collector stops walking it every time the services' short-lived objects trigger a full
    # collection (~5 % of a producer's CPU at thousands of alerts per second).
    gc.freeze()
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
