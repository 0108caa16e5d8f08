"""Claude Code (``claude``), the default agent. Verified offline on 2.1.197.

Read-only: ``--permission-mode default`` with the writing tools disallowed (its ``plan`` mode is
unreliable headless). Writing: ``bypassPermissions``, which as root needs ``IS_SANDBOX=1``.
Always ``-p --output-format stream-json --verbose`` (stream-json without --verbose exits 1), with
the prompt on stdin.
"""

from __future__ import annotations

import os

from ghw.agents.base import AgentMode, AgentRequest
from ghw.agents.cli import SubprocessAgent
from ghw.agents.parsers import StreamParser
from ghw.agents.parsers.claude import ClaudeStreamParser

__all__ = [
    "PIN",
    "QUIET_ENV",
    "READ_ONLY_DISALLOWED",
    "ClaudeCodeAgent",
]

PIN = "2.1.197"  # the newest release that runs on Node 20; the one ghw's tests drive
# Bash can write anything; worktrees write .git; subagents (Task/Agent) could carry writing tools.
READ_ONLY_DISALLOWED = "Write,Edit,MultiEdit,NotebookEdit,Bash,EnterWorktree,Task,Agent"

# Keep every connection on the configured API: without these the CLI also calls Anthropic's
# own hosts (telemetry, updates, bootstrap) whatever ANTHROPIC_BASE_URL says.
QUIET_ENV = {
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_BUG_COMMAND": "1",
}


class ClaudeCodeAgent(SubprocessAgent):
    kind = "claude-code"
    default_command = "claude"
    install_hint = f"install it with: npm install -g @anthropic-ai/claude-code@{PIN}"

    def argv(self, req: AgentRequest, program: str) -> list[str]:
        argv = [program, "-p", "--output-format", "stream-json", "--verbose"]
        if req.mode is AgentMode.READ_ONLY:
            argv += ["--permission-mode", "default", "--disallowedTools", READ_ONLY_DISALLOWED]
        else:
            argv += ["--permission-mode", "bypassPermissions"]
        if self.settings.model:
            argv += ["--model", self.settings.model]
        return argv + list(self.settings.args)

    def adapter_env(self, req: AgentRequest) -> dict[str, str]:
        env = dict(QUIET_ENV)
        if req.mode is AgentMode.WRITE and os.geteuid() == 0:
            env["IS_SANDBOX"] = "1"  # else bypassPermissions refuses to run as root (exit 1)
        return env

    def make_parser(self) -> StreamParser:
        return ClaudeStreamParser()
