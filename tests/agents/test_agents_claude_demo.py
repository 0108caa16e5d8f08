"""`ghw demo --agent claude-code`: the real Claude Code CLI (pinned) plans, fixes and reviews the
demo's issues against the fake Anthropic API on 127.0.0.1. The model settings reach the agent
only because the demo forwards them (agents run in a clean environment)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import structlog
import yaml
from support.fake_anthropic import FakeAnthropic

from ghw.cli.context import AppContext
from ghw.cli.demo import model_env
from ghw.cli.main import main

from .test_agents_claude_real import assert_pinned

# One script serves every phase: plan and review run read-only, so their Write is refused and
# the model's next turn (the verdict) is the answer; implement writes the file.
TURNS = [
    {
        "text": "I'll record the fix.",
        "tool": "Write",
        # {n}: each run writes a new file (Claude Code overwrites a file only after reading it),
        # so the demo's revision round changes something
        "input": {"file_path": "{cwd}/GHW_CLAUDE_{n}.md", "content": "fixed by the fake model\n"},
    },
    {"text": "Done.\n\nVERDICT: approve"},
]


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    yield  # the demo configures logging for the process; leave none of it to later tests
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def test_demo_forwards_only_the_agents_model_variables() -> None:
    environ = {
        "ANTHROPIC_API_KEY": "sk-1",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "OPENAI_API_KEY": "sk-2",
        "GITHUB_TOKEN": "ghp_x",
        "HOME": "/h",
    }
    assert model_env("claude-code", environ) == {
        "ANTHROPIC_API_KEY": "${ANTHROPIC_API_KEY}",
        "ANTHROPIC_BASE_URL": "${ANTHROPIC_BASE_URL}",
        "CLAUDE_CODE_MAX_RETRIES": "${CLAUDE_CODE_MAX_RETRIES}",
    }
    assert model_env("codex", environ) == {"OPENAI_API_KEY": "${OPENAI_API_KEY}"}
    assert model_env("scripted", environ) == {}


def test_demo_with_real_claude_code(
    tmp_path: Path, parent_env: dict[str, str], require_cli_fn: Callable[[str], str]
) -> None:
    require_cli_fn("claude")
    assert_pinned("claude", parent_env)  # the CLI the demo will run; another version fails
    directory = tmp_path / "demo"
    with FakeAnthropic(TURNS) as fake:
        environ = {**parent_env, **fake.env()}
        out, err = io.StringIO(), io.StringIO()
        code = main(
            ["demo", "--dir", str(directory), "--agent", "claude-code"],
            context=AppContext(environ=environ, stdout=out, stderr=err),
        )
        text = out.getvalue() + err.getvalue()
        assert code == 0, text
        assert fake.requests, "the CLI never reached the fake model"
    prs = re.findall(r"demo/calc#(\d)  (http://127\.0\.0\.1:\d+/demo/calc/pull/\d+)", text)
    assert [n for n, _ in prs] == ["1", "2", "3"], text
    assert text.count("review: approve") == 3, text
    assert "demo/calc#4  'Docs: clarify README' by mallory (NONE)" in text
    # the key went by reference, never into the demo's files
    config = (directory / "config.yaml").read_text()
    assert "sk-ant-fake-key" not in config
    assert yaml.safe_load(config)["agents"]["claude-code"]["env"]["ANTHROPIC_API_KEY"] == (
        "${ANTHROPIC_API_KEY}"
    )
    transcripts = list((directory / "issues").rglob("transcripts/*.jsonl"))
    # 3 issues x plan, implement, review; then the follow-up round on #1: revise, review again
    assert len(transcripts) == 11, transcripts
    assert len(list((directory / "issues").rglob("transcripts/revise-*.jsonl"))) == 1
    assert "revised in round 1 on the same branch" in text, text
    assert not any("sk-ant-fake-key" in p.read_text() for p in transcripts)
