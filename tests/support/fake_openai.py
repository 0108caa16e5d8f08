"""A fake OpenAI Responses API (``POST /v1/responses``, SSE) for Codex CLI and opencode.

Turns, chosen by how many tool outputs the request's input already holds:

* ``{"text": "..."}`` — a final answer;
* ``{"shell": "echo hi > f"}`` — a call of whichever shell tool the client offers
  (``exec_command`` for Codex, ``bash`` for opencode, ``shell_command``/``shell`` otherwise);
* ``{"error": 500}`` — that HTTP status; ``{"hang": true}`` — never answer.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from support import BaseHandler, FakeServer

__all__ = ["FakeOpenAIResponses"]


def _tool_names(body: dict[str, Any]) -> list[str]:
    names = []
    for t in body.get("tools") or []:
        if isinstance(t, dict):
            names.append(t.get("name") or (t.get("function") or {}).get("name") or t.get("type"))
    return [n for n in names if n]


def _shell_call(names: list[str], cmd: str) -> tuple[str, dict[str, Any]] | None:
    if "exec_command" in names:
        return "exec_command", {"cmd": cmd}
    if "shell_command" in names:
        return "shell_command", {"command": cmd}
    if "bash" in names:
        return "bash", {"command": cmd, "description": "run a command"}
    if "shell" in names:
        return "shell", {"command": ["bash", "-lc", cmd]}
    return None


class _Handler(BaseHandler):
    def do_GET(self) -> None:
        if self.path.split("?")[0].endswith("/models"):
            self.send_json(200, {"object": "list", "data": [], "models": []})
        else:
            self.send_json(404, {"error": {"message": "not found", "type": "not_found"}})

    def do_POST(self) -> None:
        body = self.read_json()
        fake: FakeOpenAIResponses = self.fake
        if not self.path.split("?")[0].endswith("/responses") or not isinstance(body, dict):
            self.send_json(404, {"error": {"message": "not found", "type": "not_found"}})
            return
        items = body.get("input") or []
        index = sum(
            1
            for i in items
            if isinstance(i, dict)
            and i.get("type") in ("function_call_output", "custom_tool_call_output")
        )
        names = _tool_names(body)
        turn = dict(fake.turn(index)) if names else {"text": "Fake side reply."}
        outputs = [
            str(i.get("output"))
            for i in items
            if isinstance(i, dict) and i.get("type") == "function_call_output"
        ]
        fake.record(
            {
                "index": index,
                "tools": names,
                "model": body.get("model"),
                "turn": turn,
                "tool_outputs": outputs,
                "user_text": " ".join(
                    str(c.get("text"))
                    for i in items
                    if isinstance(i, dict) and i.get("role") == "user"
                    for c in (i.get("content") or [])
                    if isinstance(c, dict)
                ),
            }
        )
        if turn.get("hang"):
            self.hang()
            return
        if turn.get("error"):
            err = {"message": "fake server error", "type": "server_error", "code": None}
            self.send_json(int(turn["error"]), {"error": err})
            return
        self._stream(body, turn, names)

    def _stream(self, body: dict[str, Any], turn: dict[str, Any], names: list[str]) -> None:
        ids = self.fake.ids
        call = _shell_call(names, str(turn["shell"])) if turn.get("shell") else None
        if call is not None:
            item: dict[str, Any] = {
                "type": "function_call",
                "id": f"fc_fake{next(ids):04d}",
                "status": "completed",
                "call_id": f"call_fake{next(ids):04d}",
                "name": call[0],
                "arguments": json.dumps(call[1]),
            }
            text = None
        else:
            text = str(turn.get("text") or "Done.")
            item = {
                "type": "message",
                "id": f"msg_fake{next(ids):04d}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        usage = {
            "input_tokens": int(turn.get("input_tokens", 100)),
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": int(turn.get("output_tokens", 10)),
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": int(turn.get("input_tokens", 100)) + int(turn.get("output_tokens", 10)),
        }
        rid = f"resp_fake{next(ids):04d}"
        base = {
            "id": rid,
            "object": "response",
            "created_at": int(time.time()),
            "model": body.get("model"),
            "status": "in_progress",
            "output": [],
        }
        seq = itertools.count()
        self.start_sse()

        def ev(obj: dict[str, Any]) -> None:
            obj["sequence_number"] = next(seq)
            self.sse(obj["type"], obj)

        ev({"type": "response.created", "response": base})
        ev({"type": "response.in_progress", "response": base})
        added = dict(item, status="in_progress")
        ev({"type": "response.output_item.added", "output_index": 0, "item": added})
        if text is not None:
            common = {"item_id": item["id"], "output_index": 0, "content_index": 0}
            ev({"type": "response.output_text.delta", **common, "delta": text})
            ev({"type": "response.output_text.done", **common, "text": text})
        ev({"type": "response.output_item.done", "output_index": 0, "item": item})
        done = dict(base, status="completed", output=[item], usage=usage)
        ev({"type": "response.completed", "response": done})


class FakeOpenAIResponses(FakeServer):
    handler = _Handler

    def __init__(self, turns: list[dict[str, Any]]) -> None:
        super().__init__(turns)
        self.ids = itertools.count(1)

    def codex_args(self, provider: str = "fake") -> tuple[str, ...]:
        """``-c`` options that point Codex at this fake, with no retries (fast failures)."""
        spec = (
            f'{{name="fake",base_url="{self.url}/v1",env_key="FAKE_OPENAI_KEY",'
            'wire_api="responses",request_max_retries=0,stream_max_retries=0}'
        )
        return (
            "-c",
            f"model_provider={provider}",
            "-c",
            f"model_providers.{provider}={spec}",
        )
