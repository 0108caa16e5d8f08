"""opencode (``opencode run --format json``). Parser checked on 1.18.33 transcripts; the adapter
itself is not driven in ghw's tests.

opencode has no verified headless read-only switch, so read-only runs use a throw-away copy of
the workspace. The prompt is an argument (``run`` takes it positionally).
"""

from __future__ import annotations

from ghw.agents.base import AgentRequest
from ghw.agents.cli import SubprocessAgent
from ghw.agents.parsers import StreamParser
from ghw.agents.parsers.opencode import OpencodeStreamParser

__all__ = [
    "PIN",
    "QUIET_ENV",
    "OpencodeAgent",
]

PIN = "1.18.33"

QUIET_ENV = {
    "OPENCODE_DISABLE_AUTOUPDATE": "1",
    "OPENCODE_DISABLE_MODELS_FETCH": "1",
    "OPENCODE_DISABLE_SHARE": "1",
}


class OpencodeAgent(SubprocessAgent):
    kind = "opencode"
    default_command = "opencode"
    install_hint = f"install it with: npm install -g opencode-ai@{PIN}"
    read_only_copy = True

    def argv(self, req: AgentRequest, program: str) -> list[str]:
        argv = [program, "run", "--format", "json"]
        if self.settings.model:
            argv += ["-m", self.settings.model]
        return [*argv, *self.settings.args, req.prompt]

    def stdin_data(self, req: AgentRequest) -> bytes | None:
        return None

    def adapter_env(self, req: AgentRequest) -> dict[str, str]:
        return dict(QUIET_ENV)

    def make_parser(self) -> StreamParser:
        return OpencodeStreamParser()
