"""OpenAI Codex CLI (``codex exec --json``). Verified offline on 0.169.0.

Read-only: ``-s read-only`` (Codex's own sandbox). Writing: ``-s workspace-write`` (works as
root; in ``exec`` the approval policy is already "never"). The prompt comes on stdin (``-``);
``analytics.enabled=false`` avoids a multi-second wait at exit. The model provider is the user's
Codex configuration (``CODEX_HOME``) or ``-c`` options in ``agents.codex.args``.
"""

from __future__ import annotations

from ghw.agents.base import AgentMode, AgentRequest
from ghw.agents.cli import SubprocessAgent
from ghw.agents.parsers import StreamParser
from ghw.agents.parsers.codex import CodexStreamParser

__all__ = [
    "PIN",
    "CodexAgent",
]

PIN = "0.169.0"


class CodexAgent(SubprocessAgent):
    kind = "codex"
    default_command = "codex"
    install_hint = f"install it with: npm install -g @openai/codex@{PIN}"

    def argv(self, req: AgentRequest, program: str) -> list[str]:
        sandbox = "read-only" if req.mode is AgentMode.READ_ONLY else "workspace-write"
        argv = [
            program,
            "exec",
            "--json",
            "--skip-git-repo-check",
            "-s",
            sandbox,
            "-c",
            "analytics.enabled=false",
        ]
        if self.settings.model:
            argv += ["-m", self.settings.model]
        return [*argv, *self.settings.args, "-"]

    def make_parser(self) -> StreamParser:
        return CodexStreamParser()
