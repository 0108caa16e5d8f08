"""The real Claude Code CLI (pinned 2.1.197, installed by scripts/install/agent-clis.sh) against
the fake Anthropic API on 127.0.0.1. Nothing leaves the machine: the CLI's non-essential
traffic is switched off and its API base URL is the fake.

Every real-CLI test (here, in test_agents_codex_real.py and test_agents_claude_demo.py) first
checks that the CLI it is about to run is the version scripts/install/agent-clis.sh pins
(:func:`assert_pinned`): another version fails the test, it does not pass on behaviour nobody
recorded."""

from __future__ import annotations

import asyncio
import functools
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from support.fake_anthropic import FakeAnthropic

from ghw.agents import AgentMode, AgentRequest, AgentSettings, make_agent
from ghw.agents.process import group_members

WRITE_TURNS = [
    {
        "text": "I'll create hello.txt.",
        "tool": "Write",
        "input": {"file_path": "{cwd}/hello.txt", "content": "hello from the fake model\n"},
    },
    {"text": "Done: I created hello.txt."},
]


PIN_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install" / "agent-clis.sh"
_PIN_LINE = re.compile(r'^\s*"(\S+)@(\d[\w.+-]*) (\S+)"\s*$', re.MULTILINE)
_VERSION = re.compile(r"(?<![\w.])(\d+\.\d+\.\d+)(?![\w.])")


def pinned_version(binary: str) -> str:
    """The version scripts/install/agent-clis.sh pins for ``binary`` (its ``PINS`` lines,
    ``"package@version binary"``)."""
    pins = _PIN_LINE.findall(PIN_SCRIPT.read_text(encoding="utf-8"))
    found = [version for _package, version, name in pins if name == binary]
    assert len(found) == 1, f"{PIN_SCRIPT}: expected one pin for {binary!r}, found {pins}"
    return found[0]


