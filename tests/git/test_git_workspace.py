# ruff: noqa: F401, F811 -- pytest fixtures are imported by name from git_fixtures
"""Workspaces: clone --shared of the mirror, reset, commits, changes, discard, diff, removal."""

from __future__ import annotations

from pathlib import Path

import pytest
from git_fixtures import git, issues, mirror, ready_mirror, remote, spy, token, workspace
from git_testkit import FILES, REPO, Remote, run_git
from http_git_server import ref_sha

from ghw.git import START_REF, GitError, Mirror, UnsafeNameError, Workspace

AUTHOR = "Ghw Bot <bot@example.com>"


async def test_prepare_clones_shared_with_the_mirror_as_origin(
    workspace: Workspace, ready_mirror: Mirror, remote: Remote
) -> None:
    start = await workspace.prepare("main", "ghw/issue-1")
    origin = run_git(workspace.path, "remote", "get-url", "origin")
    assert Path(origin) == ready_mirror.path  # a local path: the agent can push nowhere real
    assert "://" not in origin
    alternates = (workspace.git_dir / "objects/info/alternates").read_text().strip()
    assert Path(alternates) == ready_mirror.path / "objects"  # --shared, not a copy
    assert not (workspace.git_dir / "commondir").exists()  # not a git worktree
    assert start == ref_sha(remote.bare, "refs/heads/main")
    assert run_git(workspace.path, "branch", "--show-current") == "ghw/issue-1"
    assert (workspace.path / "src/app.py").read_text() == FILES["src/app.py"]
    assert run_git(workspace.path, "rev-parse", START_REF) == start


async def test_prepare_without_branch_checks_out_the_base(workspace: Workspace) -> None:
    await workspace.prepare("main")
    assert run_git(workspace.path, "branch", "--show-current") == "main"


async def test_prepare_resets_a_dirty_workspace(workspace: Workspace, remote: Remote) -> None:
    start = await workspace.prepare("main", "ghw/issue-1")
    (workspace.path / "README.md").write_text("agent was here\n")
    (workspace.path / "new.txt").write_text("new\n")
    (workspace.path / "build").mkdir()
    (workspace.path / "build/out.bin").write_text("ignored\n")
    (workspace.path / "src/app.py").unlink()
    await workspace.commit_all("half done", AUTHOR)
    (workspace.path / "README.md").write_text("more\n")

    assert await workspace.prepare("main", "ghw/issue-1") == start
    assert await workspace.head_sha() == start
    assert (workspace.path / "README.md").read_text() == FILES["README.md"]
    assert (workspace.path / "src/app.py").exists()
    assert not (workspace.path / "new.txt").exists()
    assert not (workspace.path / "build").exists()
    assert await workspace.changed_files() == []


async def test_prepare_without_reset_leaves_the_workspace_alone(workspace: Workspace) -> None:
    await workspace.prepare("main", "ghw/issue-1")
    (workspace.path / "wip.txt").write_text("keep me\n")
    await workspace.prepare("main", "ghw/issue-1", reset=False)
    assert (workspace.path / "wip.txt").exists()


async def test_a_tampered_git_config_makes_prepare_reclone(workspace: Workspace) -> None:
    await workspace.prepare("main", "ghw/issue-1")
    config = workspace.git_dir / "config"
    config.write_text(config.read_text() + '[url "http://evil.invalid/"]\n\tinsteadOf = /\n')
    (workspace.path / "left.txt").write_text("x\n")
    await workspace.prepare("main", "ghw/issue-1")
    assert "evil" not in config.read_text()
    assert not (workspace.path / "left.txt").exists()


async def test_prepare_fails_for_an_unknown_base(workspace: Workspace) -> None:
    with pytest.raises(GitError, match="not in the mirror"):
        await workspace.prepare("no-such-branch")


async def test_commit_all_uses_git_author_and_none_without_changes(workspace: Workspace) -> None:
    start = await workspace.prepare("main", "ghw/issue-1")
    assert await workspace.commit_all("nothing", AUTHOR) is None
    assert await workspace.head_sha() == start

    (workspace.path / "src/app.py").write_text("print(2)\n")
    (workspace.path / "docs").mkdir()
    (workspace.path / "docs/new.md").write_text("doc\n")
    (workspace.path / "build").mkdir()
    (workspace.path / "build/junk").write_text("ignored, never committed\n")
    sha = await workspace.commit_all("Fix the thing (#1)\n\nbody", AUTHOR)
    assert sha is not None and sha != start
    assert run_git(workspace.path, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%s") == (
        f"{AUTHOR}|{AUTHOR}|Fix the thing (#1)"
    )
    tree = run_git(workspace.path, "show", "--name-only", "--format=", sha).splitlines()
    assert sorted(tree) == ["docs/new.md", "src/app.py"]
    # Nothing new since: still "changed" relative to the start, so HEAD, not None.
    assert await workspace.commit_all("again", AUTHOR) == sha


