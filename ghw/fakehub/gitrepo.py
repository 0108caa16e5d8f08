"""Operations on one bare repository, through the git CLI.

Pull requests are real: their head and base are branches of a bare repository, their diff is
``git diff base...head`` and merging writes a real merge commit. Commits that fakehub itself makes
(seed files, control-API pushes) go through ``git fast-import`` so any number of files costs one
process.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "FAKEHUB_IDENT",
    "GitError",
    "GitRepo",
    "git_env",
]

FAKEHUB_IDENT = ("fakehub", "fakehub@127.0.0.1")


class GitError(RuntimeError):
    """A git command failed; carries its stderr."""


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for git calls: ours, minus any inherited ``GIT_*`` that could redirect it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    if extra:
        env.update(extra)
    return env


class GitRepo:
    """A bare repository at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _run(
        self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", "--git-dir", str(self.path), *args],
            input=input,
            capture_output=True,
            env=git_env(env),
            check=False,
        )

    def _ok(
        self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> str:
        proc = self._run(*args, input=input, env=env)
        if proc.returncode != 0:
            raise GitError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout.decode(errors="replace")

    def init(self, default_branch: str) -> None:
        """Create the bare repository, pushable over smart HTTP."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [
                "git",
                "init",
                "--quiet",
                "--bare",
                f"--initial-branch={default_branch}",
                str(self.path),
            ],
            capture_output=True,
            env=git_env(),
            check=False,
        )
        if proc.returncode != 0:
            raise GitError(proc.stderr.decode(errors="replace"))
        self._ok("config", "http.receivepack", "true")
        self._ok("config", "uploadpack.allowAnySHA1InWant", "true")

    def exists(self) -> bool:
        return (self.path / "HEAD").is_file()

    def branch_sha(self, branch: str) -> str | None:
        """The commit a branch points at, or None when there is no such branch."""
        proc = self._run("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
        if proc.returncode != 0:
            return None
        return proc.stdout.decode().strip() or None

    def resolve_commit(self, ref: str) -> str | None:
        """The full sha of the commit ``ref`` names (a sha, a branch, a tag), or None."""
        if not ref or ref.startswith("-"):
            return None  # never an option to rev-parse
        proc = self._run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        if proc.returncode != 0:
            return None
        return proc.stdout.decode().strip() or None

    def branches(self) -> dict[str, str]:
        """Every branch and its tip, in one call."""
        out = self._ok("for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads/")
        result: dict[str, str] = {}
        for line in out.splitlines():
            name, _, sha = line.rpartition(" ")
            if name:
                result[name] = sha
        return result

    def count_commits(self, base: str, head: str) -> int:
        """Commits reachable from ``head`` but not from ``base`` (GitHub's "commits between")."""
        return int(self._ok("rev-list", "--count", f"{base}..{head}").strip() or 0)

    def diff(self, base: str, head: str, *paths: str) -> str:
        """``git diff base...head``: what the pull request changes since it forked from base
        (only in ``paths`` when given)."""
        limit = ("--", *paths) if paths else ()
        return self._ok("diff", "--no-color", "--no-ext-diff", f"{base}...{head}", *limit)

    def line_changes(self, old: str, new: str, path: str) -> str:
        """``git diff -U0 old new -- path``: only the changed lines, to follow a line through."""
        return self._ok("diff", "-U0", "--no-color", "--no-ext-diff", old, new, "--", path)

    def patch(self, base: str, head: str) -> str:
        return self._ok("format-patch", "--stdout", "--no-color", f"{base}..{head}")

    def shortstat(self, base: str, head: str) -> tuple[int, int, int]:
        """(changed files, additions, deletions) of ``base...head``."""
        out = self._ok("diff", "--numstat", f"{base}...{head}")
        files = adds = dels = 0
        for line in out.splitlines():
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            files += 1
            adds += int(parts[0]) if parts[0].isdigit() else 0
            dels += int(parts[1]) if parts[1].isdigit() else 0
        return files, adds, dels

    def read_file(self, ref: str, path: str) -> str | None:
        proc = self._run("show", f"{ref}:{path}")
        return proc.stdout.decode() if proc.returncode == 0 else None

    def commit_files(
        self,
        branch: str,
        files: Mapping[str, str | bytes | None],
        *,
        message: str,
        parent: str | None,
        when: int,
        author: tuple[str, str] = FAKEHUB_IDENT,
    ) -> str:
        """Commit ``files`` (path → content, None deletes) onto ``branch`` from ``parent``.

        Returns the new commit's sha. Uses ``git fast-import``, so a seed with many files is one
        process.
        """
        name, email = author
        ident = f"{name} <{email}> {when} +0000"
        msg = message.encode()
        chunks: list[bytes] = [
            f"commit refs/heads/{branch}\n".encode(),
            b"mark :1\n",
            f"author {ident}\ncommitter {ident}\n".encode(),
            f"data {len(msg)}\n".encode(),
            msg,
            b"\n",
        ]
        if parent:
            chunks.append(f"from {parent}\n".encode())
        for path, content in files.items():
            clean = path.strip("/")
            if not clean or ".." in clean.split("/") or "\n" in clean or '"' in clean:
                raise GitError(f"refused path {path!r}")
            if content is None:
                chunks.append(f"D {clean}\n".encode())
                continue
            data = content.encode() if isinstance(content, str) else content
            chunks.append(f"M 100644 inline {clean}\ndata {len(data)}\n".encode())
            chunks.append(data)
            chunks.append(b"\n")
        chunks.append(b"get-mark :1\n")
        proc = self._run("fast-import", "--quiet", "--force", input=b"".join(chunks))
        if proc.returncode != 0:
            raise GitError(f"fast-import failed: {proc.stderr.decode(errors='replace').strip()}")
        return proc.stdout.decode().strip().splitlines()[-1]

    def can_merge(self, base: str, head: str) -> bool:
        """Whether ``head`` merges into ``base`` without conflicts (nothing is written to refs)."""
        return self._run("merge-tree", "--write-tree", base, head).returncode == 0

    def merge(
        self, base: str, head: str, *, message: str, when: int, author: tuple[str, str]
    ) -> str | None:
        """Merge ``head`` into branch ``base`` with a merge commit, as GitHub's merge button does.

        Returns the merge commit's sha, or None when the branches conflict (nothing written).
        """
        base_sha = self.branch_sha(base)
        head_sha = self.branch_sha(head)
        if base_sha is None or head_sha is None:
            return None
        proc = self._run("merge-tree", "--write-tree", base_sha, head_sha)
        if proc.returncode != 0:
            return None
        tree = proc.stdout.decode().splitlines()[0].strip()
        name, email = author
        stamp = f"{when} +0000"
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": stamp,
        }
        sha = self._ok(
            "commit-tree", tree, "-p", base_sha, "-p", head_sha, "-m", message, env=env
        ).strip()
        self._ok("update-ref", f"refs/heads/{base}", sha, base_sha)
        return sha
