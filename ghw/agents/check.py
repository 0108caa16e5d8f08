"""``ghw agents [--check]`` rows and the "is this agent installed?" guard."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ghw.agents.base import AgentSettings
from ghw.agents.registry import make_agent
from ghw.errors import AgentNotInstalledError

__all__ = ["AgentCheckRow", "check_agents", "ensure_installed"]


@dataclass(frozen=True)
class AgentCheckRow:
    name: str
    phases: tuple[str, ...]  # the phases configured to use it (empty: configured, unused)
    command: str
    installed: bool
    version: str | None
    path: str | None
    install_hint: str


async def check_agents(
    settings_by_name: Mapping[str, AgentSettings],
    used_by: Mapping[str, Sequence[str]],
    environ: Mapping[str, str] | None = None,
) -> list[AgentCheckRow]:
    """One row per configured agent (and per agent a phase uses), checked concurrently.

    ``used_by`` maps an agent name to the phases that use it. An agent named in ``used_by``
    without settings is checked with default settings.
    """
    names = sorted(set(settings_by_name) | set(used_by))

    async def one(name: str) -> AgentCheckRow:
        settings = settings_by_name.get(name) or AgentSettings(name=name)
        agent = make_agent(settings)
        # check() runs `<cli> --version`; keep the event loop free meanwhile.
        result = await asyncio.to_thread(agent.check, environ)
        command = getattr(agent, "command", settings.command or name)
        return AgentCheckRow(
            name=name,
            phases=tuple(used_by.get(name, ())),
            command=str(command),
            installed=result.installed,
            version=result.version,
            path=result.path,
            install_hint=result.install_hint,
        )

    return list(await asyncio.gather(*(one(n) for n in names)))


def ensure_installed(settings: AgentSettings, environ: Mapping[str, str] | None = None) -> None:
    """Raise AgentNotInstalledError (exit 2) naming the agent and how to install it; the CLI
    is looked up on ``environ``'s PATH, the one it will run with."""
    agent = make_agent(settings)
    result = agent.check(environ)
    if not result.installed:
        command = str(getattr(agent, "command", settings.command or settings.name))
        path = (os.environ if environ is None else environ).get("PATH")
        if command and shutil.which(command, path=path):
            # Present but unusable (e.g. the scripted agent's script is invalid).
            raise AgentNotInstalledError(
                f"agent {settings.name!r} cannot run: {result.install_hint}"
            )
        raise AgentNotInstalledError(
            f"agent {settings.name!r} is configured but {command!r} is not installed "
            f"(not found on PATH); {result.install_hint}"
        )