async def test_commit_all_counts_commits_the_agent_made_itself(workspace: Workspace) -> None:
    start = await workspace.prepare("main", "ghw/issue-1")
    (workspace.path / "a.txt").write_text("a\n")
    run_git(workspace.path, "add", "a.txt")
    run_git(workspace.path, "commit", "-qm", "agent commit")
    sha = await workspace.commit_all("leftovers", AUTHOR)
    assert sha not in (None, start)


@pytest.mark.parametrize("author", ["no email", "<a@b>", "A <a@b>\nB <c@d>", ""])
async def test_a_malformed_author_is_refused(workspace: Workspace, author: str) -> None:
    await workspace.prepare("main", "ghw/issue-1")
    (workspace.path / "x").write_text("x\n")
    with pytest.raises(UnsafeNameError, match=r"git\.author"):
        await workspace.commit_all("m", author)


async def test_discard_changes_reverts_and_reports(workspace: Workspace) -> None:
    start = await workspace.prepare("main")
    (workspace.path / "README.md").write_text("edited\n")
    (workspace.path / "src/app.py").unlink()
    (workspace.path / "pkg/deep").mkdir(parents=True)
    (workspace.path / "pkg/deep/new.py").write_text("x = 1\n")
    (workspace.path / "build").mkdir()
    (workspace.path / "build/cache").write_text("ignored\n")
    expected = ["README.md", "build/cache", "pkg/deep/new.py", "src/app.py"]
    assert await workspace.changed_files() == expected

    assert await workspace.discard_changes() == expected
    assert (workspace.path / "README.md").read_text() == FILES["README.md"]
    assert (workspace.path / "src/app.py").exists()
    assert not (workspace.path / "pkg").exists()
    assert not (workspace.path / "build").exists()
    assert await workspace.head_sha() == start
    assert await workspace.changed_files() == []


async def test_discard_changes_also_undoes_commits(workspace: Workspace) -> None:
    start = await workspace.prepare("main")
    (workspace.path / "c.txt").write_text("c\n")
    run_git(workspace.path, "add", "c.txt")
    run_git(workspace.path, "commit", "-qm", "sneaky")
    assert await workspace.discard_changes() == ["c.txt"]
    assert await workspace.head_sha() == start


async def test_diff_against_base(workspace: Workspace) -> None:
    await workspace.prepare("main", "ghw/issue-1")
    (workspace.path / "README.md").write_text("hello\nworld\n")
    await workspace.commit_all("more", AUTHOR)
    diff = await workspace.diff_against("main")
    assert "+world" in diff and "README.md" in diff
    with pytest.raises(UnsafeNameError):
        await workspace.diff_against("--output=/tmp/x")


async def test_remove_unless_kept(ready_mirror: Mirror, issues: Path) -> None:
    gone = Workspace(issues / REPO / "1" / "workspace", ready_mirror)
    kept = Workspace(issues / REPO / "2" / "workspace", ready_mirror, keep=True)
    for ws in (gone, kept):
        await ws.prepare("main")
        await ws.remove()
    assert not gone.path.exists()
    assert kept.path.exists()
    assert ready_mirror.path.exists()  # removing a workspace never touches the mirror


async def test_a_missing_dot_git_never_reaches_an_enclosing_repo(
    workspace: Workspace, tmp_path: Path
) -> None:
    await workspace.prepare("main")
    # issues_path inside someone's repository; the workspace loses its .git.
    run_git(tmp_path, "init", "-q")
    (tmp_path / "precious.txt").write_text("do not clean me\n")
    import shutil

    shutil.rmtree(workspace.git_dir)
    with pytest.raises(GitError):
        await workspace.changed_files()
    await workspace.prepare("main")  # re-cloned, not "reset" in the enclosing repository
    assert (tmp_path / "precious.txt").exists()
    assert Path(run_git(workspace.path, "rev-parse", "--show-toplevel")) == workspace.path


async def test_ghws_git_runs_no_hook_the_agent_planted(
    workspace: Workspace, tmp_path: Path
) -> None:
    await workspace.prepare("main", "ghw/issue-1")
    marker = tmp_path / "hook-ran"
    for hook in (
        "pre-commit",
        "post-commit",
        "commit-msg",
        "post-checkout",
        "reference-transaction",
    ):
        path = workspace.git_dir / "hooks" / hook
        path.write_text(f"#!/bin/sh\necho {hook} >> '{marker}'\n")
        path.chmod(0o755)
    (workspace.path / "x.txt").write_text("x\n")
    assert await workspace.commit_all("m", AUTHOR)
    await workspace.discard_changes()
    assert not marker.exists()
    # The hooks are real: the test's own git (hooks on) does run them.
    run_git(workspace.path, "commit", "--allow-empty", "-qm", "plain")
    assert marker.exists()
