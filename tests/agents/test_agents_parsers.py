"""Parsers on transcripts recorded from the real CLIs (tests/agents/data/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ghw.agents.parsers import parse_lines
from ghw.agents.parsers.claude import ClaudeStreamParser
from ghw.agents.parsers.codex import CodexStreamParser
from ghw.agents.parsers.cursor import CursorStreamParser
from ghw.agents.parsers.gemini import GeminiStreamParser
from ghw.agents.parsers.opencode import OpencodeStreamParser
from ghw.agents.parsers.text import TextParser

DATA = Path(__file__).parent / "data"


def lines(rel: str) -> list[str]:
    return (DATA / rel).read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("version", ["claude-2.1.197", "claude-2.1.330"])
def test_claude_write_success(version: str) -> None:
    events, run = parse_lines(ClaudeStreamParser(), lines(f"{version}/stream-json_write.jsonl"), 0)
    assert run.success and run.error_kind is None
    assert run.text == "Done: I created hello.txt."
    assert run.session_id and len(run.session_id) == 36
    assert run.cost_usd is not None and run.cost_usd > 0
    assert run.input_tokens and run.input_tokens > 1000
    assert run.output_tokens and run.output_tokens > 0
    assert run.turns == 2
    kinds = [e.kind for e in events]
    assert kinds[0] == "system" and kinds[-1] == "result"
    assert "tool_use" in kinds and "tool_result" in kinds and "text" in kinds
    tool = next(e for e in events if e.kind == "tool_use")
    assert tool.text.startswith("Write ")


def test_claude_session_id_comes_from_init_even_without_result() -> None:
    _, run = parse_lines(
        ClaudeStreamParser(), lines("claude-2.1.197/sigterm-while-waiting.jsonl"), 143
    )
    assert not run.success
    assert run.error_kind == "interrupted" and run.transient
    assert run.session_id == "d5246500-1df8-431e-b586-e67f5fc06a7d"


def test_claude_missing_result_is_no_result_failure_even_with_exit_0() -> None:
    # SIGINT on 2.1.197 exits 0 and prints only init: still a failure.
    _, run = parse_lines(
        ClaudeStreamParser(), lines("claude-2.1.197/sigint-while-waiting.jsonl"), 0
    )
    assert not run.success
    assert run.error_kind == "no_result" and run.transient


def test_claude_sigint_on_2_1_330_is_interrupted() -> None:
    _, run = parse_lines(
        ClaudeStreamParser(), lines("claude-2.1.330/sigint-while-waiting.jsonl"), 0
    )
    assert not run.success and run.error_kind == "interrupted" and run.transient


@pytest.mark.parametrize("version", ["claude-2.1.197", "claude-2.1.330"])
def test_claude_http500_is_transient_api_error_despite_subtype_success(version: str) -> None:
    src = lines(f"{version}/stream-json_http500.jsonl")
    assert any('"subtype":"success"' in s.replace(" ", "") and "is_error" in s for s in src)
    _, run = parse_lines(ClaudeStreamParser(), src, 1)
    assert not run.success
    assert run.error_kind == "api_error" and run.transient
    assert "500" in (run.error or "")


@pytest.mark.parametrize("version", ["claude-2.1.197", "claude-2.1.330"])
def test_claude_http401_is_permanent_auth_error(version: str) -> None:
    _, run = parse_lines(ClaudeStreamParser(), lines(f"{version}/stream-json_http401.jsonl"), 1)
    assert not run.success and run.error_kind == "auth_error" and not run.transient


def test_claude_not_logged_in_is_auth_error() -> None:
    _, run = parse_lines(ClaudeStreamParser(), lines("claude-2.1.197/no-credentials.json"), 1)
    assert run.error_kind == "auth_error" and not run.transient
    assert "Not logged in" in (run.error or "")


@pytest.mark.parametrize("name", ["stream-json_max-turns-1.jsonl", "stream-json_max-budget.jsonl"])
def test_claude_limits_are_permanent_agent_errors(name: str) -> None:
    _, run = parse_lines(ClaudeStreamParser(), lines(f"claude-2.1.197/{name}"), 1)
    assert not run.success and run.error_kind == "agent_error" and not run.transient
    assert run.cost_usd is not None


def test_claude_refused_tool_is_success_with_denials() -> None:
    _, run = parse_lines(
        ClaudeStreamParser(), lines("claude-2.1.197/stream-json_default-mode-denied.jsonl"), 0
    )
    assert run.success
    assert run.permission_denials == ("Write",)


def test_claude_retry_then_ok_and_partial_messages_succeed() -> None:
    for name in ("stream-json_http529-then-ok.jsonl", "stream-json_include-partial-messages.jsonl"):
        _, run = parse_lines(ClaudeStreamParser(), lines(f"claude-2.1.197/{name}"), 0)
        assert run.success, name


def test_claude_success_result_with_nonzero_exit_is_failure() -> None:
    _, run = parse_lines(ClaudeStreamParser(), lines("claude-2.1.197/stream-json_write.jsonl"), 2)
    assert not run.success and run.error_kind == "exit_nonzero"


def test_claude_noise_and_truncated_lines_do_not_crash() -> None:
    src = lines("claude-2.1.197/stream-json_write.jsonl")
    noisy = ["", "not json", "[1,2]", src[0][:50], *src[:-1]]
    events, run = parse_lines(ClaudeStreamParser(), noisy, 0)
    assert not run.success and run.error_kind == "no_result"
    assert any(e.data.get("unparsed") for e in events)


def test_codex_create_file() -> None:
    events, run = parse_lines(
        CodexStreamParser(), lines("codex-0.169.0/exec-json_create-file.jsonl"), 0
    )
    assert run.success and run.text == "Done: I created hello.txt."
    assert run.session_id == "01a20b01-d8a2-7410-90c6-6539992a6b0a"
    assert (run.input_tokens, run.output_tokens, run.turns) == (19883, 20, 1)
    assert run.cost_usd is None  # codex reports none
    kinds = [e.kind for e in events]
    assert "tool_use" in kinds and "tool_result" in kinds


def test_codex_http500_is_transient() -> None:
    _, run = parse_lines(CodexStreamParser(), lines("codex-0.169.0/exec-json_http500.jsonl"), 1)
    assert not run.success and run.error_kind == "api_error" and run.transient
    assert "high demand" in (run.error or "")


def test_codex_without_turn_end_is_no_result() -> None:
    src = lines("codex-0.169.0/exec-json_create-file.jsonl")[:-1]
    _, run = parse_lines(CodexStreamParser(), src, -9)
    assert run.error_kind == "interrupted"


@pytest.mark.parametrize(
    ("name", "tools"),
    [("stream-json_yolo.jsonl", 1), ("stream-json_explicit-model.jsonl", 1)],
)
def test_gemini_tool_run(name: str, tools: int) -> None:
    events, run = parse_lines(GeminiStreamParser(), lines(f"gemini-0.61.0/{name}"), 0)
    assert run.success and run.text == "Done: I created hello.txt."
    assert run.session_id and run.input_tokens and run.output_tokens
    assert sum(e.kind == "tool_use" for e in events) == tools


def test_gemini_text_only_and_error_result() -> None:
    _, run = parse_lines(
        GeminiStreamParser(), lines("gemini-0.61.0/stream-json_default-approval.jsonl"), 0
    )
    assert run.success and run.text == "Fake answer."
    err = [
        '{"type":"init","session_id":"s1","model":"m"}',
        '{"type":"error","severity":"error","message":"quota"}',
        '{"type":"result","status":"error","error":{"type":"ApiError","message":"429 quota"}}',
    ]
    _, run = parse_lines(GeminiStreamParser(), err, 1)
    assert not run.success and run.error_kind == "api_error" and run.transient
    _, run = parse_lines(GeminiStreamParser(), err[:1], 41)
    assert run.error_kind == "auth_error" and not run.transient


def test_opencode_run() -> None:
    events, run = parse_lines(
        OpencodeStreamParser(), lines("opencode-1.18.33/run-format-json.jsonl"), 0
    )
    assert run.success and run.text == "Done: I created hello.txt."
    assert run.session_id == "ses_df4f9faeaffez5s1anj1N7DJv3"
    assert run.input_tokens == 7517 + 7582 and run.output_tokens == 20
    assert run.turns == 2 and run.cost_usd == 0
    assert [e.kind for e in events].count("tool_use") == 1


def test_opencode_stopped_mid_tool_calls_and_error() -> None:
    src = lines("opencode-1.18.33/run-format-json.jsonl")[:3]
    _, run = parse_lines(OpencodeStreamParser(), src, 143)
    assert run.error_kind == "interrupted"
    err = '{"type":"error","error":{"name":"APIError","data":{"message":"boom","statusCode":503}}}'
    _, run = parse_lines(OpencodeStreamParser(), [*src, err], 1)
    assert run.error_kind == "api_error" and run.transient and run.error == "boom"


# cursor-agent: an ASSUMED transcript (docs/adr/0024), not a recording.
CURSOR = [
    '{"type":"system","subtype":"init","apiKeySource":"login","cwd":"/w","session_id":"c-1",'
    '"model":"auto","permissionMode":"default"}',
    '{"type":"user","message":{"role":"user","content":[{"type":"text","text":"fix"}]},'
    '"session_id":"c-1"}',
    '{"type":"tool_call","subtype":"started","call_id":"t1","tool_call":{"writeToolCall":'
    '{"args":{"path":"a.py","fileText":"x"}}},"session_id":"c-1"}',
    '{"type":"tool_call","subtype":"completed","call_id":"t1","tool_call":{"writeToolCall":'
    '{"args":{"path":"a.py"},"result":{"success":{"linesCreated":1}}}},"session_id":"c-1"}',
    '{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Fixed."}]},'
    '"session_id":"c-1"}',
    '{"type":"result","subtype":"success","is_error":false,"duration_ms":1234,'
    '"duration_api_ms":1000,"result":"Fixed.","session_id":"c-1","request_id":"r1"}',
]


def test_cursor_assumed_format() -> None:
    events, run = parse_lines(CursorStreamParser(), CURSOR, 0)
    assert run.success and run.text == "Fixed." and run.session_id == "c-1"
    assert run.cost_usd is None and run.input_tokens is None
    assert [e.kind for e in events].count("tool_use") == 1
    assert [e.kind for e in events].count("tool_result") == 1
    _, run = parse_lines(CursorStreamParser(), CURSOR[:4], 143)
    assert run.error_kind == "interrupted"


def test_text_parser() -> None:
    _, run = parse_lines(TextParser(), ["line 1", "line 2", ""], 0)
    assert run.success and run.text == "line 1\nline 2"
    _, run = parse_lines(TextParser(), ["x"], 3)
    assert run.error_kind == "exit_nonzero" and not run.transient
    _, run = parse_lines(TextParser(), [], -15)
    assert run.error_kind == "interrupted" and run.transient
