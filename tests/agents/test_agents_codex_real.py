"""The real Codex CLI (pinned 0.169.0) against the fake Responses API on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.fake_openai import FakeOpenAIResponses

from ghw.agents import AgentMode, AgentRequest, AgentSettings, make_agent

from .test_agents_claude_real import assert_pinned

WRITE_TURNS = [
    {"shell": "echo 'hello from the fake model' > hello.txt"},
    {"text": "Done: created."},
]


@pytest.fixture(autouse=True)
def codex(require_cli_fn: Callable[[str], str], parent_env: dict[str, str]) -> str:
    require_cli_fn("codex")
    return assert_pinned("codex", parent_env)  # another version fails, it does not pass


def agent(fake: FakeOpenAIResponses, tmp_path: Path, **kw: Any) -> Any:
    codex_home = tmp_path / "codex-home"
    codex_home.mkdir(exist_ok=True)
    kw.setdefault("timeout", 30)
    return make_agent(
        AgentSettings(
            name="codex",
            model="fake-model",
            args=fake.codex_args(),
            env={"FAKE_OPENAI_KEY": "sk-fake", "CODEX_HOME": str(codex_home)},
            grace=2,
            **kw,
        )
    )


def request(repo: Path, home: Path, env: dict[str, str], mode: AgentMode) -> AgentRequest:
    return AgentRequest(
        prompt="create hello.txt",
        cwd=repo,
        mode=mode,
        phase="implement" if mode is AgentMode.WRITE else "review",
        issue="o/r#2",
        ghw_home=home,
        parent_env=env,
    )


def read(path: Path) -> str:
    return path.read_text()


async def test_write(
    repo: Path, ghw_home: Path, parent_env: dict[str, str], tmp_path: Path
) -> None:
    with FakeOpenAIResponses(WRITE_TURNS) as fake:
        res = await agent(fake, tmp_path).run(request(repo, ghw_home, parent_env, AgentMode.WRITE))
    assert res.success, res.error
    assert res.text == "Done: created."
    assert read(repo / "hello.txt") == "hello from the fake model\n"
    assert res.session_id and (res.input_tokens, res.output_tokens, res.turns) == (200, 20, 1)
    assert res.cost_usd is None and res.model == "fake-model"
    assert "exited with code 0" in fake.requests[-1]["tool_outputs"][0]
    assert "create hello.txt" in fake.requests[0]["user_text"]  # the prompt came via stdin


async def test_read_only_sandbox_blocks_the_write(
    repo: Path,
    ghw_home: Path,
    parent_env: dict[str, str],
    tmp_path: Path,
    git_fn: Callable[..., str],
) -> None:
    with FakeOpenAIResponses(WRITE_TURNS) as fake:
        res = await agent(fake, tmp_path).run(
            request(repo, ghw_home, parent_env, AgentMode.READ_ONLY)
        )
    assert res.success and res.text == "Done: created."
    assert not (repo / "hello.txt").exists()
    assert git_fn(repo, "status", "--porcelain") == ""
    assert "Read-only file system" in fake.requests[-1]["tool_outputs"][0]


async def test_api_error_and_hang(
    repo: Path, ghw_home: Path, parent_env: dict[str, str], tmp_path: Path
) -> None:
    with FakeOpenAIResponses([{"error": 500}]) as fake:
        res = await agent(fake, tmp_path).run(request(repo, ghw_home, parent_env, AgentMode.WRITE))
    assert not res.success and res.error_kind == "api_error" and res.transient
    t0 = time.monotonic()
    with FakeOpenAIResponses([{"hang": True}]) as fake:
        res = await agent(fake, tmp_path, timeout=2).run(
            request(repo, ghw_home, parent_env, AgentMode.WRITE)
        )
    assert res.error_kind == "timeout" and time.monotonic() - t0 < 7
