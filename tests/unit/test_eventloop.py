"""Choosing the event loop the commands run on."""

from __future__ import annotations

import asyncio

import pytest

from intelshare.errors import SettingsError
from intelshare.runtime import eventloop


def test_the_default_is_asyncios_own_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the variable, commands run on asyncio's standard loop."""
    monkeypatch.delenv(eventloop.ENV, raising=False)

    assert eventloop.loop_factory() is None


def test_uvloop_runs_a_command_when_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    """INTELSHARE_EVENT_LOOP=uvloop runs the coroutine on a uvloop loop."""
    monkeypatch.setenv(eventloop.ENV, "uvloop")

    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert eventloop.run(loop_module()).startswith("uvloop")


def test_an_unknown_loop_is_refused_naming_the_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    """A typo is a settings error that names the variable and what it may be."""
    monkeypatch.setenv(eventloop.ENV, "trio")

    async def never() -> None:
        raise AssertionError

    with pytest.raises(SettingsError, match="INTELSHARE_EVENT_LOOP must be one of asyncio, uvloop"):
        eventloop.run(never())
