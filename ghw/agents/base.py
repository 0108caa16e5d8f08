"""The one adapter interface every coding agent implements (product spec §5).

Phases build an :class:`AgentRequest`, call ``await agent.run(request)`` and get an
:class:`AgentResult` back; they never see which CLI ran or how its output looked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, Protocol, runtime_checkable

__all__ = [
    "DEFAULT_GRACE_S",
    "DEFAULT_TIMEOUT_S",
    "Agent",
    "AgentCheck",
    "AgentEvent",
    "AgentMode",
    "AgentRequest",
    "AgentResult",
    "AgentSettings",
    "ErrorKind",
    "EventKind",
    "OnEvent",
    "OnSpawn",
]

DEFAULT_TIMEOUT_S = 30 * 60.0  # agents.<name>.timeout default: 30m
DEFAULT_GRACE_S = 10.0  # shutdown.grace default: 10s

EventKind = Literal["text", "tool_use", "tool_result", "result", "stderr", "system"]

# Why an agent run failed. ``transient`` on the result says whether a later cycle may retry.
ErrorKind = Literal[
    "timeout",  # ghw's deadline ended the run (transient)
    "api_error",  # the model API failed (5xx/429/overload: transient; other 4xx: permanent)
    "auth_error",  # the CLI has no usable credentials (permanent)
    "no_result",  # the process ended without its final result line (transient)
    "interrupted",  # killed by a signal ghw did not send, or ghw was cancelled (transient)
    "exit_nonzero",  # a result was reported but the exit code says failure (permanent)
    "agent_error",  # the CLI reported a failure of its own: max turns, budget, crash (permanent)
    "not_installed",  # the command is not on PATH (permanent)
    "spawn_error",  # the command exists but could not be started (permanent)
    "bad_output",  # the output could not be understood (permanent)
    "scripted_failure",  # a scripted agent's script asked for a permanent failure
]


class AgentMode(StrEnum):
    """Read-only for plan and review, writing for implement."""

    READ_ONLY = "read_only"
    WRITE = "write"


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class AgentSettings:
    """One ``agents.<name>`` block of the configuration, already validated.

    ``env`` values may hold ``${VAR}`` references, resolved from ghw's environment at spawn.
    ``extra`` carries adapter-specific keys (scripted: ``script``, ``delay``; any adapter:
    ``type`` to reuse a built-in adapter under another name).
    """

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    model: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    env: Mapping[str, str] = field(default_factory=dict)
    grace: float = DEFAULT_GRACE_S
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Frozen dataclass: make the maps read-only too, so settings can be shared between runs.
        object.__setattr__(self, "args", tuple(self.args))
        # Accept durations as timedelta too (the config layer parses `30m`).
        for name in ("timeout", "grace"):
            value = getattr(self, name)
            if isinstance(value, timedelta):
                object.__setattr__(self, name, value.total_seconds())
        object.__setattr__(self, "env", _frozen(self.env))
        object.__setattr__(self, "extra", _frozen(self.extra))


@dataclass(frozen=True)
class AgentEvent:
    """One thing the agent did, as it happened (for progress output and logs)."""

    kind: EventKind
    text: str
    data: Mapping[str, Any] = field(default_factory=dict)


OnEvent = Callable[[AgentEvent], None]
# Called right after spawn with (process group id, leader start time) so the caller can write
# both into its lease row before anything else happens.
OnSpawn = Callable[[int, float], Awaitable[None] | None]


@dataclass(frozen=True)
class AgentRequest:
    """Everything one agent run needs. ``parent_env`` is only read, never copied wholesale."""

    prompt: str
    cwd: Path
    mode: AgentMode
    phase: str  # "plan" | "implement" | "review"
    ghw_home: Path  # ghw-owned dir: GIT_CONFIG_GLOBAL file and the empty GH_CONFIG_DIR live here
    issue: str | None = None  # "owner/repo#N"
    transcript_path: Path | None = None
    on_event: OnEvent | None = None
    on_spawn: OnSpawn | None = None
    secrets: Sequence[str] = ()  # redacted from transcripts and kept out of the environment
    parent_env: Mapping[str, str] = field(default_factory=dict)
    # Variable names that must never reach the agent besides GITHUB_TOKEN and GH_TOKEN
    # (github.token_env).
    secret_env_names: Sequence[str] = ()
    # Set it to end the run early (SIGTERM, grace, SIGKILL) and get an "interrupted" result;
    # cancelling the task that awaits run() does the same but raises CancelledError.
    stop: asyncio.Event | None = None


@dataclass(frozen=True)
class AgentResult:
    """The outcome of one run. ``success`` is the only field a phase must look at first."""

    success: bool
    text: str
    agent: str
    duration_s: float
    exit_code: int | None = None
    session_id: str | None = None
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    turns: int | None = None
    model: str | None = None
    error_kind: ErrorKind | None = None
    error: str | None = None
    transient: bool = False
    transcript_path: Path | None = None
    transcript_sha256: str | None = None
    # Tools the CLI refused (Claude Code reports them; a refused write in read-only mode is not
    # a failure, but the plan phase notes it).
    permission_denials: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgentCheck:
    """Whether an agent can run here, for ``ghw agents --check`` and ``ensure_installed``."""

    installed: bool
    version: str | None
    path: str | None
    install_hint: str


@runtime_checkable
class Agent(Protocol):
    name: str
    settings: AgentSettings

    async def run(self, req: AgentRequest) -> AgentResult: ...

    def check(self, environ: Mapping[str, str] | None = None) -> AgentCheck:
        """Installed and usable, looked up on ``environ``'s PATH (default: this process's)."""
        ...
