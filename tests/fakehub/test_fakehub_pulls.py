"""Pull requests: GitHub's 422s, lookup by head, the diff media type, close and merge."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fakehub_helpers import git, git_auth_args, push_branch

from ghw.fakehub import FakeHub, FakeHubControlError


def _create(api: httpx.Client, head: str, base: str = "main", **more: object) -> httpx.Response:
    return api.post(
        "/repos/demo/calc/pulls", json={"title": "Fix add (#1)", "head": head, "base": base, **more}
    )


def test_create_pull_from_pushed_branch(api: httpx.Client, hub: FakeHub, tmp_path: Path) -> None:
    sha = push_branch(
        hub, tmp_path, "ghw/issue-1", {"calc/ops.py": "def add(x, y):\n    return x + y\n"}
    )
    response = _create(
        api, "demo:ghw/issue-1", body="Fixes #1\n<!-- ghw:issue=1 key=k -->", draft=True
    )
    assert response.status_code == 201
    pull = response.json()
    assert pull["number"] == 5
    assert pull["state"] == "open"
    assert pull["draft"] is True
    assert pull["merged"] is False
    assert pull["body"].startswith("Fixes #1")
    assert pull["head"]["ref"] == "ghw/issue-1"
    assert pull["head"]["sha"] == sha
    assert pull["head"]["label"] == "demo:ghw/issue-1"
    assert pull["head"]["repo"]["full_name"] == "demo/calc"
    assert pull["base"]["ref"] == "main"
    assert pull["html_url"] == f"{hub.base_url}/demo/calc/pull/5"
    assert pull["user"]["login"] == "ghw-bot"
    assert pull["commits"] == 1
    assert pull["changed_files"] == 1
    assert response.headers["location"] == f"{hub.base_url}/repos/demo/calc/pulls/5"
    assert api.get("/repos/demo/calc/pulls/5").json()["head"]["sha"] == sha


def test_422_missing_head_branch(api: httpx.Client) -> None:
    response = _create(api, "demo:no-such-branch")
    assert response.status_code == 422
    assert response.json()["message"] == "Validation Failed"
    assert response.json()["errors"] == [
        {"resource": "PullRequest", "field": "head", "code": "invalid"}
    ]
    assert _create(api, "main", base="nope").json()["errors"][0]["field"] == "base"
    missing = api.post("/repos/demo/calc/pulls", json={"title": "x", "base": "main"})
    assert missing.json()["errors"][0] == {
        "resource": "PullRequest",
        "code": "missing_field",
        "field": "head",
    }


def test_422_no_commits_between(api: httpx.Client, hub: FakeHub, tmp_path: Path) -> None:
    work = tmp_path / "same"
    git(*git_auth_args(), "clone", "--quiet", hub.clone_url("demo/calc"), str(work))
    git(*git_auth_args(), "push", "--quiet", "origin", "main:same", cwd=work)
    response = _create(api, "demo:same")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"resource": "PullRequest", "code": "custom", "message": "No commits between main and same"}
    ]
    assert api.get("/repos/demo/calc/pulls", params={"state": "all"}).json() == []


def test_422_duplicate_open_pull_then_lookup_by_head(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.push_files("demo/calc", "ghw/issue-2", {"calc/ops.py": "pass\n"})
    assert _create(api, "demo:ghw/issue-2").status_code == 201
    again = _create(api, "demo:ghw/issue-2")
    assert again.status_code == 422
    body = again.json()
    assert body["message"] == "Validation Failed"
    assert body["errors"] == [
        {
            "resource": "PullRequest",
            "code": "custom",
            "message": "A pull request already exists for demo:ghw/issue-2.",
        }
    ]
    assert body["documentation_url"] == (
        "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
    )
    assert body["status"] == "422"
    found = api.get("/repos/demo/calc/pulls", params={"head": "demo:ghw/issue-2", "state": "all"})
    assert [p["number"] for p in found.json()] == [5]
    # A bare branch name is ignored, as on GitHub (all PRs come back).
    hub.control.push_files("demo/calc", "other", {"o.txt": "o\n"})
    _create(api, "other")
    bare = api.get("/repos/demo/calc/pulls", params={"head": "ghw/issue-2"}).json()
    assert sorted(p["number"] for p in bare) == [5, 6]
    assert api.get("/repos/demo/calc/pulls", params={"head": "demo:nope"}).json() == []
    assert api.get("/repos/demo/calc/pulls", params={"base": "dev"}).json() == []


def test_diff_media_type_is_real_git_diff(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.push_files(
        "demo/calc", "fix", {"calc/ops.py": None, "NOTES.md": "notes\n"}, message="fix"
    )
    _create(api, "demo:fix")
    response = api.get(
        "/repos/demo/calc/pulls/5", headers={"Accept": "application/vnd.github.diff"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-github-media-type"] == "github.v3; param=diff; format=diff"
    text = response.text
    assert "diff --git a/NOTES.md b/NOTES.md" in text
    assert "+notes" in text
    assert "diff --git a/calc/ops.py b/calc/ops.py" in text
    assert "deleted file mode 100644" in text
    assert "etag" in response.headers


def test_close_without_merge_and_merge(api: httpx.Client, hub: FakeHub, tmp_path: Path) -> None:
    hub.control.push_files("demo/calc", "a", {"a.txt": "a\n"})
    hub.control.push_files("demo/calc", "b", {"b.txt": "b\n"})
    _create(api, "demo:a")
    _create(api, "demo:b")
    hub.control.close_pull("demo/calc", 5)
    closed = api.get("/repos/demo/calc/pulls/5").json()
    assert (closed["state"], closed["merged"], closed["merged_at"]) == ("closed", False, None)
    assert closed["closed_at"] is not None
    merged = hub.control.merge_pull("demo/calc", 6)
    assert merged["merged"] is True
    pull = api.get("/repos/demo/calc/pulls/6").json()
    assert (pull["state"], pull["merged"]) == ("closed", True)
    assert pull["merged_at"] is not None
    assert pull["merge_commit_sha"] == merged["sha"]
    listed = api.get("/repos/demo/calc/issues", params={"state": "closed"}).json()
    assert {i["number"]: i["pull_request"]["merged_at"] is not None for i in listed} == {
        5: False,
        6: True,
    }
    assert [p["number"] for p in api.get("/repos/demo/calc/pulls").json()] == []
    # The merge is real: main now has b.txt.
    work = tmp_path / "after-merge"
    git(*git_auth_args(), "clone", "--quiet", hub.clone_url("demo/calc"), str(work))
    assert (work / "b.txt").read_text() == "b\n"
    assert not (work / "a.txt").exists()
    # The diff of a merged PR still shows what it changed.
    diff = api.get("/repos/demo/calc/pulls/6", headers={"Accept": "application/vnd.github.diff"})
    assert "+b" in diff.text
    with pytest.raises(FakeHubControlError) as err:
        hub.control.merge_pull("demo/calc", 5)
    assert err.value.status == 405


def test_comment_on_pull_request(api: httpx.Client, hub: FakeHub) -> None:
    hub.control.push_files("demo/calc", "c", {"c.txt": "c\n"})
    _create(api, "demo:c")
    response = api.post("/repos/demo/calc/issues/5/comments", json={"body": "VERDICT: approve"})
    assert response.status_code == 201
    assert response.json()["html_url"].startswith(f"{hub.base_url}/demo/calc/pull/5#issuecomment-")
    assert api.get("/repos/demo/calc/pulls/5").json()["comments"] == 1
    assert api.get("/repos/demo/calc/pulls/4").status_code == 404  # an issue, not a PR


def test_parallel_duplicate_creates_open_exactly_one(hub: FakeHub) -> None:
    hub.control.push_files("demo/calc", "race", {"r.txt": "r\n"})

    def create(_: int) -> int:
        with httpx.Client(base_url=hub.base_url, headers={"Authorization": "Bearer t"}) as c:
            return c.post(
                "/repos/demo/calc/pulls",
                json={"title": "Race", "head": "demo:race", "base": "main"},
            ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(create, range(8)))
    assert statuses == [201] + [422] * 7