@functools.cache
def _version_of(path: str, path_env: str) -> tuple[str | None, str]:
    proc = subprocess.run(
        [path, "--version"],
        env={"PATH": path_env, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    shown = (proc.stdout.strip() or proc.stderr.strip())[:200]
    match = _VERSION.search(proc.stdout) if proc.returncode == 0 else None
    return (match.group(1) if match else None), shown


def assert_pinned(binary: str, env: Mapping[str, str]) -> str:
    """The ``binary`` an adapter resolves on ``env``'s PATH; fails the test (not a skip) unless
    ``binary --version`` is the version agent-clis.sh pins."""
    path_env = env.get("PATH", "")
    path = shutil.which(binary, path=path_env)
    if path is None:
        pytest.fail(f"{binary!r} is not on the PATH the test runs it with: {path_env}")
    want = pinned_version(binary)
    got, shown = _version_of(path, path_env)
    if got != want:
        pytest.fail(
            f"{path} is {binary} {got or '(unknown version)'} ({shown!r}), but the real-CLI "
            f"tests are pinned to {want} by scripts/install/agent-clis.sh; run: "
            "bash scripts/install/agent-clis.sh",
            pytrace=False,
        )
    return path


@pytest.fixture(autouse=True)
def claude(require_cli_fn: Callable[[str], str], parent_env: dict[str, str]) -> str:
    require_cli_fn("claude")
    return assert_pinned("claude", parent_env)


def _fake_cli(tmp_path: Path, name: str, prints: str) -> dict[str, str]:
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / name
    script.write_text(f"#!/bin/sh\necho '{prints}'\n")
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin"}


@pytest.mark.parametrize(
    ("binary", "prints"),
    [("claude", "2.1.198 (Claude Code)"), ("codex", "codex-cli 0.169.1"), ("claude", "garbage")],
)
def test_a_cli_at_another_version_fails_the_test(tmp_path: Path, binary: str, prints: str) -> None:
    env = _fake_cli(tmp_path, binary, prints)
    with pytest.raises(pytest.fail.Exception, match="pinned to"):
        assert_pinned(binary, env)


@pytest.mark.parametrize("binary", ["claude", "codex"])
def test_the_pinned_version_passes_the_check(tmp_path: Path, binary: str) -> None:
    prints = f"{pinned_version(binary)} (Claude Code)" if binary == "claude" else ""
    prints = prints or f"codex-cli {pinned_version(binary)}"
    env = _fake_cli(tmp_path, binary, prints)
    assert assert_pinned(binary, env) == str(tmp_path / "fake-bin" / binary)


def agent(fake: FakeAnthropic, **kw: Any) -> Any:
    kw.setdefault("timeout", 30)
    kw.setdefault("grace", 2)
    return make_agent(AgentSettings(name="claude-code", env=fake.env(), **kw))


def request(
    repo: Path, home: Path, env: dict[str, str], mode: AgentMode, **kw: Any
) -> AgentRequest:
    return AgentRequest(
        prompt="create hello.txt",
        cwd=repo,
        mode=mode,
        phase="implement" if mode is AgentMode.WRITE else "plan",
        issue="o/r#1",
        ghw_home=home,
        parent_env=env,
        **kw,
    )


def read(path: Path) -> str:
    return path.read_text()


async def test_write_two_turns(
    repo: Path,
    ghw_home: Path,
    parent_env: dict[str, str],
    tmp_path: Path,
    git_fn: Callable[..., str],
) -> None:
    spawned: list[tuple[int, float]] = []
    transcript = tmp_path / "transcripts" / "implement-4.jsonl"
    with FakeAnthropic(WRITE_TURNS) as fake:
        res = await agent(fake).run(
            request(
                repo,
                ghw_home,
                parent_env,
                AgentMode.WRITE,
                transcript_path=transcript,
                on_spawn=lambda pgid, start: spawned.append((pgid, start)),
            )
        )
    assert res.success, res.error
    assert res.text == "Done: I created hello.txt."
    assert read(repo / "hello.txt") == "hello from the fake model\n"
    assert "?? hello.txt" in git_fn(repo, "status", "--porcelain")
    assert res.session_id and len(res.session_id) == 36
    assert res.cost_usd is not None and res.cost_usd > 0
    assert (res.input_tokens, res.output_tokens, res.turns) == (200, 20, 2)
    assert res.exit_code == 0 and res.agent == "claude-code"
    assert res.transcript_sha256 and '"type":"result"' in read(transcript).replace(" ", "")
    assert spawned and spawned[0][1] > 0
    assert [r["index"] for r in fake.requests if not r.get("side_call")] == [0, 1]
    assert "Write" in fake.requests[0]["tools"]
    assert "create hello.txt" in fake.requests[0]["user_text"]  # the prompt came via stdin


async def test_read_only_blocks_the_write_but_answers(
    repo: Path, ghw_home: Path, parent_env: dict[str, str], git_fn: Callable[..., str]
) -> None:
    with FakeAnthropic(WRITE_TURNS) as fake:
        res = await agent(fake).run(request(repo, ghw_home, parent_env, AgentMode.READ_ONLY))
    assert res.success, res.error
    assert res.text == "Done: I created hello.txt."
    assert not (repo / "hello.txt").exists()
    assert git_fn(repo, "status", "--porcelain") == ""
    offered = fake.requests[0]["tools"]
    assert not {"Write", "Edit", "Bash", "NotebookEdit"} & set(offered)
    assert "Read" in offered


async def test_api_error(repo: Path, ghw_home: Path, parent_env: dict[str, str]) -> None:
    with FakeAnthropic([{"error": 500}]) as fake:
        res = await agent(fake).run(request(repo, ghw_home, parent_env, AgentMode.WRITE))
    assert not res.success
    assert res.error_kind == "api_error" and res.transient
    assert "500" in (res.error or "") and res.exit_code == 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
async def test_killed_before_result(
    repo: Path, ghw_home: Path, parent_env: dict[str, str], sig: signal.Signals
) -> None:
    spawned: list[int] = []
    with FakeAnthropic([{"hang": True}]) as fake:
        task = asyncio.create_task(
            agent(fake).run(
                request(
                    repo,
                    ghw_home,
                    parent_env,
                    AgentMode.WRITE,
                    on_spawn=lambda pgid, start: spawned.append(pgid),
                )
            )
        )
        for _ in range(400):  # until the CLI is waiting on the model
            if fake.requests:
                break
            await asyncio.sleep(0.025)
        assert fake.requests, "the CLI never called the fake API"
        os.kill(spawned[0], sig)
        res = await asyncio.wait_for(task, 10)
    assert not res.success
    assert res.error_kind == "interrupted" and res.transient
    assert res.exit_code in (143, -signal.SIGTERM, -signal.SIGKILL)
    assert res.session_id  # from the init line, for a later --resume


async def test_hung_model_ends_at_timeout_with_group_gone(
    repo: Path, ghw_home: Path, parent_env: dict[str, str]
) -> None:
    spawned: list[int] = []
    t0 = time.monotonic()
    with FakeAnthropic([{"hang": True}]) as fake:
        res = await agent(fake, timeout=2.5, grace=1).run(
            request(
                repo,
                ghw_home,
                parent_env,
                AgentMode.WRITE,
                on_spawn=lambda pgid, start: spawned.append(pgid),
            )
        )
    assert time.monotonic() - t0 < 8
    assert not res.success and res.error_kind == "timeout" and res.transient
    assert group_members(spawned[0]) == []  # no live member (zombies awaiting reaping aside)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.killpg(spawned[0], 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.05)  # a zombie is gone once its parent (or init) reaps it
    else:
        raise AssertionError(f"process group {spawned[0]} still exists")
