"""Gemini CLI (``gemini -p … --output-format stream-json``). Parser checked on 0.61.0
transcripts; the adapter itself is not driven in ghw's tests.

Writing: ``--yolo --skip-trust`` (without ``--skip-trust`` an untrusted folder downgrades yolo).
Read-only: the default approval mode, in which headless Gemini does not offer writing tools;
because that is observed rather than promised, read-only runs also use a throw-away copy.
Headless mode prepends stdin to ``-p``, so the prompt goes on stdin with a short ``-p``.
"""

from __future__ import annotations

from ghw.agents.base import AgentMode, AgentRequest
from ghw.agents.cli import SubprocessAgent
from ghw.agents.parsers import StreamParser
from ghw.agents.parsers.gemini import GeminiStreamParser

__all__ = [
    "PIN",
    "GeminiAgent",
]

PIN = "0.61.0"


class GeminiAgent(SubprocessAgent):
    kind = "gemini"
    default_command = "gemini"
    install_hint = f"install it with: npm install -g @google/gemini-cli@{PIN}"
    read_only_copy = True

    def argv(self, req: AgentRequest, program: str) -> list[str]:
        argv = [program, "-p", "Do the task described above.", "--output-format", "stream-json"]
        if req.mode is AgentMode.WRITE:
            argv += ["--yolo", "--skip-trust"]
        else:
            argv += ["--approval-mode", "default", "--skip-trust"]
        if self.settings.model:
            argv += ["-m", self.settings.model]  # also skips the model-routing call
        return argv + list(self.settings.args)

    def make_parser(self) -> StreamParser:
        return GeminiStreamParser()
