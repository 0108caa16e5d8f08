"""Registry, `ghw agents --check` rows, ensure_installed and the CLI-presence helper."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ghw.agents import (
    AgentSettings,
    check_agents,
    ensure_installed,
    known_agents,
    make_agent,
)
from ghw.agents.base import Agent
from ghw.errors import AgentNotInstalledError, ConfigError


def test_every_known_agent_builds() -> None:
    assert known_agents() == (
        "claude-code",
        "codex",
        "gemini",
        "opencode",
        "cursor-agent",
        "command",
        "scripted",
    )
    for name in known_agents():
        agent = make_agent(AgentSettings(name=name))
        assert isinstance(agent, Agent) and agent.name == name


def test_unknown_agent_and_type_alias() -> None:
    with pytest.raises(ConfigError, match="unknown agent 'nope'"):
        make_agent(AgentSettings(name="nope"))
    fast = make_agent(AgentSettings(name="claude-fast", extra={"type": "claude-code"}))
    assert fast.name == "claude-fast" and type(fast).__name__ == "ClaudeCodeAgent"


def test_settings_are_immutable() -> None:
    s = AgentSettings(name="x", env={"A": "1"}, args=["a"])  # type: ignore[arg-type]
    assert s.args == ("a",)
    with pytest.raises(TypeError):
        s.env["A"] = "2"  # type: ignore[index]


def test_ensure_installed_names_agent_and_npm_command() -> None:
    with pytest.raises(AgentNotInstalledError) as err:
        ensure_installed(AgentSettings(name="claude-code", command="claude-not-here-xyz"))
    msg = str(err.value)
    assert err.value.exit_code == 2
    assert "'claude-code'" in msg and "claude-not-here-xyz" in msg
    assert "npm install -g @anthropic-ai/claude-code@2.1.197" in msg
    with pytest.raises(
        AgentNotInstalledError, match=re.escape("npm install -g @openai/codex@0.169.0")
    ):
        ensure_installed(AgentSettings(name="codex", command="codex-not-here-xyz"))
    with pytest.raises(AgentNotInstalledError, match=re.escape("cursor.com/install")):
        ensure_installed(AgentSettings(name="cursor-agent", command="cursor-not-here-xyz"))
    ensure_installed(AgentSettings(name="scripted"))  # built in: never missing
    ensure_installed(AgentSettings(name="command", command="sh"))


async def test_check_agents_rows(tmp_path: Path) -> None:
    fake = tmp_path / "fakecli"
    fake.write_text("#!/bin/sh\necho 'fakecli 9.9.9'\n")
    fake.chmod(0o755)
    rows = await check_agents(
        {
            "claude-code": AgentSettings(name="claude-code", command=str(fake)),
            "codex": AgentSettings(name="codex", command="codex-not-here-xyz"),
        },
        {"claude-code": ["plan", "review"], "scripted": ["implement"]},
    )
    by = {r.name: r for r in rows}
    assert [r.name for r in rows] == ["claude-code", "codex", "scripted"]
    assert by["claude-code"].installed and by["claude-code"].version == "fakecli 9.9.9"
    assert by["claude-code"].phases == ("plan", "review") and by["claude-code"].path == str(fake)
    assert not by["codex"].installed and by["codex"].phases == ()
    assert "npm install -g @openai/codex" in by["codex"].install_hint
    assert by["scripted"].installed and by["scripted"].phases == ("implement",)


def test_require_cli_skips_or_fails(
    require_cli_fn: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = "ghw-no-such-agent-cli"
    with pytest.raises(pytest.skip.Exception):
        require_cli_fn(missing, {"PATH": "/nonexistent"})
    with pytest.raises(pytest.fail.Exception, match="GHW_REQUIRE_AGENT_CLIS=1"):
        require_cli_fn(missing, {"PATH": "/nonexistent", "GHW_REQUIRE_AGENT_CLIS": "1"})
    assert require_cli_fn("sh", {"PATH": "/bin:/usr/bin", "GHW_REQUIRE_AGENT_CLIS": "1"})


def test_require_cli_fails_a_real_test_run(tmp_path: Path) -> None:
    """End to end: a test that needs a missing CLI fails (not skips) under the CI flag."""
    (tmp_path / "conftest.py").write_text(Path(__file__).with_name("conftest.py").read_text())
    (tmp_path / "test_needs_cli.py").write_text(
        "def test_it(require_cli_fn):\n    require_cli_fn('ghw-no-such-cli')\n"
    )

    def run(flag: str) -> str:
        env = {**os.environ, "GHW_REQUIRE_AGENT_CLIS": flag}
        out = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfs"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        return out.stdout

    assert "1 failed" in run("1")
    assert "1 skipped" in run("0")


def test_durations_in_settings() -> None:
    from datetime import timedelta

    from ghw.agents.scripted import delay_seconds

    s = AgentSettings(name="x", timeout=timedelta(minutes=30), grace=timedelta(seconds=10))  # type: ignore[arg-type]
    assert (s.timeout, s.grace) == (1800.0, 10.0)
    assert delay_seconds("2s") == 2.0 and delay_seconds(1.5) == 1.5 and delay_seconds(None) == 0
    assert delay_seconds(timedelta(seconds=3)) == 3.0
    with pytest.raises(ValueError):
        delay_seconds("soon")
