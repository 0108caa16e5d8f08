"""The scripted agent: no model, a YAML script of per-issue edits and texts.

Used by ``ghw demo`` and most phase tests. It still runs as a child process
(:mod:`ghw.agents.scripted_runner`), so everything around the process is the real thing.
Settings: ``extra["script"]`` (path, optional) and ``extra["delay"]`` (seconds or a duration
such as ``"2s"``, default 0).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import ghw
from ghw.agents.base import AgentCheck, AgentRequest
from ghw.agents.cli import SubprocessAgent
from ghw.agents.command import request_env
from ghw.agents.parsers import StreamParser
from ghw.agents.parsers.claude import ClaudeStreamParser
from ghw.agents.scripted_script import ScriptError, load_script
from ghw.durations import parse_duration

__all__ = ["ScriptedAgent", "delay_seconds"]

_GHW_ROOT = str(Path(ghw.__file__).resolve().parent.parent)
_RUNNER = str(Path(__file__).resolve().with_name("scripted_runner.py"))


def delay_seconds(value: Any) -> float:
    """``agents.scripted.delay`` as seconds: a number, a timedelta or a duration string."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return parse_duration(str(value)).total_seconds()


class ScriptedAgent(SubprocessAgent):
    kind = "scripted"
    default_command = sys.executable
    install_hint = "built in (runs with ghw's own Python)"
    version_args = ()

    @property
    def command(self) -> str:
        return self.settings.command or sys.executable

    @property
    def script_path(self) -> Path | None:
        raw = self.settings.extra.get("script")
        return Path(str(raw)).expanduser() if raw else None

    def argv(self, req: AgentRequest, program: str) -> list[str]:
        # -P: the workspace (cwd) must not shadow ghw's modules.
        # Run by path: importing the ghw.agents package would cost each run 0.2 s.
        argv = [program, "-P", _RUNNER]
        argv += ["--phase", req.phase, "--mode", str(req.mode)]
        if req.issue:
            argv += ["--issue", req.issue]
        if self.script_path is not None:
            argv += ["--script", str(self.script_path.resolve())]
        argv += ["--delay", str(delay_seconds(self.settings.extra.get("delay")))]
        return argv + list(self.settings.args)

    def adapter_env(self, req: AgentRequest) -> dict[str, str]:
        # The clean environment has no PYTHONPATH; point it at the ghw that is running now.
        return {**request_env(req), "PYTHONPATH": _GHW_ROOT, "PYTHONDONTWRITEBYTECODE": "1"}

    def make_parser(self) -> StreamParser:
        return ClaudeStreamParser()

    def check(self, environ: Mapping[str, str] | None = None) -> AgentCheck:
        path = self.script_path
        if path is not None:
            try:
                load_script(path)
            except ScriptError as exc:
                return AgentCheck(False, None, None, f"fix agents.{self.name}.script: {exc}")
        return AgentCheck(
            True, f"ghw {ghw.__version__} (scripted)", self.command, self.install_hint
        )
