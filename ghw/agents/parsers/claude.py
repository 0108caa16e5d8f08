"""Claude Code ``-p --output-format stream-json --verbose`` (checked on 2.1.197 and 2.1.330).

Traps handled (see docs/agents.md): an API failure says ``subtype: success`` with
``is_error: true``; SIGTERM exits 143 with no result line; SIGINT may exit 0 with no result
line; a tool refused in default mode is not an error but is listed in ``permission_denials``.
Key order is not stable, so only parsed JSON is looked at.
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

__all__ = ["ClaudeStreamParser"]

_SUBTYPE_KINDS = {
    "error_max_turns": "agent_error",
    "error_max_budget_usd": "agent_error",
    "error_during_execution": "agent_error",
}


class ClaudeStreamParser:
    """Also used for the scripted agent and (unverified) cursor-agent, which print the same."""

    what = "claude"

    def __init__(self) -> None:
        self._run = ParsedRun()
        self._result: dict[str, Any] | None = None
        self._last_text = ""
        self._last_api_status: int | None = None

    def feed(self, line: str) -> list[AgentEvent]:
        obj = load_json_line(line)
        if obj is None:
            return [AgentEvent("system", short(line), {"unparsed": True})] if line.strip() else []
        kind = obj.get("type")
        sid = obj.get("session_id")
        if isinstance(sid, str) and sid and self._run.session_id is None:
            # Read it from the first line (init): a run killed half-way can still be resumed.
            self._run.session_id = sid
        if kind == "system":
            return self._system(obj)
        if kind == "assistant":
            return self._assistant(obj)
        if kind == "user":
            return self._user(obj)
        if kind == "result":
            self._result = obj
            text = obj.get("result")
            return [AgentEvent("result", text if isinstance(text, str) else "", obj)]
        return [AgentEvent("system", short(obj), obj)]

    def _system(self, obj: dict[str, Any]) -> list[AgentEvent]:
        sub = obj.get("subtype")
        if sub == "init" and isinstance(obj.get("model"), str):
            self._run.model = obj["model"]
        if sub == "api_retry" and isinstance(obj.get("error_status"), int):
            self._last_api_status = obj["error_status"]
        return [AgentEvent("system", str(sub or "system"), obj)]

    def _assistant(self, obj: dict[str, Any]) -> list[AgentEvent]:
        msg = obj.get("message") or {}
        events = []
        for block in msg.get("content") or []:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                self._last_text = block["text"]
                events.append(AgentEvent("text", block["text"], obj))
            elif block.get("type") == "tool_use":
                name = str(block.get("name") or "?")
                events.append(AgentEvent("tool_use", f"{name} {short(block.get('input'))}", obj))
        return events

    def _user(self, obj: dict[str, Any]) -> list[AgentEvent]:
        content = (obj.get("message") or {}).get("content")
        events = []
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    body = block.get("content")
                    events.append(AgentEvent("tool_result", short(body), obj))
        return events

    def finish(self, exit_code: int | None) -> ParsedRun:
        run, res = self._run, self._result
        if res is None:
            run.text = self._last_text
            return ended_without_result(run, exit_code, self.what)
        text = res.get("result")
        run.text = text if isinstance(text, str) else self._last_text
        if isinstance(res.get("session_id"), str):
            run.session_id = res["session_id"]
        run.cost_usd = as_float(res.get("total_cost_usd"))
        usage = res.get("usage")
        if isinstance(usage, dict):
            # Cache reads and writes are input the model processed too; budgets count them.
            run.input_tokens = (
                as_int(usage.get("input_tokens"))
                + as_int(usage.get("cache_creation_input_tokens"))
                + as_int(usage.get("cache_read_input_tokens"))
            )
            run.output_tokens = as_int(usage.get("output_tokens"))
        if isinstance(res.get("num_turns"), int):
            run.turns = res["num_turns"]
        denials = res.get("permission_denials")
        if isinstance(denials, list):
            run.permission_denials = tuple(
                str(d.get("tool_name")) for d in denials if isinstance(d, dict)
            )
        # is_error, never subtype alone: API failures say subtype "success".
        if res.get("is_error") or res.get("subtype") not in (None, "success"):
            self._classify_error(run, res)
            return run
        if exit_code not in (0, None):
            run.error_kind = "exit_nonzero"
            run.error = f"{self.what} reported success but exited {exit_code}"
            return run
        run.success = True
        return run

    def _classify_error(self, run: ParsedRun, res: dict[str, Any]) -> None:
        status = res.get("api_error_status")
        status = status if isinstance(status, int) else None
        message = run.text or str(res.get("errors") or res.get("subtype") or "error")
        run.error = message
        sub = res.get("subtype")
        if res.get("terminal_reason") == "aborted_streaming":  # 2.1.330 on SIGINT
            run.error_kind = "interrupted"
            run.transient = True
        elif sub in _SUBTYPE_KINDS:
            run.error_kind = "agent_error"  # type: ignore[assignment]
            run.transient = False
            run.error = f"{sub}: {message}" if message != sub else str(sub)
        elif status in (401, 403) or "not logged in" in message.lower():
            run.error_kind = "auth_error"
            run.transient = False
        else:
            status = status if status is not None else self._last_api_status
            run.error_kind = "api_error"
            run.transient = api_status_transient(status)
