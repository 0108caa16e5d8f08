"""One bare mirror per repository: ``<issues_path>/<o>/<r>/mirror.git``.

Cloned once (``git clone --bare``, fetch refspec ``+refs/heads/*:refs/heads/*``), then refreshed
with ``git fetch --prune origin`` after its URL is reset from the API's ``clone_url``. Every
operation that writes it runs under ``<root>/mirror.lock``, so two ghw processes or two
coroutines never fetch (or push from) the same mirror at once.

Pushes also go out from here (see :meth:`Mirror.push_branch`): the mirror's config is written
only by ghw, while a workspace's ``.git/config`` is writable by the agent, and a push is the one
git call that carries the token.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from ghw.git.auth import Secret, check_remote_url, reveal
from ghw.git.errors import GitError
from ghw.git.lock import file_lock
from ghw.git.names import check_branch, check_ref_name, check_repo_name
from ghw.git.runner import Git

__all__ = ["KEEP_LEASE", "Mirror", "TokenProvider"]

TokenProvider = Callable[[], Secret | None]

# push_branch(expected=KEEP_LEASE): lease against what the mirror last saw on the remote.
KEEP_LEASE = object()

_ZERO = "0" * 40


class Mirror:
    def __init__(
        self,
        root: Path,
        repo: str,
        token_provider: TokenProvider | None = None,
        *,
        git: Git | None = None,
        lock_timeout: float | None = 900.0,
    ) -> None:
        self.root = Path(root)
        self.repo = check_repo_name(repo)
        self._token_provider = token_provider
        # Default: the ghw-owned global config lives beside the mirror.
        self.git = git or Git(self.root / "git-env")
        self.lock_timeout = lock_timeout

    @property
    def path(self) -> Path:
        return self.root / "mirror.git"

    @property
    def lock_path(self) -> Path:
        return self.root / "mirror.lock"

    def __repr__(self) -> str:
        return f"Mirror({self.repo!r}, {str(self.path)!r})"

    @asynccontextmanager
    async def locked(self) -> AsyncIterator[None]:
        """Hold the per-repository lock (also used by workspaces while they read the mirror)."""
        async with file_lock(self.lock_path, wait_limit=self.lock_timeout):
            yield

    def _token(self) -> str | None:
        return reveal(self._token_provider()) if self._token_provider else None

    def _git_args(self, *args: str) -> list[str]:
        # --git-dir, never discovery: a broken mirror must not make git find an enclosing repo.
        return [f"--git-dir={self.path}", *args]

    async def _run(self, *args: str, **kw: object) -> str:
        result = await self.git.run(self._git_args(*args), **kw)  # type: ignore[arg-type]
        return result.out

    async def is_valid(self) -> bool:
        if not (self.path / "HEAD").is_file() or not (self.path / "config").is_file():
            return False
        result = await self.git.run(
            self._git_args("rev-parse", "--is-bare-repository"), check=False, time_limit=60
        )
        return result.returncode == 0 and result.out == "true"

    async def ensure(self, clone_url: str) -> None:
        """Clone the mirror the first time, else reset its URL and fetch (pruning)."""
        url = check_remote_url(clone_url)
        self.root.mkdir(parents=True, exist_ok=True)
        async with self.locked():
            token = self._token()
            if await self.is_valid():
                await self._run("remote", "set-url", "origin", url, time_limit=60)
                await self._run("fetch", "--prune", "origin", url=url, token=token)
                return
            await self._clone(url, token)

    async def _clone(self, url: str, token: str | None) -> None:
        # Cloned beside the final path and renamed, so a crash mid-clone leaves no half mirror
        # that a later run would take for a real one.
        tmp = self.root / f"mirror.git.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            await self.git.run(["clone", "--bare", "--", url, str(tmp)], url=url, token=token)
            tmp_git = [f"--git-dir={tmp}"]
            await self.git.run(
                [*tmp_git, "config", "remote.origin.fetch", "+refs/heads/*:refs/heads/*"]
            )
            # Workspaces borrow this object store (clone --shared): never prune under them.
            await self.git.run([*tmp_git, "config", "gc.auto", "0"])
            await self.git.run([*tmp_git, "config", "gc.pruneExpire", "never"])
            if self.path.exists():
                await asyncio.to_thread(shutil.rmtree, self.path)
            os.rename(tmp, self.path)
        finally:
            if tmp.exists():
                await asyncio.to_thread(shutil.rmtree, tmp, True)

    async def branch_sha(self, branch: str) -> str | None:
        """The commit of ``refs/heads/<branch>`` in the mirror, or None when it has none."""
        check_ref_name(branch)
        result = await self.git.run(
            self._git_args("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"),
            check=False,
            time_limit=60,
        )
        return result.out if result.returncode == 0 and result.out else None

    async def default_branch_sha(self, branch: str) -> str:
        sha = await self.branch_sha(branch)
        if sha is None:
            raise GitError(f"{self.repo}: branch {branch!r} is not in the mirror {self.path}")
        return sha

    async def push_branch(
        self,
        source: Path,
        branch: str,
        remote_url: str,
        token: Secret | None,
        *,
        expected: str | object = KEEP_LEASE,
    ) -> str:
        """Push ``branch`` of the repository at ``source`` (a workspace) to ``remote_url``.

        The branch is first fetched from ``source`` into the mirror, then pushed from the mirror
        with an explicit refspec and ``--force-with-lease``: by default the lease expects what the
        mirror last saw of that branch on the remote (absent = must not exist); pass a sha, or ``""``
        for "must not exist". Returns the pushed commit. On failure the mirror's ref is put back.
        """
        check_branch(branch)
        url = check_remote_url(remote_url)
        ref = f"refs/heads/{branch}"
        async with self.locked():
            before = await self.branch_sha(branch)
            lease = (before or "") if expected is KEEP_LEASE else str(expected)
            if lease and not _is_sha(lease):
                raise GitError(f"expected lease value {lease!r} is not a commit id")
            # Fetching from the workspace runs no code of the workspace's (hooks and fsmonitor are
            # off); the push below then runs with the mirror's ghw-written config only.
            await self._run(
                "fetch", "--no-tags", "--", str(source), f"+{ref}:{ref}", time_limit=300
            )
            sha = await self.default_branch_sha(branch)
            try:
                await self._run(
                    "push",
                    "--porcelain",
                    "--no-verify",
                    f"--force-with-lease={ref}:{lease}",
                    "--",
                    url,
                    f"{ref}:{ref}",
                    url=url,
                    token=token,
                )
            except GitError:
                await self._restore(ref, before)
                raise
            return sha

    async def _restore(self, ref: str, sha: str | None) -> None:
        if sha is None:
            await self.git.run(self._git_args("update-ref", "-d", ref), check=False, time_limit=60)
        else:
            await self.git.run(self._git_args("update-ref", ref, sha), check=False, time_limit=60)


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text) and text != _ZERO
