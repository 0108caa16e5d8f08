# ruff: noqa: F401, F811 -- pytest fixtures are imported by name from git_fixtures
"""The bare mirror: clone, refetch with set-url and prune, the per-repo lock, concurrency."""

from __future__ import annotations

import asyncio
import fcntl
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from git_fixtures import git, issues, mirror, ready_mirror, remote, spy, token, workspace
from git_testkit import REPO, Remote, Spy, run_git
from http_git_server import GitHttpServer, commit_files, plain_git_env, ref_sha

from ghw.git import GitAuthError, Mirror, UnsafeNameError

ROOT = Path(__file__).resolve().parents[2]


async def test_first_ensure_clones_a_bare_mirror(mirror: Mirror, remote: Remote) -> None:
    await mirror.ensure(remote.url)
    assert mirror.path == mirror.root / "mirror.git"
    assert run_git(mirror.path, "rev-parse", "--is-bare-repository") == "true"
    assert run_git(mirror.path, "config", "remote.origin.fetch") == "+refs/heads/*:refs/heads/*"
    assert run_git(mirror.path, "remote", "get-url", "origin") == remote.url
    assert await mirror.default_branch_sha("main") == ref_sha(remote.bare, "refs/heads/main")
    # It went through the token check (the server refuses anonymous requests).
    assert any(r.authorised for r in remote.server.requests)
    assert not [p for p in mirror.root.iterdir() if ".tmp-" in p.name]


async def test_ensure_again_resets_the_url_fetches_and_prunes(
    ready_mirror: Mirror, remote: Remote, token: str
) -> None:
    env = plain_git_env(remote.bare.parent)
    new_main = commit_files(remote.bare, {"NEW.md": "x\n"}, "main", "second", env)
    commit_files(remote.bare, {"f": "1\n"}, "topic", "topic", env)
    await ready_mirror.ensure(remote.url)
    assert await ready_mirror.default_branch_sha("main") == new_main
    assert await ready_mirror.branch_sha("topic") is not None

    # The API now names another URL (say, the repository moved): the mirror follows it.
    second = GitHttpServer(remote.server.project_root, token).start()
    try:
        subprocess.run(
            ["git", f"--git-dir={remote.bare}", "branch", "-D", "topic"], check=True, env=env
        )
        await ready_mirror.ensure(second.url(REPO))
        assert run_git(ready_mirror.path, "remote", "get-url", "origin") == second.url(REPO)
        assert any(r.authorised for r in second.requests)
    finally:
        second.stop()
    assert await ready_mirror.branch_sha("topic") is None  # pruned


async def test_ensure_waits_for_the_lock(mirror: Mirror, remote: Remote) -> None:
    mirror.root.mkdir(parents=True)
    fd = os.open(mirror.lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        task = asyncio.create_task(mirror.ensure(remote.url))
        await asyncio.sleep(0.4)
        assert not task.done()
        assert not mirror.path.exists()
        assert not remote.server.requests
    finally:
        os.close(fd)
    await asyncio.wait_for(task, 30)
    assert mirror.path.exists()


async def test_lock_wait_is_cancellable_and_releases(mirror: Mirror, remote: Remote) -> None:
    mirror.root.mkdir(parents=True)
    fd = os.open(mirror.lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    task = asyncio.create_task(mirror.ensure(remote.url))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    os.close(fd)
    # Nothing kept the lock: the next ensure runs at once.
    await asyncio.wait_for(mirror.ensure(remote.url), 30)


async def test_two_coroutines_never_fetch_at_once(
    mirror: Mirror, remote: Remote, spy: Spy, token: str, git
) -> None:
    other = Mirror(mirror.root, REPO, lambda: token, git=git)
    await asyncio.gather(*(m.ensure(remote.url) for m in (mirror, other, mirror, other)))
    assert run_git(mirror.path, "fsck", "--no-progress") == ""
    clones = [a for a in spy.argvs() if "clone" in a]
    assert len(clones) == 1  # the others found the mirror made and fetched instead
    assert await mirror.default_branch_sha("main") == ref_sha(remote.bare, "refs/heads/main")


async def test_two_processes_share_the_mirror(mirror: Mirror, remote: Remote, token: str) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, os, sys
        from pathlib import Path
        from ghw.git import Git, Mirror
        tok = os.environ["T"]
        m = Mirror(Path(sys.argv[1]), {REPO!r}, lambda: tok, git=Git(Path(sys.argv[2])))
        async def main():
            for _ in range(3):
                await m.ensure(sys.argv[3])
        asyncio.run(main())
        """
    )
    env = {**os.environ, "T": token, "PYTHONPATH": str(ROOT)}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            script,
            str(mirror.root),
            str(mirror.root / f"env{i}"),
            remote.url,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        for i in range(2)
    ]
    await mirror.ensure(remote.url)
    for proc in procs:
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
    assert run_git(mirror.path, "fsck", "--no-progress") == ""
    assert await mirror.default_branch_sha("main") == ref_sha(remote.bare, "refs/heads/main")


async def test_without_a_token_the_clone_fails_cleanly(
    issues: Path, git, remote: Remote, token: str
) -> None:
    anonymous = Mirror(issues / REPO, REPO, lambda: None, git=git)
    with pytest.raises(GitAuthError) as info:
        await anonymous.ensure(remote.url)
    assert "authentication failed" in str(info.value)
    assert not anonymous.path.exists()
    assert not [p for p in anonymous.root.iterdir() if ".tmp-" in p.name]


async def test_a_half_made_mirror_is_recloned(mirror: Mirror, remote: Remote) -> None:
    (mirror.path / "objects").mkdir(parents=True)
    await mirror.ensure(remote.url)
    assert run_git(mirror.path, "rev-parse", "--is-bare-repository") == "true"


@pytest.mark.parametrize(
    "url",
    [
        "https://user:secret@example.com/o/r.git",
        "https://x-access-token@example.com/o/r.git",
        "-uevil",
        "ext::sh -c evil",
        "ssh://example.com/o/r.git",
        "https://example.com/o r.git",
    ],
)
async def test_unsafe_clone_urls_are_refused(mirror: Mirror, url: str, spy: Spy) -> None:
    with pytest.raises(UnsafeNameError):
        await mirror.ensure(url)
    assert spy.argvs() == []


def test_malformed_repo_names_are_refused(tmp_path: Path) -> None:
    for bad in ("octo", "-o/r", "o/../r", "o/r/x", "o/r.git"):
        with pytest.raises(UnsafeNameError):
            Mirror(tmp_path, bad)
