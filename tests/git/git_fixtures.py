"""Fixtures of the git tests (imported by each test module: a second conftest.py would shadow
tests/conftest.py, which other tests import by name): a token-guarded HTTP git server with one
repository, a git spy on PATH that logs every argv and environment key ghw's git calls get,
and a mirror."""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from git_testkit import FILES, REPO, Remote, Spy
from http_git_server import GitHttpServer, make_bare_repo

from ghw.git import Git, Mirror, Workspace


@pytest.fixture
def token() -> str:
    return "ghp_" + secrets.token_hex(18)


@pytest.fixture
def remote(tmp_path: Path, token: str) -> Iterator[Remote]:
    root = tmp_path / "remote"
    bare = make_bare_repo(root, REPO, FILES)
    server = GitHttpServer(root, token).start()
    try:
        yield Remote(server, bare, token)
    finally:
        server.stop()


@pytest.fixture
def spy(tmp_path: Path) -> Spy:
    bindir = tmp_path / "spybin"
    bindir.mkdir()
    log = tmp_path / "spy.log"
    real = shutil.which("git")
    assert real
    script = bindir / "git"
    # Records argv verbatim and only the *names* of environment variables (values would include
    # the token by design), then becomes the real git.
    script.write_text(
        "#!/bin/sh\n"
        f"{{ printf 'ARGV'; for a in \"$@\"; do printf '\\0%s' \"$a\"; done; printf '\\n';\n"
        "  printf 'ENV'; env | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/ \\1/p' | tr -d '\\n';"
        f" printf '\\n'; }} >> '{log}'\n"
        f"exec '{real}' \"$@\"\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return Spy(log, bindir)


@pytest.fixture
def git(tmp_path: Path, spy: Spy, token: str) -> Git:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    # A user config that would break ghw if it were read (it must not be).
    (home / ".gitconfig").write_text('[url "http://evil.invalid/"]\n\tinsteadOf = http://\n')
    environ = {
        "PATH": f"{spy.bindir}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        # In ghw's environment, never in git's.
        "GITHUB_TOKEN": token,
        "GIT_TRACE": "1",
    }
    return Git(tmp_path / "gitenv", environ=environ, timeout=60)


@pytest.fixture
def issues(tmp_path: Path) -> Path:
    path = tmp_path / "issues"
    path.mkdir()
    return path


@pytest.fixture
def mirror(issues: Path, git: Git, token: str) -> Mirror:
    return Mirror(issues / REPO, REPO, lambda: token, git=git)


@pytest.fixture
async def ready_mirror(mirror: Mirror, remote: Remote) -> Mirror:
    await mirror.ensure(remote.url)
    return mirror


@pytest.fixture
async def workspace(ready_mirror: Mirror, issues: Path) -> Workspace:
    return Workspace(issues / REPO / "1" / "workspace", ready_mirror)
