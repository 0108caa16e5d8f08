"""Codex CLI ``codex exec --json`` (checked on 0.169.0).

A success ends with ``turn.completed`` (with usage); a failure with ``turn.failed``, after
``error`` lines such as "Reconnecting... n/5". Top-level ``error`` lines and ``error`` items are
not fatal by themselves (e.g. "Model metadata ... not found"). Codex reports no cost.
"""

from __future__ import annotations

from typing import Any

from ghw.agents.base import AgentEvent
from ghw.agents.parsers import ParsedRun, as_int, ended_without_result, load_json_line, short

__all__ = ["CodexStreamParser"]


class CodexStreamParser:
    what = "codex"

    def __init__(self) -> None:
        self._run = ParsedRun()
        self._completed = 0
        self._failed: str | None = None
        self._in = 0
        self._out = 0
        self._saw_usage = False

    def feed(self, line: str) -> list[AgentEvent]:
        obj = load_json_line(line)
        if obj is None:
            return [AgentEvent("system", short(line), {"unparsed": True})] if line.strip() else []
        kind = obj.get("type")
        if kind == "thread.started" and isinstance(obj.get("thread_id"), str):
            self._run.session_id = obj["thread_id"]
            return [AgentEvent("system", "thread.started", obj)]
        if kind in ("item.started", "item.updated", "item.completed"):
            return self._item(kind, obj.get("item") or {}, obj)
        if kind == "turn.completed":
            self._completed += 1
            usage = obj.get("usage")
            if isinstance(usage, dict):
                self._saw_usage = True
                self._in += as_int(usage.get("input_tokens"))
                self._out += as_int(usage.get("output_tokens"))
            return [AgentEvent("result", self._run.text, obj)]
        if kind == "turn.failed":
            err = obj.get("error")
            msg = err.get("message") if isinstance(err, dict) else None
            self._failed = str(msg or "turn failed")
            return [AgentEvent("result", self._failed, obj)]
        if kind == "error":
            return [AgentEvent("system", str(obj.get("message") or "error"), obj)]
        return [AgentEvent("system", str(kind or "?"), obj)]

    def _item(self, kind: str, item: dict[str, Any], obj: dict[str, Any]) -> list[AgentEvent]:
        itype = item.get("type")
        if itype == "agent_message" and kind == "item.completed":
            self._run.text = str(item.get("text") or "")
            return [AgentEvent("text", self._run.text, obj)]
        if itype == "command_execution":
            if kind == "item.started":
                return [AgentEvent("tool_use", f"exec {short(item.get('command'))}", obj)]
            if kind == "item.completed":
                out = f"exit {item.get('exit_code')}: {short(item.get('aggregated_output'))}"
                return [AgentEvent("tool_result", out, obj)]
            return []
        if itype in ("file_change", "mcp_tool_call", "web_search") and kind == "item.completed":
            return [AgentEvent("tool_use", f"{itype} {short(item)}", obj)]
        if itype == "error":
            return [AgentEvent("system", str(item.get("message") or "error"), obj)]
        return [AgentEvent("system", f"{kind} {itype}", obj)]

    def finish(self, exit_code: int | None) -> ParsedRun:
        run = self._run
        if self._saw_usage:
            run.input_tokens, run.output_tokens = self._in, self._out
        run.turns = self._completed or None
        if self._failed is not None:
            # Codex gives no status code; its failures after its own retries are API trouble.
            run.error_kind = "api_error"
            run.error = self._failed
            run.transient = True
            return run
        if not self._completed:
            return ended_without_result(run, exit_code, self.what)
        if exit_code not in (0, None):
            run.error_kind = "exit_nonzero"
            run.error = f"codex completed its turn but exited {exit_code}"
            return run
        run.success = True
        return run
