"""Helpers shared by the fakehub tests: git CLI calls with test credentials."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

from ghw.fakehub import FakeHub

TOKEN = "ghp_test_token_value_123"


def git_auth_args(token: str = TOKEN) -> list[str]:
    """``-c http.extraHeader=...`` with HTTP Basic credentials, as ghw's git layer sends them."""
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return ["-c", f"http.extraHeader=Authorization: Basic {basic}"]


def git(
    *args: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "",
            "SSH_ASKPASS": "",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.com",
        }
    )
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc


def push_branch(hub: FakeHub, tmp_path: Path, branch: str, files: dict[str, str]) -> str:
    """Clone demo/calc over HTTP, commit ``files`` on ``branch``, push it; returns the sha."""
    work = tmp_path / f"work-{branch.replace('/', '-')}"
    git(*git_auth_args(), "clone", "--quiet", hub.clone_url("demo/calc"), str(work))
    git("checkout", "--quiet", "-b", branch, cwd=work)
    for path, content in files.items():
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", f"work on {branch}", cwd=work)
    git(*git_auth_args(), "push", "--quiet", "origin", branch, cwd=work)
    return git("rev-parse", "HEAD", cwd=work).stdout.strip()
