"""cursor-agent ``-p --output-format stream-json`` — UNVERIFIED (see docs/adr/0024).

cursor-agent is not on npm and its docs could not be reached from here, so this parser follows
the publicly described shape: Claude-like ``system``/``user``/``assistant``/``result`` events
plus ``tool_call`` events (``subtype`` ``started``/``completed``, ``tool_call: {<name>ToolCall:
{args, result}}``). It reports no tokens or cost.
"""

from __future__ import annotations

from ghw.agents.base import AgentEvent
from ghw.agents.parsers import load_json_line, short
from ghw.agents.parsers.claude import ClaudeStreamParser

__all__ = ["CursorStreamParser"]


class CursorStreamParser(ClaudeStreamParser):
    what = "cursor-agent"

    def __init__(self) -> None:
        super().__init__()
        self._assistant_parts: list[str] = []

    def feed(self, line: str) -> list[AgentEvent]:
        obj = load_json_line(line)
        if obj is not None and obj.get("type") == "tool_call":
            call = obj.get("tool_call") if isinstance(obj.get("tool_call"), dict) else {}
            name = next(iter(call), "tool")
            body = call.get(name) if isinstance(call.get(name), dict) else {}
            if obj.get("subtype") == "started":
                return [AgentEvent("tool_use", f"{name} {short(body.get('args'))}", obj)]
            return [AgentEvent("tool_result", short(body.get("result")), obj)]
        return super().feed(line)
