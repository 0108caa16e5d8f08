"""Built-in agents by name. Adding an agent = one module + one line here."""

from __future__ import annotations

import importlib
from types import MappingProxyType

from ghw.agents.base import Agent, AgentSettings
from ghw.errors import ConfigError

__all__ = ["ADAPTERS", "DEFAULT_AGENT", "adapter_name", "known_agents", "make_agent"]

DEFAULT_AGENT = "claude-code"

# name -> "module:class", imported only when used.
ADAPTERS = MappingProxyType(
    {
        "claude-code": "ghw.agents.claude_code:ClaudeCodeAgent",
        "codex": "ghw.agents.codex:CodexAgent",
        "gemini": "ghw.agents.gemini:GeminiAgent",
        "opencode": "ghw.agents.opencode:OpencodeAgent",
        "cursor-agent": "ghw.agents.cursor_agent:CursorAgent",
        "command": "ghw.agents.command:CommandAgent",
        "scripted": "ghw.agents.scripted:ScriptedAgent",
    }
)


def known_agents() -> tuple[str, ...]:
    return tuple(ADAPTERS)


def adapter_name(settings: AgentSettings) -> str:
    """Which adapter runs these settings: the name itself, or ``extra["type"]`` for a
    user-named agent (e.g. ``agents.claude-fast: {type: claude-code, model: ...}``)."""
    if settings.name in ADAPTERS:
        return settings.name
    kind = settings.extra.get("type")
    if isinstance(kind, str) and kind in ADAPTERS:
        return kind
    raise ConfigError(
        f"unknown agent {settings.name!r}: use one of {', '.join(ADAPTERS)}, "
        f"or set agents.{settings.name}.type to one of them"
    )


def make_agent(settings: AgentSettings) -> Agent:
    module, _, cls = ADAPTERS[adapter_name(settings)].partition(":")
    agent: Agent = getattr(importlib.import_module(module), cls)(settings)
    return agent
