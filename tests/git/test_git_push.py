# ruff: noqa: F401, F811 -- pytest fixtures are imported by name from git_fixtures
"""Pushing ghw/* branches over HTTP with a token that never lands on disk or in argv."""

from __future__ import annotations

from pathlib import Path

import pytest
from git_fixtures import git, issues, mirror, ready_mirror, remote, spy, token, workspace
from git_testkit import REPO, Remote, Spy, run_git
from http_git_server import commit_files, plain_git_env, ref_sha

from ghw.git import (
    GitAuthError,
    Mirror,
    PushRejectedError,
    UnsafeNameError,
    Workspace,
    scrub_check,
)

AUTHOR = "ghw <ghw@localhost>"
BRANCH = "ghw/issue-1"


async def _change(ws: Workspace, name: str, text: str) -> str:
    (ws.path / name).write_text(text)
    sha = await ws.commit_all(f"change {name}", AUTHOR)
    assert sha
    return sha


async def test_push_over_http_with_the_token(
    workspace: Workspace, ready_mirror: Mirror, remote: Remote, token: str
) -> None:
    await workspace.prepare("main", BRANCH)
    sha = await _change(workspace, "fix.txt", "fixed\n")
    assert await workspace.push(BRANCH, remote.url, token) == sha
    assert ref_sha(remote.bare, f"refs/heads/{BRANCH}") == sha
    assert await ready_mirror.branch_sha(BRANCH) == sha  # later steps see the pushed branch
    pushes = [r for r in remote.server.requests if "git-receive-pack" in r.path]
    assert pushes and all(r.authorised for r in pushes if r.method == "POST")
    assert {r.user for r in pushes if r.authorised} == {"x-access-token"}
    assert ref_sha(remote.bare, "refs/heads/main") != sha  # only the named branch moved


async def test_a_later_step_starts_from_the_pushed_branch(
    workspace: Workspace, ready_mirror: Mirror, remote: Remote, token: str, issues: Path
) -> None:
    await workspace.prepare("main", BRANCH)
    sha = await _change(workspace, "fix.txt", "fixed\n")
    await workspace.push(BRANCH, remote.url, token)
    await workspace.remove()
    await ready_mirror.ensure(remote.url)
    again = Workspace(issues / REPO / "1" / "workspace", ready_mirror)
    assert await again.prepare("main", BRANCH) == sha
    assert (again.path / "fix.txt").read_text() == "fixed\n"
    # Pushing more on top works with the default lease (what the mirror saw).
    newer = await _change(again, "more.txt", "more\n")
    assert await again.push(BRANCH, remote.url, token) == newer
    assert ref_sha(remote.bare, f"refs/heads/{BRANCH}") == newer


async def test_force_with_lease_refuses_when_the_remote_moved(
    workspace: Workspace, ready_mirror: Mirror, remote: Remote, token: str
) -> None:
    await workspace.prepare("main", BRANCH)
    first = await _change(workspace, "a.txt", "a\n")
    await workspace.push(BRANCH, remote.url, token)
    # Someone else pushes to the branch behind ghw's back.
    theirs = commit_files(
        remote.bare, {"theirs.txt": "t\n"}, BRANCH, "theirs", plain_git_env(remote.bare.parent)
    )
    await _change(workspace, "b.txt", "b\n")
    with pytest.raises(PushRejectedError, match=r"stale info|rejected"):
        await workspace.push(BRANCH, remote.url, token)
    assert ref_sha(remote.bare, f"refs/heads/{BRANCH}") == theirs  # not overwritten
    assert await ready_mirror.branch_sha(BRANCH) == first  # the mirror's ref was put back


async def test_an_explicit_empty_lease_means_the_branch_must_not_exist(
    workspace: Workspace, remote: Remote, token: str
) -> None:
    commit_files(remote.bare, {"x": "x\n"}, BRANCH, "exists", plain_git_env(remote.bare.parent))
    await workspace.prepare("main", BRANCH)
    await _change(workspace, "a.txt", "a\n")
    with pytest.raises(PushRejectedError):
        await workspace.push(BRANCH, remote.url, token, expected="")


