"""opencode ``run --format json`` (checked on 1.18.33 transcripts).

Events: ``step_start``, ``text``, ``tool_use``, ``step_finish`` (tokens, cost, reason) and
``error``. The answer is the text of the last step; a run is complete when its last step
finished with a reason other than ``tool-calls``.
"""

from __future__ import annotations

from typing import Any

from ghw.agents.base import AgentEvent
from ghw.agents.parsers import (
    ParsedRun,
    api_status_transient,
    as_float,
    as_int,
    ended_without_result,
    load_json_line,
    short,
)

__all__ = ["OpencodeStreamParser"]


class OpencodeStreamParser:
    what = "opencode"

    def __init__(self) -> None:
        self._run = ParsedRun()
        self._step_text: list[str] = []
        self._last_reason: str | None = None
        self._steps = 0
        self._in = self._out = 0
        self._cost = 0.0
        self._error: dict[str, Any] | None = None

    def feed(self, line: str) -> list[AgentEvent]:
        obj = load_json_line(line)
        if obj is None:
            return [AgentEvent("system", short(line), {"unparsed": True})] if line.strip() else []
        if isinstance(obj.get("sessionID"), str) and self._run.session_id is None:
            self._run.session_id = obj["sessionID"]
        kind = obj.get("type")
        part = obj.get("part") if isinstance(obj.get("part"), dict) else {}
        if kind == "step_start":
            self._step_text = []
            return [AgentEvent("system", "step_start", obj)]
        if kind == "text":
            text = str(part.get("text") or "")
            self._step_text.append(text)
            return [AgentEvent("text", text, obj)]
        if kind == "tool_use":
            state = part.get("state") if isinstance(part.get("state"), dict) else {}
            tool = part.get("tool")
            return [
                AgentEvent("tool_use", f"{tool} {short(state.get('input'))}", obj),
                AgentEvent("tool_result", short(state.get("output") or ""), obj),
            ]
        if kind == "step_finish":
            self._steps += 1
            self._last_reason = str(part.get("reason") or "")
            tokens = part.get("tokens") if isinstance(part.get("tokens"), dict) else {}
            cache = tokens.get("cache") if isinstance(tokens.get("cache"), dict) else {}
            self._in += (
                as_int(tokens.get("input")) + as_int(cache.get("read")) + as_int(cache.get("write"))
            )
            self._out += as_int(tokens.get("output")) + as_int(tokens.get("reasoning"))
            self._cost += as_float(part.get("cost")) or 0.0
            return [AgentEvent("system", f"step_finish {self._last_reason}", obj)]
        if kind == "error":
            err = obj.get("error")
            self._error = err if isinstance(err, dict) else {"message": str(err)}
            return [AgentEvent("system", short(self._error), obj)]
        return [AgentEvent("system", str(kind or "?"), obj)]

    def finish(self, exit_code: int | None) -> ParsedRun:
        run = self._run
        run.text = "".join(self._step_text)
        if self._steps:
            run.input_tokens, run.output_tokens = self._in, self._out
            run.cost_usd = self._cost
            run.turns = self._steps
        if self._error is not None:
            data = self._error.get("data") if isinstance(self._error.get("data"), dict) else {}
            run.error = str(data.get("message") or self._error.get("message") or self._error)
            status = data.get("statusCode")
            name = str(self._error.get("name") or "")
            if "auth" in name.lower() or status in (401, 403):
                run.error_kind = "auth_error"
            else:
                run.error_kind = "api_error" if status or "API" in name else "agent_error"
                run.transient = run.error_kind == "api_error" and api_status_transient(
                    status if isinstance(status, int) else None
                )
            return run
        if not self._steps or self._last_reason == "tool-calls":
            return ended_without_result(run, exit_code, self.what)
        if exit_code not in (0, None):
            run.error_kind = "exit_nonzero"
            run.error = f"opencode finished but exited {exit_code}"
            return run
        run.success = True
        return run
