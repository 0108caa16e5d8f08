"""Any program as an agent: the prompt on stdin, the answer on stdout, exit 0 = success.

It gets ``GHW_PHASE``, ``GHW_MODE`` and ``GHW_ISSUE`` in its environment. A generic program has
no read-only mode, so read-only runs happen in a throw-away copy of the workspace.
"""

from __future__ import annotations

from ghw.agents.base import AgentRequest
from ghw.agents.cli import SubprocessAgent
from ghw.agents.parsers import StreamParser
from ghw.agents.parsers.text import TextParser

__all__ = ["CommandAgent", "request_env"]


def request_env(req: AgentRequest) -> dict[str, str]:
    """What the run is for, for programs that want to know."""
    env = {"GHW_PHASE": req.phase, "GHW_MODE": str(req.mode)}
    if req.issue:
        env["GHW_ISSUE"] = req.issue
    return env


class CommandAgent(SubprocessAgent):
    kind = "command"
    default_command = ""  # nothing sensible to guess: it must be configured
    install_hint = "set agents.<name>.command to a program on PATH (prompt on stdin, text out)"
    read_only_copy = True
    version_args = ()

    def argv(self, req: AgentRequest, program: str) -> list[str]:
        return [program, *self.settings.args]

    def adapter_env(self, req: AgentRequest) -> dict[str, str]:
        return request_env(req)

    def make_parser(self) -> StreamParser:
        return TextParser()
