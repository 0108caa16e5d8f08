"""Cursor's CLI (``cursor-agent -p --output-format stream-json``) — UNVERIFIED.

cursor-agent is not published on npm and its documentation could not be reached when this was
written; command line and output format are assumptions recorded in docs/adr/0024. Read-only runs
use a throw-away copy of the workspace and omit ``--force`` (which allows writes and commands).
"""

from __future__ import annotations

from ghw.agents.base import AgentMode, AgentRequest
from ghw.agents.cli import SubprocessAgent
from ghw.agents.parsers import StreamParser
from ghw.agents.parsers.cursor import CursorStreamParser

__all__ = ["CursorAgent"]


class CursorAgent(SubprocessAgent):
    kind = "cursor-agent"
    default_command = "cursor-agent"
    install_hint = (
        "cursor-agent is not on npm; install it with Cursor's installer "
        "(curl https://cursor.com/install -fsS | bash) or set agents.cursor-agent.command"
    )
    read_only_copy = True

    def argv(self, req: AgentRequest, program: str) -> list[str]:
        argv = [program, "-p", "--output-format", "stream-json"]
        if req.mode is AgentMode.WRITE:
            argv.append("--force")
        if self.settings.model:
            argv += ["--model", self.settings.model]
        return [*argv, *self.settings.args, req.prompt]

    def stdin_data(self, req: AgentRequest) -> bytes | None:
        return None

    def make_parser(self) -> StreamParser:
        return CursorStreamParser()
