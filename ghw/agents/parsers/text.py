"""Plain text output (the ``command`` agent): every stdout line is part of the answer."""

from __future__ import annotations

from ghw.agents.base import AgentEvent
from ghw.agents.parsers import INTERRUPT_EXIT_CODES, ParsedRun

__all__ = ["TextParser"]


class TextParser:
    what = "command"

    def __init__(self) -> None:
        self._lines: list[str] = []

    def feed(self, line: str) -> list[AgentEvent]:
        self._lines.append(line)
        return [AgentEvent("text", line, {})]

    def finish(self, exit_code: int | None) -> ParsedRun:
        run = ParsedRun(text="\n".join(self._lines).strip("\n"))
        if exit_code == 0:
            run.success = True
        elif exit_code is not None and (exit_code < 0 or exit_code in INTERRUPT_EXIT_CODES):
            run.error_kind = "interrupted"
            run.error = f"command was killed (exit {exit_code})"
            run.transient = True
        else:
            # A generic program gives no reason; ghw cannot tell a flaky failure from a real one.
            run.error_kind = "exit_nonzero"
            run.error = f"command exited {exit_code}"
        return run
