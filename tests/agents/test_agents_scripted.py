"""The scripted agent: script format, defaults, edits, failures, delay, and a real fix."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ghw.agents import AgentEvent, AgentMode, AgentRequest, AgentSettings, make_agent
from ghw.agents.scripted_script import (
    Edit,
    EditError,
    ScriptError,
    apply_edit,
    parse_script,
    safe_target,
)


def request(
    cwd: Path, home: Path, env: dict[str, str], phase: str = "implement", **kw: Any
) -> AgentRequest:
    mode = kw.pop("mode", AgentMode.WRITE if phase == "implement" else AgentMode.READ_ONLY)
    return AgentRequest(
        prompt=kw.pop("prompt", "do the thing"),
        cwd=cwd,
        mode=mode,
        phase=phase,
        issue=kw.pop("issue", "demo/calc#1"),
        ghw_home=home,
        parent_env=env,
        **kw,
    )


def scripted(script: Path | None = None, **extra: Any) -> Any:
    if script is not None:
        extra["script"] = str(script)
    return make_agent(AgentSettings(name="scripted", extra=extra, timeout=30, grace=1))


def write_script(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "script.yaml"
    path.write_text(text)
    return path


async def test_default_implement_writes_file_naming_issue(
    repo: Path, ghw_home: Path, parent_env: dict[str, str], tmp_path: Path
) -> None:
    events: list[AgentEvent] = []
    transcript = tmp_path / "t" / "implement-7.jsonl"
    res = await scripted().run(
        request(repo, ghw_home, parent_env, on_event=events.append, transcript_path=transcript)
    )
    assert res.success, res.error
    assert "demo/calc#1" in (repo / "GHW_SCRIPTED.md").read_text()
    assert res.cost_usd == 0.0 and res.session_id and res.turns
    assert res.input_tokens is not None and res.output_tokens is not None
    assert res.transcript_sha256 and transcript.exists()
    kinds = [e.kind for e in events]
    assert kinds[0] == "system" and "tool_use" in kinds and kinds[-1] == "result"


@pytest.mark.parametrize("phase", ["plan", "review"])
async def test_default_plan_and_review_approve_and_write_nothing(
    repo: Path, ghw_home: Path, parent_env: dict[str, str], phase: str
) -> None:
    res = await scripted().run(request(repo, ghw_home, parent_env, phase=phase))
    assert res.success
    assert res.text.splitlines()[-1] == "VERDICT: approve"
    assert "demo/calc#1" in res.text
    assert not (repo / "GHW_SCRIPTED.md").exists()


FIX_SCRIPT = """\
# ghw scripted-agent script
issues:
  1:
    plan:
      text: "Plan: make add() add.\\nVERDICT: approve"
    implement:
      text: "Fixed add()"
      edits:
        - path: calc/ops.py
          replace: {old: "return a - b", new: "return a + b"}
        - path: NOTES.md
          write: "whole new content\\n"
        - path: README.md
          append: "more\\n"
        - path: obsolete.py
          delete: true
  "demo/calc#2":
    implement:
      fail: {kind: transient, message: "model overloaded"}
  3:
    implement:
      fail: {kind: permanent, message: "cannot do this"}
      exit_code: 3
  4:
    implement:
      text: "exit code only"
      exit_code: 5
  5:
    implement:
      edits:
        - path: calc/ops.py
          replace: {old: "not in the file", new: "x"}
