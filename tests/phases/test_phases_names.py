"""Acceptance 5 (names): branch and repository names that could be options, paths or other
refs are refused before any git process or file sees them."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from phases_kit import Rig, payloads

from ghw.git import Mirror, Workspace
from ghw.git.errors import UnsafeNameError
from ghw.git.names import check_branch
from ghw.github.client import GitHubClient

HOSTILE_BRANCHES = [
    "--upload-pack=touch PWNED",
    "-c core.hooksPath=/tmp",
    "main..HEAD",
    "../../etc/passwd",
    "main\ntouch PWNED",
    "refs/heads/main",
]
HOSTILE_REPOS = ["-rf/x", "demo/..", "../etc", "demo/calc/../../x", "demo/calc;id", "demo/.git"]


@pytest.mark.parametrize("name", HOSTILE_BRANCHES)
def test_ghw_pushes_only_safe_ghw_branches(name: str, tmp_path: Path) -> None:
    candidates = [name] if name.startswith("refs/") else [name, f"ghw/{name}"]
    for candidate in candidates:
        with pytest.raises(UnsafeNameError):
            check_branch(candidate)
    mirror = Mirror(tmp_path / "o" / "r", "o/r", lambda: None)
    workspace = Workspace(tmp_path / "ws", mirror)
    with pytest.raises(UnsafeNameError):
        # refused before any git process: there is no repository here at all
        asyncio.run(workspace.push(name, "http://127.0.0.1:9/o/r.git", None))
    assert not (tmp_path / "o").exists()


async def test_a_hostile_default_branch_from_the_api_is_refused(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, out = await rig.run("sync", issue_numbers=[1, 2])
    assert result.ok, out
    real_get_repo = GitHubClient.get_repo
    names = iter(["--upload-pack=touch PWNED", "main..HEAD"])
    hostile: list[str] = []

    async def get_repo(self: GitHubClient, owner: str, repo: str):  # type: ignore[no-untyped-def]
        info = await real_get_repo(self, owner, repo)
        hostile.append(next(names))
        return dataclasses.replace(info, default_branch=hostile[-1])

    monkeypatch.setattr(GitHubClient, "get_repo", get_repo)
    for n in (1, 2):
        result, out = await rig.run("plan", issue_numbers=[n])
        assert not result.ok
        [failed] = payloads(await rig.history(n), "PlanFailed")
        assert failed["kind"] == "permanent"
        assert failed["error_kind"] == "UnsafeNameError"
        assert "refusing branch name" in failed["error"]
        assert rig.transcripts(n, "plan") == []  # no agent ran
    assert len(hostile) == 2
    assert not list(rig.tmp.rglob("PWNED"))


async def test_a_hostile_pr_head_is_refused_by_the_review(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, out = await rig.run("sync", "plan", "implement", issue_numbers=[1])
    assert result.ok, out
    real_get_pull = GitHubClient.get_pull

    async def get_pull(self: GitHubClient, owner: str, repo: str, number: int):  # type: ignore[no-untyped-def]
        pr = await real_get_pull(self, owner, repo, number)
        return dataclasses.replace(pr, head_ref="--output=/tmp/PWNED")

    monkeypatch.setattr(GitHubClient, "get_pull", get_pull)
    result, out = await rig.run("review", issue_numbers=[1])
    assert not result.ok
    [failed] = payloads(await rig.history(1), "ReviewFailed")
    assert (failed["kind"], failed["error_kind"]) == ("permanent", "UnsafeNameError")
    assert rig.transcripts(1, "review") == []
    assert await rig.state(1) == "review_failed"


@pytest.mark.parametrize("name", HOSTILE_REPOS)
async def test_hostile_repository_names_are_refused_before_any_work(rig: Rig, name: str) -> None:
    before = sorted(p.name for p in rig.tmp.iterdir())
    code, out, err = await rig.cli("implement", "--repo", name)
    assert code == 2, out + err
    assert "malformed repository name" in err or "repository" in err
    code, out, err = await rig.cli("repo", "add", name)
    assert code == 2, out + err
    assert sorted(p.name for p in rig.tmp.iterdir()) == before
    assert rig.hub.control.requests() == []
