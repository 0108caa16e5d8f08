"""Helpers shared by the git tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from http_git_server import GitHttpServer, plain_git_env

REPO = "octo/demo"
FILES = {
    "README.md": "hello\n",
    "src/app.py": "print(1)\n",
    ".gitignore": "build/\n",
}


@dataclass
class Spy:
    """Every git process ghw started: ``ARGV\\0arg\\0arg…`` and ``ENV key key…`` lines."""

    log: Path
    bindir: Path

    def text(self) -> str:
        return self.log.read_text("utf-8", "replace") if self.log.exists() else ""

    def argvs(self) -> list[list[str]]:
        return [line.split("\0")[1:] for line in self.text().split("\n") if line.startswith("ARGV")]

    def env_keys(self) -> list[set[str]]:
        return [
            set(line[4:].split()) for line in self.text().split("\n") if line.startswith("ENV ")
        ]


@dataclass
class Remote:
    server: GitHttpServer
    bare: Path
    token: str

    @property
    def url(self) -> str:
        return self.server.url(REPO)


def run_git(cwd_or_gitdir: Path, *args: str) -> str:
    """The test's own git (not ghw's): plain environment, text output."""
    return subprocess.run(
        ["git", "-C", str(cwd_or_gitdir), *args],
        capture_output=True,
        text=True,
        check=True,
        env=plain_git_env(cwd_or_gitdir.parent),
    ).stdout.strip()