"""


def make_calc(repo: Path, git_fn: Callable[..., str]) -> None:
    (repo / "calc").mkdir()
    (repo / "calc" / "__init__.py").write_text("")
    (repo / "calc" / "ops.py").write_text("def add(a, b):\n    return a - b\n")
    (repo / "tests").mkdir()
    (repo / "tests" / "__init__.py").write_text("")
    (repo / "tests" / "test_ops.py").write_text(
        "import unittest\nfrom calc.ops import add\n\n\n"
        "class T(unittest.TestCase):\n"
        "    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n"
    )
    (repo / "obsolete.py").write_text("x = 1\n")
    git_fn(repo, "add", "-A")
    git_fn(repo, "commit", "-q", "-m", "calc with a bug")


def unittest_ok(repo: Path) -> bool:
    out = subprocess.run(
        [sys.executable, "-m", "unittest", "-q"], cwd=repo, capture_output=True, check=False
    )
    return out.returncode == 0


async def test_script_fixes_a_failing_test(
    repo: Path,
    ghw_home: Path,
    parent_env: dict[str, str],
    tmp_path: Path,
    git_fn: Callable[..., str],
) -> None:
    make_calc(repo, git_fn)
    assert not unittest_ok(repo)
    agent = scripted(write_script(tmp_path, FIX_SCRIPT))
    plan = await agent.run(request(repo, ghw_home, parent_env, phase="plan"))
    assert plan.success and plan.text == "Plan: make add() add.\nVERDICT: approve"
    res = await agent.run(request(repo, ghw_home, parent_env))
    assert res.success, res.error
    assert res.text == "Fixed add()"
    assert unittest_ok(repo)
    assert (repo / "NOTES.md").read_text() == "whole new content\n"
    assert (repo / "README.md").read_text() == "demo\nmore\n"
    assert not (repo / "obsolete.py").exists()
    assert not (repo / "GHW_SCRIPTED.md").exists()  # the script replaces the default
    status = git_fn(repo, "status", "--porcelain")
    assert "calc/ops.py" in status and "obsolete.py" in status


async def test_read_only_refuses_edits_but_answers(
    repo: Path,
    ghw_home: Path,
    parent_env: dict[str, str],
    tmp_path: Path,
    git_fn: Callable[..., str],
) -> None:
    make_calc(repo, git_fn)
    agent = scripted(write_script(tmp_path, FIX_SCRIPT))
    res = await agent.run(request(repo, ghw_home, parent_env, mode=AgentMode.READ_ONLY))
    assert res.success and res.text == "Fixed add()"
    assert res.permission_denials == ("Replace", "Write", "Append", "Delete")
    assert git_fn(repo, "status", "--porcelain") == ""
    assert not unittest_ok(repo)


@pytest.mark.parametrize(
    ("issue", "kind", "transient", "exit_code", "success"),
    [
        ("demo/calc#2", "api_error", True, 1, False),
        ("other/repo#3", "agent_error", False, 3, False),
        ("demo/calc#4", "exit_nonzero", False, 5, False),
        ("demo/calc#5", "agent_error", False, 1, False),
    ],
)
async def test_scripted_failures(
    repo: Path,
    ghw_home: Path,
    parent_env: dict[str, str],
    tmp_path: Path,
    issue: str,
    kind: str,
    transient: bool,
    exit_code: int,
    success: bool,
) -> None:
    agent = scripted(write_script(tmp_path, FIX_SCRIPT))
    res = await agent.run(request(repo, ghw_home, parent_env, issue=issue))
    assert res.success is success
    assert (res.error_kind, res.transient, res.exit_code) == (kind, transient, exit_code)
    assert res.error


async def test_delay_makes_the_run_take_that_long_and_timeout_interrupts_it(
    repo: Path, ghw_home: Path, parent_env: dict[str, str]
) -> None:
    t0 = time.monotonic()
    res = await scripted(delay="1s").run(request(repo, ghw_home, parent_env, phase="plan"))
    assert res.success and 1.0 <= time.monotonic() - t0 < 5
    slow = make_agent(AgentSettings(name="scripted", extra={"delay": 60}, timeout=0.5, grace=1))
    t0 = time.monotonic()
    res = await slow.run(request(repo, ghw_home, parent_env, phase="plan"))
    assert not res.success and res.error_kind == "timeout" and res.transient
    assert time.monotonic() - t0 < 3


async def test_stop_event_interrupts(
    repo: Path, ghw_home: Path, parent_env: dict[str, str]
) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.5, stop.set)
    res = await scripted(delay=60).run(request(repo, ghw_home, parent_env, stop=stop))
    assert res.error_kind == "interrupted" and res.transient


async def test_invalid_script_is_reported(
    repo: Path, ghw_home: Path, parent_env: dict[str, str], tmp_path: Path
) -> None:
    agent = scripted(write_script(tmp_path, "issues:\n  1:\n    implment: {}\n"))
    assert not agent.check().installed
    assert "implment" in agent.check().install_hint
    res = await agent.run(request(repo, ghw_home, parent_env))
    assert not res.success and "implment" in (res.error or "")


def test_parse_script_validation() -> None:
    s = parse_script({"issues": {1: {"plan": {"text": "a"}}, "o/r#1": {"plan": {"text": "b"}}}})
    assert s.entry("o/r#1", "plan").text == "b"  # type: ignore[union-attr]
    assert s.entry("x/y#1", "plan").text == "a"  # type: ignore[union-attr]
    assert s.entry("x/y#1", "review") is None and s.entry(None, "plan") is None
    bad = [
        {"issues": []},
        {"issues": {1: {"plan": {"txt": "a"}}}},
        {"issues": {1: {"plan": {"edits": [{"path": "a"}]}}}},
        {"issues": {1: {"plan": {"edits": [{"path": "a", "write": "x", "delete": True}]}}}},
        {"issues": {1: {"plan": {"edits": [{"path": "a", "replace": {"old": ""}}]}}}},
        {"issues": {1: {"plan": {"fail": {"kind": "sometimes"}}}}},
        {"issues": {1: {"plan": {"exit_code": 300}}}},
        {"issues": {1: {"plan": {"sleep": -1}}}},
    ]
    for data in bad:
        with pytest.raises(ScriptError):
            parse_script(data)


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "a/../../x", ".git/config"])
def test_unsafe_paths_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(EditError):
        safe_target(tmp_path, path)


def test_symlink_out_of_workspace_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "link").symlink_to(outside)
    with pytest.raises(EditError):
        apply_edit(ws, Edit("link/evil.txt", "write", new="x"))
    assert not (outside / "evil.txt").exists()


async def test_transcript_is_claude_stream_json(
    repo: Path, ghw_home: Path, parent_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "tr.jsonl"
    await scripted().run(request(repo, ghw_home, parent_env, transcript_path=path))
    recs = [json.loads(x) for x in path.read_text().splitlines()]
    assert recs[0]["ghw"] == "start" and recs[-1]["ghw"] == "end"
    result = next(r for r in recs if r.get("type") == "result")
    assert result["total_cost_usd"] == 0.0 and "usage" in result and result["session_id"]
