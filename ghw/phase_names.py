"""The phases' names, for the layers below ``ghw/phases/`` that key things by phase: the
configuration (``agent.<phase>``, ``<phase>.parallelism``, ``prompts.<phase>``) and the
scripted agent's script. ``ghw/phases/registry.py`` declares the phases themselves and checks
at import that its rows carry exactly these names, in this order."""

from __future__ import annotations

__all__ = ["AGENT_PHASE_NAMES", "PHASE_NAMES"]

# workflow order
PHASE_NAMES: tuple[str, ...] = ("sync", "plan", "implement", "review", "revise")
# the phases that run an agent (each has agent.<name>, <name>.parallelism, prompts.<name>)
AGENT_PHASE_NAMES: tuple[str, ...] = ("plan", "implement", "review", "revise")
