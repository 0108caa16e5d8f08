"""What every phase returns: one typed :class:`PhaseOutcome`, sync and the agent phases alike.

The orchestrator only sequences phases and sums their outcomes; the type belongs to the phases,
so no phase imports the orchestrator (``ghw.orchestrator`` re-exports it for the Python API).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ghw.phases.context import Filters, PhaseContext

__all__ = ["PhaseOutcome", "PhaseRunner"]


@dataclass
class PhaseOutcome:
    name: str
    ok: bool = True
    error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    cost_usd: float = 0.0
    pr_urls: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    dry_run: list[str] = field(default_factory=list)
    fatal: bool = False  # the phase itself failed (raised), not just some issues or repositories


# A phase's entry point: coroutine(ctx, filters) -> PhaseOutcome.
PhaseRunner = Callable[[PhaseContext, Filters], Awaitable[PhaseOutcome]]
