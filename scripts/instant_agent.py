"""A zero-time, in-process agent for load tests and benchmarks: no child process, no model.

``install()`` makes every configured agent this one (it patches the two places ghw builds agents),
so what is measured is ghw itself: ledger, GitHub calls, git, files. Plan and review answer at
once with a verdict; implement writes ``INSTANT-<n>.md`` into the workspace.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ghw.agents.base import AgentCheck, AgentMode, AgentRequest, AgentResult, AgentSettings

__all__ = ["InstantAgent", "install"]


class InstantAgent:
    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings
        self.name = settings.name

    async def run(self, req: AgentRequest) -> AgentResult:
        started = time.perf_counter()
        number = (req.issue or "x#0").rsplit("#", 1)[-1]
        if req.mode == AgentMode.WRITE:
            Path(req.cwd, f"INSTANT-{number}.md").write_text(f"change for {req.issue}\n")
        text = f"Instant {req.phase} for {req.issue}.\nVERDICT: approve"
        return AgentResult(
            success=True,
            text=text,
            agent=self.name,
            duration_s=time.perf_counter() - started,
            exit_code=0,
            cost_usd=0.0,
        )

    def check(self, environ: Mapping[str, str] | None = None) -> AgentCheck:
        return AgentCheck(installed=True, version="instant", path=None, install_hint="")


def _make(settings: AgentSettings) -> Any:
    return InstantAgent(settings)


def install(patch: Any = None) -> None:
    """Use InstantAgent for every agent; ``patch`` is e.g. pytest's ``monkeypatch.setattr``."""
    import ghw.agents.check as check
    import ghw.phases.worker as worker

    setter = patch or setattr
    setter(worker, "make_agent", _make)
    setter(check, "make_agent", _make)
