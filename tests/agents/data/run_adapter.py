"""Runs one agent through its adapter in a process of its own, for the SIGKILL tests.

Usage: python run_adapter.py KIND WORKSPACE GHW_HOME SPAWN_FILE [ARGS...]
Writes "<pgid> <leader start>" to SPAWN_FILE once the agent is spawned, then waits for it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from ghw.agents import AgentEvent, AgentMode, AgentRequest, AgentSettings, make_agent


async def main() -> None:
    kind, workspace, ghw_home, spawn_file, *args = sys.argv[1:]
    if kind == "command":
        settings = AgentSettings(name="command", command="sh", args=tuple(args), timeout=120)
    else:
        settings = AgentSettings(name="scripted", extra={"delay": float(args[0])}, timeout=120)

    def on_spawn(pgid: int, start: float) -> None:
        tmp = spawn_file + ".tmp"
        Path(tmp).write_text(f"{pgid} {start!r}\n")
        os.replace(tmp, spawn_file)

    def on_event(event: AgentEvent) -> None:
        # The agent printed something: it is past reading its prompt and now working (the test
        # must not kill ghw while the agent still waits on stdin, or the pipe's EOF ends it).
        if event.kind == "text":
            Path(spawn_file + ".running").write_text("1\n")

    await make_agent(settings).run(
        AgentRequest(
            prompt="long task",
            cwd=Path(workspace),
            mode=AgentMode.WRITE,
            phase="implement",
            issue="o/r#1",
            ghw_home=Path(ghw_home),
            on_spawn=on_spawn,
            on_event=on_event,
            parent_env=dict(os.environ),
        )
    )


asyncio.run(main())
