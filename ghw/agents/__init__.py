"""Coding-agent adapters (product spec §5): one interface, one small module per CLI.

agent = make_agent(AgentSettings(name="claude-code", timeout=1800))
result = await agent.run(AgentRequest(prompt=..., cwd=..., mode=AgentMode.WRITE, ...))
"""

from __future__ import annotations

from ghw.agents.base import (
    Agent,
    AgentCheck,
    AgentEvent,
    AgentMode,
    AgentRequest,
    AgentResult,
    AgentSettings,
)
from ghw.agents.check import AgentCheckRow, check_agents, ensure_installed
from ghw.agents.env import build_agent_env, prepare_ghw_home
from ghw.agents.process import kill_recorded_group, process_start_time
from ghw.agents.registry import DEFAULT_AGENT, known_agents, make_agent
from ghw.agents.transcript import transcript_path

__all__ = [
    "DEFAULT_AGENT",
    "Agent",
    "AgentCheck",
    "AgentCheckRow",
    "AgentEvent",
    "AgentMode",
    "AgentRequest",
    "AgentResult",
    "AgentSettings",
    "build_agent_env",
    "check_agents",
    "ensure_installed",
    "kill_recorded_group",
    "known_agents",
    "make_agent",
    "prepare_ghw_home",
    "process_start_time",
    "transcript_path",
]
