"""Fixtures of the agents suite.

Real agent CLIs: without ``GHW_REQUIRE_AGENT_CLIS`` a missing CLI skips its tests (a developer
without npm can still run the suite); with ``GHW_REQUIRE_AGENT_CLIS=1`` (CI) it fails them, so a
broken install step cannot hide behind skips. Tests get the helper as the ``require_cli`` fixture.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"


def cli_required(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get("GHW_REQUIRE_AGENT_CLIS", "").strip().lower() in ("1", "true", "yes")


def require_cli(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The path of CLI ``name`` (./.tools/bin first, then PATH), or skip / fail the test."""
    env = os.environ if environ is None else environ
    search = os.pathsep.join([str(TOOLS_BIN), env.get("PATH", "")])
    path = shutil.which(name, path=search)
    if path is not None:
        return path
    msg = f"agent CLI {name!r} is not installed (run: bash scripts/install/agent-clis.sh)"
    if cli_required(env):
        pytest.fail(f"{msg}; GHW_REQUIRE_AGENT_CLIS=1 makes this a failure", pytrace=False)
    pytest.skip(msg)


@pytest.fixture
def require_cli_fn() -> Callable[..., str]:
    return require_cli


def git(cwd: Path, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    out = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git workspace with one commit."""
    ws = tmp_path / "workspace"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    (ws / "README.md").write_text("demo\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-q", "-m", "init")
    return ws


@pytest.fixture
def ghw_home(tmp_path: Path) -> Path:
    home = tmp_path / "ghw-home"
    home.mkdir()
    return home


@pytest.fixture
def parent_env(tmp_path: Path) -> dict[str, str]:
    """ghw's environment as the adapters see it: a fresh HOME, the pinned CLIs first on PATH."""
    home = tmp_path / "home"
    home.mkdir()
    path = os.pathsep.join([str(TOOLS_BIN), os.environ.get("PATH", "/usr/bin:/bin")])
    return {"PATH": path, "HOME": str(home), "LANG": "C.UTF-8", "TERM": "dumb"}


@pytest.fixture
def git_fn() -> Callable[..., str]:
    return git


DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    return DATA