@pytest.mark.parametrize(
    "branch",
    [
        "main",
        "feature/x",
        "refs/heads/ghw/x",
        "-x",
        "--upload-pack=evil",
        "ghw/../x",
        "ghw/a..b",
        "ghw/x\n",
        "ghw/x.lock",
        "ghw/x y",
        "ghw/x:main",
        "ghw/x~1",
        "ghw/@{u}",
        "ghw//x",
        "ghw/x/",
        "ghw/.hidden",
        "ghw/",
        "ghw/x\\y",
        "ghw/x*",
    ],
)
async def test_unsafe_or_foreign_branches_are_refused_before_any_git_call(
    mirror: Mirror, issues: Path, token: str, spy: Spy, branch: str
) -> None:
    workspace = Workspace(issues / REPO / "1" / "workspace", mirror)
    with pytest.raises(UnsafeNameError):
        await workspace.push(branch, "http://127.0.0.1:9/octo/demo.git", token)
    with pytest.raises(UnsafeNameError):
        await mirror.push_branch(workspace.path, branch, "http://127.0.0.1:9/o/r.git", token)
    assert spy.argvs() == []


async def test_without_a_token_the_push_fails_with_an_auth_error(
    workspace: Workspace, remote: Remote, token: str
) -> None:
    await workspace.prepare("main", BRANCH)
    await _change(workspace, "a.txt", "a\n")
    with pytest.raises(GitAuthError) as info:
        await workspace.push(BRANCH, remote.url, None)
    err = info.value
    assert "authentication failed" in str(err)
    assert err.returncode not in (None, 0)
    for text in (str(err), err.stderr_tail, " ".join(err.command)):
        assert token not in text
    assert ref_sha(remote.bare, f"refs/heads/{BRANCH}") is None

    with pytest.raises(GitAuthError) as wrong:
        await workspace.push(BRANCH, remote.url, "ghp_wrong")
    assert "ghp_wrong" not in str(wrong.value) + wrong.value.stderr_tail


async def test_the_token_is_nowhere_on_disk_nor_in_argv(
    workspace: Workspace,
    ready_mirror: Mirror,
    remote: Remote,
    token: str,
    spy: Spy,
    tmp_path: Path,
    issues: Path,
) -> None:
    await workspace.prepare("main", BRANCH)
    await _change(workspace, "a.txt", "a\n")
    await workspace.push(BRANCH, remote.url, token)
    await ready_mirror.ensure(remote.url)
    await workspace.prepare("main", BRANCH)

    # The test is not vacuous: the token did reach the server, and scrub_check finds it.
    assert any(r.authorised for r in remote.server.requests)
    canary = tmp_path / "canary"
    canary.write_text(f"x {token} y")
    assert scrub_check([canary], token) == [canary]

    for must_exist in ("config", "FETCH_HEAD", "logs/HEAD"):
        assert (workspace.git_dir / must_exist).exists()
    assert (ready_mirror.path / "FETCH_HEAD").exists()
    assert scrub_check([issues, tmp_path / "gitenv", tmp_path / "home"], token) == []
    # Every git process ghw started: never the token on its command line...
    assert spy.argvs()
    assert scrub_check([spy.log], token) == []
    # ...never ghw's own token variables or trace switches in its environment...
    envs = spy.env_keys()
    assert envs and all("GITHUB_TOKEN" not in e and "GIT_TRACE" not in e for e in envs)
    assert all("GIT_ASKPASS" not in e for e in envs)
    # ...and the credentials only in the calls that talk to the remote.
    network = [a for a in spy.argvs() if {"push", "clone"} & set(a) or "--prune" in a]
    assert network


async def test_the_mirror_config_holds_no_credentials(
    ready_mirror: Mirror, remote: Remote, token: str
) -> None:
    config = (ready_mirror.path / "config").read_text()
    assert "extraheader" not in config.lower()
    assert "@" not in run_git(ready_mirror.path, "remote", "get-url", "origin")
