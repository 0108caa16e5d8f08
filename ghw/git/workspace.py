"""One workspace per issue: ``<issues_path>/<o>/<r>/<N>/workspace``.

A ``git clone --shared`` of the mirror (not ``git worktree``): the workspace is a repository of
its own whose ``origin`` is the local mirror path, so the agent working inside it can neither push
anywhere real nor see the remote URL; objects are borrowed from the mirror, so a clone costs a
checkout and no copy.

The agent can write everything here, ``.git/config`` included. So ghw's own git calls in a
workspace run with hooks, fsmonitor, credential helpers, external diff and textconv off, with
no token in their environment, and a workspace whose ``.git/config`` or alternates changed since
ghw wrote them is re-cloned instead of reset. Pushing happens from the mirror (see
:meth:`ghw.git.mirror.Mirror.push_branch`).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import uuid
from pathlib import Path

from ghw.git.auth import Secret
from ghw.git.errors import GitError
from ghw.git.mirror import KEEP_LEASE, Mirror
from ghw.git.names import check_branch, check_ref_name, parse_author
from ghw.git.runner import Git, GitResult

__all__ = ["START_REF", "Workspace"]

# Where prepare() records the commit the step started from (for discard and "did anything change").
START_REF = "refs/ghw/start"
_LOCAL_TIMEOUT = 300.0


class Workspace:
    def __init__(
        self,
        path: Path,
        mirror: Mirror,
        *,
        keep: bool = False,
        git: Git | None = None,
    ) -> None:
        self.path = Path(path)
        self.mirror = mirror
        self.keep = keep
        self.git = git or mirror.git

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    @property
    def git_dir(self) -> Path:
        return self.path / ".git"

    @property
    def _digest_path(self) -> Path:
        # Beside the workspace, not in it: the agent's working directory is the workspace.
        return self.path.parent / f".{self.path.name}.ghw-config.sha256"

    async def _git(self, *args: str, check: bool = True, input: bytes | None = None) -> GitResult:
        # Explicit --git-dir/--work-tree: if .git were gone, discovery would find an enclosing
        # repository (issues_path may live inside one) and clean -ffdx would run there.
        argv = [f"--git-dir={self.git_dir}", f"--work-tree={self.path}", *args]
        return await self.git.run(
            argv, cwd=self.path, check=check, input=input, time_limit=_LOCAL_TIMEOUT
        )

    async def _out(self, *args: str) -> str:
        return (await self._git(*args)).out

    async def _ref_sha(self, ref: str) -> str | None:
        result = await self._git(
            "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False
        )
        return result.out if result.returncode == 0 and result.out else None

    # -- preparing -------------------------------------------------------------------------

    def _config_digest(self) -> str | None:
        if self.git_dir.is_symlink() or not self.git_dir.is_dir():
            return None
        h = hashlib.sha256()
        for name in ("config", "objects/info/alternates", "HEAD"):
            part = self.git_dir / name
            if part.is_symlink() or not part.is_file():
                return None
            if name != "HEAD":
                h.update(name.encode() + b"\0" + part.read_bytes() + b"\0")
        return h.hexdigest()

    def _intact(self) -> bool:
        try:
            recorded = self._digest_path.read_text().strip()
        except OSError:
            return False
        return bool(recorded) and self._config_digest() == recorded

    async def _clone(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.parent / f".{self.path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            await self.git.run(
                ["clone", "--shared", "--no-checkout", "--", str(self.mirror.path), str(tmp)],
                time_limit=_LOCAL_TIMEOUT,
            )
            if self.path.exists() or self.path.is_symlink():
                await asyncio.to_thread(_remove_tree, self.path)
            os.rename(tmp, self.path)
        finally:
            if tmp.exists():
                await asyncio.to_thread(_remove_tree, tmp)
        digest = self._config_digest()
        if digest is None:
            raise GitError(f"{self.path}: clone --shared produced no usable .git")
        self._digest_path.write_text(digest + "\n")

    async def prepare(self, base_branch: str, branch: str | None = None, reset: bool = True) -> str:
        """Make the workspace a clean checkout for a step and return its HEAD commit.

        The local branch is ``branch`` (or ``base_branch`` when None, as for plan and review).
        It starts at the mirror's ``branch`` when that exists (pushed by an earlier attempt), else at
        the mirror's ``base_branch``. An existing workspace is fetched and reset hard and cleaned
        (a retry, or a takeover after a crash) unless ``reset`` is False, in which case an intact
        workspace is left exactly as it is.
        """
        check_ref_name(base_branch)
        if branch is not None:
            check_ref_name(branch)
        local = branch or base_branch
        async with self.mirror.locked():
            # Under the mirror's lock: a concurrent fetch --prune must not move refs mid-read.
            if not self._intact():
                await self._clone()
            elif not reset:
                return await self.head_sha()
            else:
                await self._git("fetch", "--prune", "origin")
        start_ref = f"refs/remotes/origin/{local}"
        start = await self._ref_sha(start_ref) if branch is not None else None
        if start is None:
            start_ref = f"refs/remotes/origin/{base_branch}"
            start = await self._ref_sha(start_ref)
        if start is None:
            raise GitError(f"{self.mirror.repo}: branch {base_branch!r} is not in the mirror")
        await self._git("checkout", "--force", "--no-track", "-B", local, start)
        await self._git("reset", "--hard", start)
        await self._git("clean", "-ffdx")
        await self._git("update-ref", START_REF, start)
        return start

    # -- inspecting -------------------------------------------------------------------------

    async def head_sha(self) -> str:
        return await self._out("rev-parse", "--verify", "HEAD^{commit}")

    async def start_sha(self) -> str | None:
        return await self._ref_sha(START_REF)

    async def changed_files(self) -> list[str]:
        """Every path changed since :meth:`prepare`: committed, staged, modified, deleted, new and
        ignored files alike (only ``.git`` is left out), sorted."""
        status = await self._git(
            "status",
            "--porcelain=v1",
            "-z",
            "--no-renames",
            "--untracked-files=all",
            "--ignored=traditional",
        )
        paths = {
            entry[3:]
            for entry in status.stdout.decode("utf-8", "surrogateescape").split("\0")
            if len(entry) > 3
        }
        start = await self.start_sha()
        if start is not None and start != await self.head_sha():
            diff = await self._git("diff", "--name-only", "-z", "--no-renames", start, "HEAD")
            paths.update(p for p in diff.stdout.decode("utf-8", "surrogateescape").split("\0") if p)
        return sorted(paths)

    async def diff_against(self, base: str) -> str:
        """The diff of HEAD against the merge base with the mirror's ``base`` (as a PR shows it)."""
        check_ref_name(base)
        result = await self._git(
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            f"refs/remotes/origin/{base}...HEAD",
        )
        return result.stdout.decode("utf-8", "replace")

    # -- changing ---------------------------------------------------------------------------

    async def discard_changes(self) -> list[str]:
        """Undo everything since :meth:`prepare` (for read-only steps) and return what it was."""
        changed = await self.changed_files()
        target = await self.start_sha() or "HEAD"
        await self._git("reset", "--hard", target)
        await self._git("clean", "-ffdx")
        return changed

    async def commit_all(self, message: str, author: str) -> str | None:
        """Commit whatever is left as ``author`` (``git.author``); return HEAD, or None when the
        workspace holds no change since :meth:`prepare` (nothing to push)."""
        name, email = parse_author(author)
        await self._git("add", "--all")
        staged = await self._git("diff", "--cached", "--quiet", check=False)
        if staged.returncode not in (0, 1):
            raise GitError(f"{self.path}: git diff --cached failed (exit {staged.returncode})")
        # a merge of the base in progress (merge_base) is concluded even when the resolution
        # kept this side's files exactly: the merge commit is what makes the PR mergeable
        merging = await self._ref_sha("MERGE_HEAD") is not None
        if staged.returncode == 1 or merging:
            await self._git(
                "-c",
                f"user.name={name}",
                "-c",
                f"user.email={email}",
                "commit",
                "--no-verify",
                "--no-gpg-sign",
                "--file=-",
                input=message.encode(),
            )
        head = await self.head_sha()
        start = await self.start_sha()
        if staged.returncode == 0 and not merging and (start is None or start == head):
            return None
        return head

    async def merge_base(self, base: str, author: str) -> list[str]:
        """Merge the mirror's ``base`` into HEAD (a PR that conflicts with its base). Returns the
        conflicted paths, left with conflict markers for the agent to resolve and the merge in
        progress (``commit_all`` concludes it); [] when it merged cleanly (committed)."""
        check_ref_name(base)
        name, email = parse_author(author)
        result = await self._git(
            "-c",
            f"user.name={name}",
            "-c",
            f"user.email={email}",
            "merge",
            "--no-ff",
            "--no-edit",
            "--no-verify",
            f"refs/remotes/origin/{base}",
            check=False,
        )
        if result.returncode == 0:
            return []
        unmerged = await self._git("diff", "--name-only", "--diff-filter=U", "-z")
        paths = [p for p in unmerged.stdout.decode("utf-8", "surrogateescape").split("\0") if p]
        if not paths:
            raise GitError(f"{self.path}: git merge {base} failed (exit {result.returncode})")
        return sorted(paths)

    async def push(
        self,
        branch: str,
        remote_url: str,
        token: Secret | None,
        *,
        expected: str | object = KEEP_LEASE,
    ) -> str:
        """Push this workspace's ``branch`` (a ``ghw/…`` branch only) to ``remote_url`` with
        ``--force-with-lease``; the mirror then holds the pushed branch. Returns the commit."""
        check_branch(branch)
        return await self.mirror.push_branch(
            self.path, branch, remote_url, token, expected=expected
        )

    async def remove(self) -> None:
        """Delete the workspace, unless it is kept (``implement.keep_workspace``)."""
        if self.keep:
            return
        await asyncio.to_thread(_remove_tree, self.path)
        self._digest_path.unlink(missing_ok=True)


def _remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path)
