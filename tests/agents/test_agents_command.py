"""The command agent, and what any agent may see: environment, transcript, logs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import structlog

from ghw.agents import AgentMode, AgentRequest, AgentSettings, make_agent

TOKEN = "ghs_TopSecretGithubToken0123456789abcdef"


def command(script: str, **kw: Any) -> Any:
    return make_agent(
        AgentSettings(name="command", command="sh", args=("-c", script), timeout=20, grace=1, **kw)
    )


def exists(path: str) -> bool:
    return Path(path).exists()


def listing(path: str) -> list[Path]:
    return list(Path(path).iterdir())


def request(cwd: Path, home: Path, env: dict[str, str], **kw: Any) -> AgentRequest:
    return AgentRequest(
        prompt=kw.pop("prompt", "the prompt\nsecond line\n"),
        cwd=cwd,
        mode=kw.pop("mode", AgentMode.WRITE),
        phase=kw.pop("phase", "implement"),
        issue="o/r#5",
        ghw_home=home,
        parent_env=env,
        **kw,
    )


async def test_prompt_on_stdin_text_on_stdout(
    repo: Path, ghw_home: Path, parent_env: dict[str, str]
) -> None:
    res = await command('cat; echo "phase=$GHW_PHASE issue=$GHW_ISSUE mode=$GHW_MODE"').run(
        request(repo, ghw_home, parent_env)
    )
    assert res.success and res.exit_code == 0 and res.error_kind is None
    assert res.text == "the prompt\nsecond line\nphase=implement issue=o/r#5 mode=write"
    assert res.cost_usd is None and res.session_id is None


async def test_nonzero_exit_is_a_failure(
    repo: Path, ghw_home: Path, parent_env: dict[str, str]
) -> None:
    res = await command("echo partial; echo oops >&2; exit 4").run(
        request(repo, ghw_home, parent_env)
    )
    assert not res.success and res.exit_code == 4
    assert res.error_kind == "exit_nonzero" and not res.transient
    assert "oops" in (res.error or "")


async def test_read_only_runs_in_a_throwaway_copy(
    repo: Path, ghw_home: Path, parent_env: dict[str, str]
) -> None:
    res = await command("cat README.md; echo x > created.txt; rm README.md; pwd").run(
        request(repo, ghw_home, parent_env, mode=AgentMode.READ_ONLY, phase="plan")
    )
    assert res.success
    lines = res.text.splitlines()
    assert lines[0] == "demo"  # it saw the workspace's content
    assert Path(lines[-1]) != repo
    assert (repo / "README.md").exists() and not (repo / "created.txt").exists()
    assert not exists(lines[-1])  # the copy is gone


async def test_timeout(repo: Path, ghw_home: Path, parent_env: dict[str, str]) -> None:
    agent = make_agent(
        AgentSettings(name="command", command="sleep", args=("30",), timeout=0.3, grace=0.5)
    )
    res = await agent.run(request(repo, ghw_home, parent_env))
    assert res.error_kind == "timeout" and res.transient and not res.success


async def test_missing_command(repo: Path, ghw_home: Path, parent_env: dict[str, str]) -> None:
    res = await make_agent(AgentSettings(name="command", command="no-such-agent-cli-xyz")).run(
        request(repo, ghw_home, parent_env)
    )
    assert res.error_kind == "not_installed" and not res.transient
    assert "no-such-agent-cli-xyz" in (res.error or "")
    unset = await make_agent(AgentSettings(name="command")).run(request(repo, ghw_home, parent_env))
    assert unset.error_kind == "not_installed" and "agents.<name>.command" in (unset.error or "")


async def test_unresolved_env_reference_fails_before_spawn(
    repo: Path, ghw_home: Path, parent_env: dict[str, str]
) -> None:
    res = await command("env", env={"API_KEY": "${NOT_SET_ANYWHERE}"}).run(
        request(repo, ghw_home, parent_env)
    )
    assert res.error_kind == "spawn_error" and "NOT_SET_ANYWHERE" in (res.error or "")


async def test_github_token_never_reaches_agent_transcript_or_logs(
    repo: Path,
    ghw_home: Path,
    parent_env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {
        **parent_env,
        "GITHUB_TOKEN": TOKEN,
        "GH_TOKEN": TOKEN,
        "MY_GH": TOKEN,
        "OPENAI_KEY": "sk-model-key",
    }
    dump = tmp_path / "env.dump"
    # The agent dumps its environment to a file and to stdout, then echoes the prompt, which
    # (say, through an issue body) contains the token.
    agent = command(
        f"env > {dump}; env; cat",
        env={"MODEL_KEY": "${OPENAI_KEY}", "LEAK": "${MY_GH}", "TOKEN_FILE_VAR": "x"},
    )
    transcript = tmp_path / "transcripts" / "implement-3.jsonl"
    events: list[str] = []
    with structlog.testing.capture_logs() as logs:
        res = await agent.run(
            request(
                repo,
                ghw_home,
                env,
                prompt=f"fix it; token is {TOKEN}",
                secrets=[TOKEN],
                secret_env_names=["MY_GH"],
                transcript_path=transcript,
                on_event=lambda e: events.append(e.text),
            )
        )
    assert res.success
    agent_env = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    assert TOKEN not in dump.read_text()
    assert not {"GITHUB_TOKEN", "GH_TOKEN", "MY_GH", "LEAK"} & set(agent_env)
    assert agent_env["MODEL_KEY"] == "sk-model-key"
    assert agent_env["GIT_CONFIG_GLOBAL"].startswith(str(ghw_home))
    assert agent_env["GH_CONFIG_DIR"].startswith(str(ghw_home))
    assert agent_env["GIT_CONFIG_NOSYSTEM"] == "1" and agent_env["GIT_TERMINAL_PROMPT"] == "0"
    assert not listing(agent_env["GH_CONFIG_DIR"])
    text = transcript.read_text()
    assert TOKEN not in text and "***" in text
    assert json.loads(text.splitlines()[0])["prompt"] == "fix it; token is ***"
    assert TOKEN not in res.text and "token is ***" in res.text
    assert all(TOKEN not in e for e in events)
    assert logs and TOKEN not in repr(logs)
    out = capsys.readouterr()
    assert TOKEN not in out.out and TOKEN not in out.err


async def test_read_only_copy_skips_fifos_and_missing_cwd_fails_cleanly(
    repo: Path, ghw_home: Path, parent_env: dict[str, str], tmp_path: Path
) -> None:
    import os

    os.mkfifo(repo / "a.fifo")  # copying it with open() would block forever
    res = await command("ls").run(
        request(repo, ghw_home, parent_env, mode=AgentMode.READ_ONLY, phase="review")
    )
    assert res.success and "README.md" in res.text and "a.fifo" not in res.text
    gone = await command("true").run(request(tmp_path / "nope", ghw_home, parent_env))
    assert gone.error_kind == "spawn_error" and not gone.success
