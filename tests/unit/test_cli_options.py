"""Every command reads a setting's flag from the one variable the settings name for it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import typer.main
from typer.core import TyperGroup, TyperOption

from intelshare.cli import app
from intelshare.runtime.settings import ENV

ALWAYS_FROM_SETTINGS = {"--bootstrap", "--prefix", "--connect-timeout", "--network"}
"""Flags that mean the same in every command that has them."""


def _commands(command: Any, path: str = "intelshare") -> dict[str, Any]:
    """Every leaf command of the tree, by its full name."""
    if isinstance(command, TyperGroup):
        found: dict[str, Any] = {}
        for name, sub in command.commands.items():
            found.update(_commands(sub, f"{path} {name}"))
        return found
    return {path: command}


def test_a_settings_flag_reads_its_settings_variable_in_every_command() -> None:
    """A flag bound to a setting's variable anywhere is bound to that variable everywhere."""
    variables: dict[str, set[tuple[str, str | None]]] = defaultdict(set)
    for name, command in _commands(typer.main.get_command(app)).items():
        for param in command.params:
            if isinstance(param, TyperOption):
                envvar = param.envvar if isinstance(param.envvar, str) else None
                for flag in (o for o in param.opts if o.startswith("--")):
                    variables[flag].add((name, envvar))
    settings_variables = set(ENV.values())
    checked = {
        flag: uses
        for flag, uses in variables.items()
        if any(envvar in settings_variables for _, envvar in uses)
    }

    assert set(checked) >= ALWAYS_FROM_SETTINGS
    for flag, uses in checked.items():
        envvars = {envvar for _, envvar in uses}
        # --country in `logs` filters log lines: a service's INTELSHARE_COUNTRY must not filter.
        allowed = 1 if flag in ALWAYS_FROM_SETTINGS else 2
        assert len(envvars - {None}) == 1, (flag, sorted(uses, key=str))
        assert len(envvars) <= allowed, (flag, sorted(uses, key=str))
