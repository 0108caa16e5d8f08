"""Gemini CLI ``-p … --output-format stream-json`` (checked on 0.61.0 transcripts).

Assistant text arrives as ``message`` events with ``delta: true`` pieces; the final answer is
the text after the last tool call. ``result`` carries ``status`` and ``stats`` tokens; failures
carry an ``error`` object and exit non-zero (41 auth, 42 input, 52 config, 53 turn limit).
"""

from __future__ import annotations

from ghw.agents.base import AgentEvent
from ghw.agents.parsers import ParsedRun, as_int, ended_without_result, load_json_line, short

__all__ = ["GeminiStreamParser"]

_EXIT_KINDS = {41: "auth_error", 42: "agent_error", 52: "agent_error", 53: "agent_error"}


class GeminiStreamParser:
    what = "gemini"

    def __init__(self) -> None:
        self._run = ParsedRun()
        self._text_parts: list[str] = []
        self._result: dict[str, object] | None = None
        self._errors: list[str] = []
        self._tool_calls = 0

    def feed(self, line: str) -> list[AgentEvent]:
        obj = load_json_line(line)
        if obj is None:
            return [AgentEvent("system", short(line), {"unparsed": True})] if line.strip() else []
        kind = obj.get("type")
        if kind == "init":
            if isinstance(obj.get("session_id"), str):
                self._run.session_id = obj["session_id"]
            if isinstance(obj.get("model"), str):
                self._run.model = obj["model"]
            return [AgentEvent("system", "init", obj)]
        if kind == "message":
            if obj.get("role") != "assistant":
                return []  # the prompt echoed back
            piece = str(obj.get("content") or "")
            if not obj.get("delta"):
                self._text_parts = []
            self._text_parts.append(piece)
            return [AgentEvent("text", piece, obj)]
        if kind == "tool_use":
            self._tool_calls += 1
            self._text_parts = []  # text before a tool call is narration, not the answer
            name = obj.get("tool_name")
            return [AgentEvent("tool_use", f"{name} {short(obj.get('parameters'))}", obj)]
        if kind == "tool_result":
            out = f"{obj.get('status')}: {short(obj.get('output') or obj.get('error') or '')}"
            return [AgentEvent("tool_result", out, obj)]
        if kind == "error":
            self._errors.append(str(obj.get("message") or "error"))
            return [AgentEvent("system", self._errors[-1], obj)]
        if kind == "result":
            self._result = obj
            return [AgentEvent("result", "".join(self._text_parts), obj)]
        return [AgentEvent("system", str(kind or "?"), obj)]

    def finish(self, exit_code: int | None) -> ParsedRun:
        run, res = self._run, self._result
        run.text = "".join(self._text_parts)
        if res is None:
            if exit_code in _EXIT_KINDS:
                run.error_kind = _EXIT_KINDS[exit_code]  # type: ignore[assignment]
                run.error = "; ".join(self._errors) or f"gemini exited {exit_code}"
                return run
            return ended_without_result(run, exit_code, self.what)
        stats = res.get("stats")
        if isinstance(stats, dict):
            run.input_tokens = as_int(stats.get("input_tokens"))
            run.output_tokens = as_int(stats.get("output_tokens"))
        run.turns = None  # not reported
        if res.get("status") != "success":
            err = res.get("error")
            msg = err.get("message") if isinstance(err, dict) else None
            run.error = str(msg or "; ".join(self._errors) or f"status {res.get('status')}")
            run.error_kind = _EXIT_KINDS.get(exit_code or 0, "api_error")  # type: ignore[assignment]
            run.transient = run.error_kind == "api_error"
            return run
        if exit_code not in (0, None):
            run.error_kind = "exit_nonzero"
            run.error = f"gemini reported success but exited {exit_code}"
            return run
        run.success = True
        return run
