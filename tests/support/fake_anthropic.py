"""A fake Anthropic Messages API for driving the real Claude Code CLI offline.

Turns (one per model reply, chosen by how many assistant messages the request already holds):

* ``{"text": "..."}`` — a final answer (``end_turn``);
* ``{"tool": "Write", "input": {...}, "text": "optional preamble"}`` — a tool call; every
  ``{cwd}`` in the input's strings becomes the CLI's working directory (Write needs absolute
  paths), read from the system prompt, and ``{n}`` the number of the tool call (so each run
  writes something new);
* ``{"error": 500}`` — answer with that HTTP status (the CLI retries, then gives up);
* ``{"hang": true}`` — accept the request and never answer.

Requests without tools (side calls such as title generation) get a short text. ``HEAD /`` (the
reachability probe of 2.1.197) answers 200. Based on docs' agent-cli-experiment prototype.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

from support import BaseHandler, FakeServer

__all__ = ["FakeAnthropic"]

_CWD = re.compile(r"working directory: (/[^\s\"'<>]+)", re.IGNORECASE)


def _strings(obj: Any) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def find_cwd(body: dict[str, Any]) -> str | None:
    for text in _strings([body.get("system"), body.get("messages")]):
        m = _CWD.search(text)
        if m:
            return m.group(1)
    return None


def _fill(obj: Any, cwd: str, n: int) -> Any:
    if isinstance(obj, str):
        return obj.replace("{cwd}", cwd).replace("{n}", str(n))
    if isinstance(obj, dict):
        return {k: _fill(v, cwd, n) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_fill(v, cwd, n) for v in obj]
    return obj


class _Handler(BaseHandler):
    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.send_json(
            404, {"type": "error", "error": {"type": "not_found_error", "message": "no"}}
        )

    def do_POST(self) -> None:
        body = self.read_json()
        path = self.path.split("?")[0]
        fake: FakeAnthropic = self.fake
        if path == "/v1/messages/count_tokens":
            self.send_json(200, {"input_tokens": 10})
            return
        if path != "/v1/messages" or not isinstance(body, dict):
            self.send_json(404, {"type": "error", "error": {"type": "not_found_error"}})
            return
        msgs = [m for m in body.get("messages") or [] if m.get("role") in ("user", "assistant")]
        tools = [t.get("name") for t in body.get("tools") or [] if isinstance(t, dict)]
        index = sum(1 for m in msgs if m.get("role") == "assistant")
        first = msgs[0].get("content") if msgs else ""
        user_text = " ".join(_strings(first))
        entry: dict[str, Any] = {
            "index": index,
            "tools": tools,
            "model": body.get("model"),
            "user_text": user_text,
        }
        if not tools:
            turn: dict[str, Any] = {"text": "Fake side reply."}
            entry["side_call"] = True
        else:
            turn = dict(fake.turn(index))
        fake.record({**entry, "turn": turn})
        if turn.get("hang"):
            self.hang()
            return
        if turn.get("error"):
            status = int(turn["error"])
            etype = {401: "authentication_error", 429: "rate_limit_error"}.get(status, "api_error")
            self.send_json(status, {"type": "error", "error": {"type": etype, "message": "fake"}})
            return
        self._stream(body, turn)

    def _stream(self, body: dict[str, Any], turn: dict[str, Any]) -> None:
        blocks: list[dict[str, Any]] = []
        if turn.get("text"):
            blocks.append({"type": "text", "text": str(turn["text"])})
        stop = "end_turn"
        if turn.get("tool"):
            cwd = find_cwd(body) or "."
            n = next(self.fake.ids)
            tool_id = f"toolu_fake{n:06d}"
            tool_input = _fill(turn.get("input") or {}, cwd, n)
            blocks.append(
                {"type": "tool_use", "id": tool_id, "name": turn["tool"], "input": tool_input}
            )
            stop = "tool_use"
        if not blocks:
            blocks.append({"type": "text", "text": "Done."})
        usage = {
            "input_tokens": int(turn.get("input_tokens", 100)),
            "output_tokens": int(turn.get("output_tokens", 10)),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        model = body.get("model") or "fake-model"
        self.start_sse()
        msg_id = f"msg_fake{next(self.fake.ids):06d}"
        self.sse(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": msg_id,
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": dict(usage, output_tokens=1),
                },
            },
        )
        for i, b in enumerate(blocks):
            if b["type"] == "text":
                self.sse(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": i,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
                self.sse(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": i,
                        "delta": {"type": "text_delta", "text": b["text"]},
                    },
                )
            else:
                start = {"type": "tool_use", "id": b["id"], "name": b["name"], "input": {}}
                self.sse(
                    "content_block_start",
                    {"type": "content_block_start", "index": i, "content_block": start},
                )
                delta = {"type": "input_json_delta", "partial_json": json.dumps(b["input"])}
                self.sse(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": i, "delta": delta},
                )
            self.sse("content_block_stop", {"type": "content_block_stop", "index": i})
        self.sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        )
        self.sse("message_stop", {"type": "message_stop"})


class FakeAnthropic(FakeServer):
    handler = _Handler

    def __init__(self, turns: list[dict[str, Any]]) -> None:
        super().__init__(turns)
        self.ids = itertools.count(1)

    def env(self) -> dict[str, str]:
        """What the CLI needs to talk to this fake (and only to it), quickly."""
        return {
            "ANTHROPIC_BASE_URL": self.url,
            "ANTHROPIC_API_KEY": "sk-ant-fake-key",
            "CLAUDE_CODE_MAX_RETRIES": "0",
        }
