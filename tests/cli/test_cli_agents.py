"""A configured agent whose CLI is missing stops only the commands that would run it (§6)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ghw.fakehub import FakeHub

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ledger"))
from ledger_helpers import file_digest, run_cli


@pytest.fixture
def hub():  # type: ignore[no-untyped-def]
    with FakeHub.start(seed="demo") as h:
        yield h


@pytest.fixture
def env(tmp_path: Path, clean_env: dict[str, str], hub) -> dict[str, str]:  # type: ignore[no-untyped-def]
    config = tmp_path / "config.yaml"
    config.write_text(
        f"issues_path: {tmp_path / 'issues'}\n"
        f"github:\n  api_url: {hub.base_url}\n"
        "agent:\n  default: claude-code\n"
        "agents:\n  claude-code:\n    command: ghw-no-such-claude-binary\n"
    )
    return {
        **clean_env,
        "GHW_CONFIG": str(config),
        "GITHUB_TOKEN": "t0k3n",
        "PATH": "/usr/bin:/bin",
    }


def test_missing_agent_fails_only_commands_that_run_it(
    env: dict[str, str], tmp_path: Path, hub
) -> None:  # type: ignore[no-untyped-def]
    assert run_cli(["repo", "add", "demo/calc"], env)[0] == 0
    code, out, err = run_cli(["sync"], env)
    assert code == 0, err
    assert "demo/calc: 4 issues seen" in out
    db = tmp_path / "issues" / "ghw.db"
    before = file_digest(db)
    requests_before = len(hub.control.requests())
    for command in (["plan"], ["implement"], ["review"], ["cycle"]):
        code, out, err = run_cli(command, env)
        assert code == 2, command
        assert "claude-code" in err and "ghw-no-such-claude-binary" in err and "install" in err
        assert "Traceback" not in err
        assert "===" not in out  # no phase started
    assert file_digest(db) == before  # nothing was written
    assert len(hub.control.requests()) == requests_before  # nothing was asked of GitHub
    for command in (
        ["status"],
        ["history", "demo/calc#1"],
        ["replay", "--verify"],
        ["config", "show"],
        ["repo", "list"],
    ):
        assert run_cli(command, env)[0] == 0, command
    # a phase subset that does not run the agent is fine
    assert run_cli(["cycle", "--phases", "sync"], env)[0] == 0
    # the dry run runs no agent either
    assert run_cli(["plan", "--dry-run"], env)[0] == 0


def test_agents_check_lists_install_hints(env: dict[str, str]) -> None:
    code, out, _ = run_cli(["agents", "--json"], env)
    rows = {r["name"]: r for r in json.loads(out)}
    assert code == 0
    assert rows["claude-code"]["installed"] is False
    assert rows["claude-code"]["phases"] == ["plan", "implement", "review", "revise"]
    assert (
        "npm install" in rows["claude-code"]["install"]
        or "command" in rows["claude-code"]["install"]
    )
    assert rows["scripted"]["installed"] is True
    code, out, _ = run_cli(["agents", "--check"], env)
    assert code == 1 and "NOT INSTALLED" in out
    env2 = {**env, "GHW_AGENT_DEFAULT": "scripted"}
    assert run_cli(["agents", "--check"], env2)[0] == 0
