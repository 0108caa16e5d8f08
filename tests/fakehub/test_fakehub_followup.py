"""Follow-up on pull requests (§12): reviews, review comments, check runs, statuses, mergeability
from real git, the token's user, and merging that closes the issues a PR fixes.

A real fakehub on 127.0.0.1 with the demo seed, driven over HTTP through the REST API and the
control API, on a clock the tests move (so ``updated_at`` bumps are visible to the second).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fakehub_helpers import TOKEN, git, git_auth_args

from ghw.fakehub import Clock, FakeHub, FakeHubControlError

REPO = "demo/calc"
START = 1_750_000_000.0
OPS = "calc/ops.py"
FIXED_OPS = '"""Arithmetic operations."""\n\n\ndef add(x, y):\n    """Sum."""\n    return x + y\n'


@pytest.fixture
def clock() -> Clock:
    return Clock(source=lambda: START)


@pytest.fixture
def hub(tmp_path: Path, clock: Clock) -> Iterator[FakeHub]:
    with FakeHub.start(data_dir=tmp_path / "hub", seed="demo", clock=clock) as running:
        yield running


@pytest.fixture
def api(hub: FakeHub) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/vnd.github+json"}
    with httpx.Client(base_url=hub.base_url, headers=headers, timeout=10) as client:
        yield client


def open_pull(
    hub: FakeHub, api: httpx.Client, branch: str = "ghw/issue-1", body: str = "Fixes #1"
) -> dict[str, Any]:
    """A PR from ``branch`` (one commit fixing add) into main, opened as the token's user."""
    hub.control.push_files(REPO, branch, {OPS: FIXED_OPS}, message="Fix add")
    created = api.post(
        f"/repos/{REPO}/pulls",
        json={"title": "Fix add", "head": branch, "base": "main", "body": body},
    )
    assert created.status_code == 201, created.text
    return created.json()


def later(clock: Clock, seconds: int = 60) -> str:
    """Move fakehub's clock on; returns the new now as GitHub writes timestamps."""
    clock.set_offset(clock.offset + seconds)
    from ghw.fakehub.clock import format_ts

    stamp = format_ts(clock.now())
    assert stamp is not None
    return stamp


def pull_updated(api: httpx.Client, number: int) -> str:
    return str(api.get(f"/repos/{REPO}/pulls/{number}").json()["updated_at"])


def listed_since(api: httpx.Client, since: str) -> list[int]:
    """Numbers the issues listing shows as changed at or after ``since`` (what sync reads)."""
    items = api.get(f"/repos/{REPO}/issues", params={"state": "all", "since": since}).json()
    return [i["number"] for i in items]


# -- the token's user ------------------------------------------------------------------------------


def test_get_user_is_the_api_user_with_its_type(hub: FakeHub, api: httpx.Client) -> None:
    me = api.get("/user")
    assert me.status_code == 200
    assert (me.json()["login"], me.json()["type"]) == ("ghw-bot", "User")
    assert me.json()["html_url"] == f"{hub.base_url}/ghw-bot"
    assert api.get("/user", headers={"If-None-Match": me.headers["etag"]}).status_code == 304
    assert hub.control.set_api_user("ghw-app[bot]") == {"login": "ghw-app[bot]", "type": "Bot"}
    assert (api.get("/user").json()["login"], api.get("/user").json()["type"]) == (
        "ghw-app[bot]",
        "Bot",
    )
    hub.control.set_api_user("ghw-bot", type="Bot")
    assert api.get("/user").json()["type"] == "Bot"
    with pytest.raises(FakeHubControlError) as err:
        hub.control.set_api_user("x", type="Robot")
    assert err.value.status == 422


# -- the pull request --------------------------------------------------------------------------


def test_pull_has_head_base_and_clean_mergeability(hub: FakeHub, api: httpx.Client) -> None:
    created = open_pull(hub, api)
    pull = api.get(f"/repos/{REPO}/pulls/{created['number']}").json()
    branches = hub.store.git(hub.store.repo("demo", "calc")).branches()  # type: ignore[arg-type]
    assert pull["head"]["ref"] == "ghw/issue-1"
    assert pull["head"]["sha"] == branches["ghw/issue-1"]
    assert pull["base"]["ref"] == "main" and pull["base"]["sha"] == branches["main"]
    assert (pull["mergeable"], pull["mergeable_state"]) == (True, "clean")
    assert (pull["state"], pull["merged"], pull["merged_at"]) == ("open", False, None)
    assert pull["updated_at"] == created["updated_at"]


def test_a_conflicting_commit_on_base_makes_the_pull_dirty(hub: FakeHub, api: httpx.Client) -> None:
    number = open_pull(hub, api)["number"]
    first = api.get(f"/repos/{REPO}/pulls/{number}")
    # main changes the very line the PR changes: a real conflict for git merge-tree
    conflicting = FIXED_OPS.replace("return x + y", "return y + x  # main's own fix")
    hub.control.push_files(REPO, "main", {OPS: conflicting}, message="Fix add on main")
    again = api.get(
        f"/repos/{REPO}/pulls/{number}", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 200  # the answer changed, so the old ETag no longer matches
    pull = again.json()
    assert (pull["mergeable"], pull["mergeable_state"]) == (False, "dirty")
    with pytest.raises(FakeHubControlError) as err:
        hub.control.merge_pull(REPO, number)
    assert err.value.status == 405
    # a change elsewhere on main does not conflict
    hub.control.push_files(REPO, "other", {"NOTES.md": "n\n"})
    other = api.post(f"/repos/{REPO}/pulls", json={"title": "n", "head": "other", "base": "main"})
    assert other.json()["mergeable_state"] == "clean"


def test_draft_pull_is_draft_state(hub: FakeHub, api: httpx.Client) -> None:
    hub.control.push_files(REPO, "drafty", {"d.txt": "d\n"})
    created = api.post(
        f"/repos/{REPO}/pulls", json={"title": "d", "head": "drafty", "base": "main", "draft": True}
    ).json()
    assert (created["mergeable"], created["mergeable_state"]) == (True, "draft")


# -- reviews and review comments -------------------------------------------------------------------


def test_control_review_with_line_comments_is_listed_and_bumps_the_pull(
    hub: FakeHub, api: httpx.Client, clock: Clock
) -> None:
    pull = open_pull(hub, api)
    number = pull["number"]
    head = pull["head"]["sha"]
    reviews_before = api.get(f"/repos/{REPO}/pulls/{number}/reviews")
    assert reviews_before.json() == []
    now = later(clock)
    made = hub.control.add_review(
        REPO,
        number,
        "CHANGES_REQUESTED",
        "Please add a test.",
        author="alice",
        author_association="MEMBER",
        comments=[{"path": OPS, "line": 6, "body": "Name the arguments a and b."}],
    )
    assert made["state"] == "CHANGES_REQUESTED" and len(made["comments"]) == 1
    reviews = api.get(
        f"/repos/{REPO}/pulls/{number}/reviews",
        headers={"If-None-Match": reviews_before.headers["etag"]},
    )
    assert reviews.status_code == 200
    [review] = reviews.json()
    assert review["id"] == made["id"]
    assert (review["user"]["login"], review["user"]["type"]) == ("alice", "User")
    assert review["author_association"] == "MEMBER"
    assert (review["state"], review["body"]) == ("CHANGES_REQUESTED", "Please add a test.")
    assert review["commit_id"] == head and review["submitted_at"] == now
    assert review["html_url"] == (
        f"{hub.base_url}/{REPO}/pull/{number}#pullrequestreview-{review['id']}"
    )
    assert review["pull_request_url"] == f"{hub.base_url}/repos/{REPO}/pulls/{number}"
    [comment] = api.get(f"/repos/{REPO}/pulls/{number}/comments").json()
    assert (comment["path"], comment["line"], comment["body"]) == (
        OPS,
        6,
        "Name the arguments a and b.",
    )
    assert comment["pull_request_review_id"] == review["id"]
    assert comment["commit_id"] == head
    assert (comment["user"]["login"], comment["author_association"]) == ("alice", "MEMBER")
    assert comment["html_url"] == f"{hub.base_url}/{REPO}/pull/{number}#discussion_r{comment['id']}"
    # the real hunk of git diff main...head, down to the commented line
    assert comment["diff_hunk"].startswith("@@ ")
    assert comment["diff_hunk"].splitlines()[-1] == "+    return x + y"
    # the review moved the PR: sync's `since` listing shows it
    assert pull_updated(api, number) == now
    assert listed_since(api, now) == [number]
    assert api.get(f"/repos/{REPO}/pulls/{number}").json()["review_comments"] == 1


def test_reviews_and_comments_answer_304_until_something_new(
    hub: FakeHub, api: httpx.Client
) -> None:
    number = open_pull(hub, api)["number"]
    hub.control.add_review(REPO, number, "COMMENTED", "First look", author="bob")
    for path in (f"/repos/{REPO}/pulls/{number}/reviews", f"/repos/{REPO}/pulls/{number}/comments"):
        first = api.get(path)
        etag = first.headers["etag"]
        cached = api.get(path, headers={"If-None-Match": etag})
        assert cached.status_code == 304 and cached.headers["etag"] == etag
        assert cached.content == b""
    etags = {
        p: api.get(p).headers["etag"]
        for p in (f"/repos/{REPO}/pulls/{number}/reviews", f"/repos/{REPO}/pulls/{number}/comments")
    }
    hub.control.add_review(
        REPO,
        number,
        "COMMENTED",
        "",
        author="bob",
        comments=[{"path": OPS, "line": 5, "body": "?"}],
    )
    for path, etag in etags.items():
        assert api.get(path, headers={"If-None-Match": etag}).status_code == 200


def test_reviews_paginate_with_link(hub: FakeHub, api: httpx.Client) -> None:
    number = open_pull(hub, api)["number"]
    for n in range(3):
        hub.control.add_review(REPO, number, "COMMENTED", f"note {n}", author="bob")
    first = api.get(f"/repos/{REPO}/pulls/{number}/reviews", params={"per_page": 2})
    assert [r["body"] for r in first.json()] == ["note 0", "note 1"]
    nxt = first.links["next"]["url"]
    assert nxt.startswith(f"{hub.base_url}/repos/{REPO}/pulls/{number}/reviews?")
    assert [r["body"] for r in api.get(nxt).json()] == ["note 2"]


def test_api_review_is_the_token_users_and_own_pull_refusals(
    hub: FakeHub, api: httpx.Client
) -> None:
    number = open_pull(hub, api)["number"]  # opened by ghw-bot, the token's user
    path = f"/repos/{REPO}/pulls/{number}/reviews"
    own = api.post(path, json={"event": "APPROVE"})
    assert own.status_code == 422
    assert own.json()["errors"] == ["Review Can not approve your own pull request"]
    changes = api.post(path, json={"event": "REQUEST_CHANGES", "body": "no"})
    assert changes.json()["errors"] == ["Review Can not request changes on your own pull request"]
    comment = api.post(path, json={"event": "COMMENT", "body": "Self-review: looks fine."})
    assert comment.status_code == 200
    assert (comment.json()["state"], comment.json()["user"]["login"]) == ("COMMENTED", "ghw-bot")
    assert comment.json()["author_association"] == "COLLABORATOR"
    hub.control.set_api_user("carol")
    approved = api.post(
        path,
        json={
            "event": "APPROVE",
            "body": "LGTM",
            "comments": [{"path": OPS, "line": 6, "body": "nice"}],
        },
    )
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["user"]["login"]) == ("APPROVED", "carol")
    assert [r["state"] for r in api.get(path).json()] == ["COMMENTED", "APPROVED"]
    [line] = api.get(f"/repos/{REPO}/pulls/{number}/comments").json()
    assert line["pull_request_review_id"] == approved.json()["id"]
    pending = api.post(path, json={"body": "draft thoughts"})  # no event: a pending review
    assert pending.status_code == 200 and pending.json()["state"] == "PENDING"
    assert "submitted_at" not in pending.json()
    second = api.post(path, json={"body": "more"})
    assert second.json()["errors"] == ["User can only have one pending review per pull request"]
    assert api.post(path, json={"event": "SHIP_IT"}).status_code == 422
    assert api.post(path, json={"event": "REQUEST_CHANGES"}).status_code == 422  # no body
    bad_line = api.post(
        path, json={"event": "COMMENT", "body": "x", "comments": [{"path": OPS, "body": "?"}]}
    )
    assert bad_line.status_code == 422


def test_bots_are_bots(hub: FakeHub, api: httpx.Client) -> None:
    number = open_pull(hub, api)["number"]
    hub.control.add_review(REPO, number, "COMMENTED", "Coverage -2%", author="codecov[bot]")
    hub.control.add_review(
        REPO, number, "CHANGES_REQUESTED", "Lint", author="linter", author_type="Bot"
    )
    hub.control.add_comment(
        REPO, number, "Deploy preview ready", author="netlify", author_type="Bot"
    )
    hub.control.add_comment(REPO, number, "Thanks!", author="alice", author_type="User")
    reviews = api.get(f"/repos/{REPO}/pulls/{number}/reviews").json()
    assert [(r["user"]["login"], r["user"]["type"]) for r in reviews] == [
        ("codecov[bot]", "Bot"),
        ("linter", "Bot"),
    ]
    comments = api.get(f"/repos/{REPO}/issues/{number}/comments").json()
    assert [(c["user"]["login"], c["user"]["type"]) for c in comments] == [
        ("netlify", "Bot"),
        ("alice", "User"),
    ]
    with pytest.raises(FakeHubControlError) as err:
        hub.control.add_comment(REPO, number, "x", author="eve", author_type="Android")
    assert err.value.status == 422


def test_control_review_validation(hub: FakeHub, api: httpx.Client) -> None:
    number = open_pull(hub, api)["number"]
    cases: list[dict[str, Any]] = [
        {"state": "LGTM"},
        {"state": "APPROVED", "author_association": "FRIEND"},
        {"state": "APPROVED", "author_type": "Alien"},
        {"state": "COMMENTED", "comments": [{"path": OPS, "line": 0, "body": "x"}]},
        {"state": "COMMENTED", "comments": [{"path": "", "line": 1, "body": "x"}]},
    ]
    for case in cases:
        with pytest.raises(FakeHubControlError) as err:
            hub.control.add_review(REPO, number, **case)  # type: ignore[arg-type]
        assert err.value.status == 422, case
    with pytest.raises(FakeHubControlError) as missing:
        hub.control.add_review(REPO, 1, "APPROVED")  # an issue, not a PR
    assert missing.value.status == 404
    assert api.get(f"/repos/{REPO}/pulls/{number}/reviews").json() == []


def test_comment_on_a_pull_bumps_it(hub: FakeHub, api: httpx.Client, clock: Clock) -> None:
    number = open_pull(hub, api)["number"]
    now = later(clock)
    hub.control.add_comment(
        REPO, number, "Please rebase", author="alice", author_association="MEMBER"
    )
    assert pull_updated(api, number) == now and listed_since(api, now) == [number]


# -- check runs and statuses -----------------------------------------------------------------------


def test_check_run_is_updated_by_name_and_bumps_the_pull(
    hub: FakeHub, api: httpx.Client, clock: Clock
) -> None:
    pull = open_pull(hub, api)
    number, sha = pull["number"], pull["head"]["sha"]
    path = f"/repos/{REPO}/commits/{sha}/check-runs"
    assert api.get(path).json() == {"total_count": 0, "check_runs": []}
    queued = hub.control.report_check_run(REPO, sha, "tests", status="queued")
    assert (queued["status"], queued["conclusion"]) == ("queued", None)
    listing = api.get(path)
    now = later(clock)
    failed = hub.control.report_check_run(
        REPO,
        sha,
        "tests",
        status="completed",
        conclusion="failure",
        output={"title": "1 test failed", "summary": "test_add", "text": "AssertionError"},
    )
    assert failed["id"] == queued["id"]  # the same run, updated
    again = api.get(path, headers={"If-None-Match": listing.headers["etag"]})
    assert again.status_code == 200
    body = again.json()
    assert body["total_count"] == 1
    [run] = body["check_runs"]
    assert (run["name"], run["status"], run["conclusion"]) == ("tests", "completed", "failure")
    assert run["output"]["title"] == "1 test failed"
    assert (run["output"]["summary"], run["output"]["text"]) == ("test_add", "AssertionError")
    assert run["head_sha"] == sha and run["completed_at"] == now
    assert run["html_url"] == f"{hub.base_url}/{REPO}/runs/{run['id']}"
    assert [p["number"] for p in run["pull_requests"]] == [number]
    assert run["app"]["slug"] == "fakehub-ci"
    assert pull_updated(api, number) == now and listed_since(api, now) == [number]
    assert api.get(f"/repos/{REPO}/pulls/{number}").json()["mergeable_state"] == "unstable"
    # a second name is a second run; the branch name is a ref too
    hub.control.report_check_run(REPO, "ghw/issue-1", "lint", conclusion="action_required")
    runs = api.get(f"/repos/{REPO}/commits/ghw%2Fissue-1/check-runs").json()
    assert runs["total_count"] == 2
    assert [(r["name"], r["status"]) for r in runs["check_runs"]] == [
        ("lint", "completed"),
        ("tests", "completed"),
    ]
    only = api.get(path, params={"check_name": "lint"}).json()
    assert [r["conclusion"] for r in only["check_runs"]] == ["action_required"]
    cached = api.get(path, headers={"If-None-Match": api.get(path).headers["etag"]})
    assert cached.status_code == 304
    # a passing re-run makes the PR clean again once every check passes
    hub.control.report_check_run(REPO, sha, "tests", conclusion="success")
    hub.control.report_check_run(REPO, sha, "lint", conclusion="success")
    assert api.get(f"/repos/{REPO}/pulls/{number}").json()["mergeable_state"] == "clean"


def test_check_run_validation_and_unknown_commits(hub: FakeHub, api: httpx.Client) -> None:
    sha = open_pull(hub, api)["head"]["sha"]
    for kwargs in (
        {"status": "completed"},  # completed needs a conclusion
        {"status": "sleeping"},
        {"conclusion": "meh"},
    ):
        with pytest.raises(FakeHubControlError) as err:
            hub.control.report_check_run(REPO, sha, "tests", **kwargs)  # type: ignore[arg-type]
        assert err.value.status == 422, kwargs
    with pytest.raises(FakeHubControlError) as err:
        hub.control.report_check_run(REPO, "0" * 40, "tests", conclusion="success")
    assert err.value.status == 422
    assert api.get(f"/repos/{REPO}/commits/{'0' * 40}/check-runs").status_code == 422
    assert api.get(f"/repos/{REPO}/commits/{'0' * 40}/status").status_code == 404


def test_combined_status_keeps_the_latest_per_context(
    hub: FakeHub, api: httpx.Client, clock: Clock
) -> None:
    pull = open_pull(hub, api)
    number, sha = pull["number"], pull["head"]["sha"]
    path = f"/repos/{REPO}/commits/{sha}/status"
    empty = api.get(path).json()
    assert (empty["state"], empty["total_count"], empty["statuses"], empty["sha"]) == (
        "pending",
        0,
        [],
        sha,
    )
    hub.control.report_status(REPO, sha, "pending", context="ci/build", description="Building")
    first = api.get(path)
    assert (first.json()["state"], first.json()["total_count"]) == ("pending", 1)
    now = later(clock)
    hub.control.report_status(REPO, sha, "success", context="ci/build", description="Built")
    hub.control.report_status(REPO, sha, "failure", context="ci/lint", description="2 errors")
    combined = api.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert combined.status_code == 200
    data = combined.json()
    assert (data["state"], data["total_count"]) == ("failure", 2)
    assert [(s["context"], s["state"], s["description"]) for s in data["statuses"]] == [
        ("ci/lint", "failure", "2 errors"),
        ("ci/build", "success", "Built"),
    ]
    assert data["repository"]["full_name"] == REPO
    assert pull_updated(api, number) == now
    assert api.get(path, headers={"If-None-Match": combined.headers["etag"]}).status_code == 304
    hub.control.report_status(REPO, "ghw/issue-1", "success", context="ci/lint")
    assert api.get(path).json()["state"] == "success"
    with pytest.raises(FakeHubControlError) as err:
        hub.control.report_status(REPO, sha, "green")
    assert err.value.status == 422


# -- merging closes what the PR fixes -------------------------------------------------------------


def test_merge_closes_the_issues_the_body_fixes(hub: FakeHub, api: httpx.Client) -> None:
    body = "Fixes #1, resolves #2 and CLOSES demo/calc#3.\nSee #4; fixes other/repo#4; fixes #99"
    number = open_pull(hub, api, body=body)["number"]
    merged = hub.control.merge_pull(REPO, number)
    assert merged["merged"] is True
    pull = api.get(f"/repos/{REPO}/pulls/{number}").json()
    assert (pull["state"], pull["merged"]) == ("closed", True)
    assert pull["merged_at"] is not None
    states = {
        i["number"]: (i["state"], i["state_reason"])
        for i in api.get(f"/repos/{REPO}/issues", params={"state": "all"}).json()
    }
    assert states[1] == states[2] == states[3] == ("closed", "completed")
    assert states[4] == ("open", None)
    # closed by whoever merged (the control API's default actor: the PR's author)
    assert api.get(f"/repos/{REPO}/issues/1").json()["closed_by"]["login"] == "ghw-bot"


def test_merge_into_another_branch_closes_nothing(hub: FakeHub, api: httpx.Client) -> None:
    hub.control.push_files(REPO, "dev", {"dev.txt": "dev\n"})
    hub.control.push_files(REPO, "feature", {"f.txt": "f\n"}, from_branch="dev")
    created = api.post(
        f"/repos/{REPO}/pulls",
        json={"title": "f", "head": "feature", "base": "dev", "body": "Fixes #1"},
    ).json()
    hub.control.merge_pull(REPO, created["number"])
    assert api.get(f"/repos/{REPO}/issues/1").json()["state"] == "open"


# -- persistence ---------------------------------------------------------------------------------


def test_reviews_checks_and_statuses_survive_a_restart(tmp_path: Path, clock: Clock) -> None:
    data = tmp_path / "data"
    auth = {"Authorization": f"Bearer {TOKEN}"}

    def snapshot(hub: FakeHub, number: int, sha: str) -> dict[str, Any]:
        """What the four reads answer, with the (per-run) port taken out of the URLs."""
        reads = {
            "reviews": f"/repos/{REPO}/pulls/{number}/reviews",
            "comments": f"/repos/{REPO}/pulls/{number}/comments",
            "runs": f"/repos/{REPO}/commits/{sha}/check-runs",
            "status": f"/repos/{REPO}/commits/{sha}/status",
        }
        with httpx.Client(base_url=hub.base_url, headers=auth) as api:
            return {
                k: json.loads(api.get(v).text.replace(hub.base_url, "BASE"))
                for k, v in reads.items()
            }

    with FakeHub.start(data_dir=data, seed="demo", clock=clock) as hub:
        with httpx.Client(base_url=hub.base_url, headers=auth) as api:
            pull = open_pull(hub, api)
        number, sha = pull["number"], pull["head"]["sha"]
        hub.control.add_review(
            REPO,
            number,
            "CHANGES_REQUESTED",
            "Needs a test",
            author="dependabot[bot]",
            comments=[{"path": OPS, "line": 6, "body": "here"}],
        )
        hub.control.report_check_run(
            REPO, sha, "tests", conclusion="failure", output={"title": "t"}
        )
        hub.control.report_status(REPO, sha, "error", context="ci", description="boom")
        before = snapshot(hub, number, sha)
    assert before["reviews"][0]["user"]["type"] == "Bot"
    assert before["comments"][0]["body"] == "here"
    assert before["runs"]["check_runs"][0]["conclusion"] == "failure"
    assert before["status"]["state"] == "failure"
    with FakeHub.start(data_dir=data, clock=clock) as hub:
        assert snapshot(hub, number, sha) == before
        # ids continue: the same name updates the restored run, a new review gets a new id
        again = hub.control.report_check_run(REPO, sha, "tests", conclusion="success")
        assert again["id"] == before["runs"]["check_runs"][0]["id"]
        review = hub.control.add_review(REPO, number, "APPROVED", "ok", author="alice")
        assert review["id"] > before["reviews"][0]["id"]


# -- pushes to a PR's head ------------------------------------------------------------------------


def test_a_push_to_the_head_bumps_the_pull_and_one_to_base_does_not(
    hub: FakeHub, api: httpx.Client, clock: Clock, tmp_path: Path
) -> None:
    number = open_pull(hub, api)["number"]
    created = pull_updated(api, number)
    later(clock)
    hub.control.push_files(REPO, "main", {"NOTES.md": "n\n"})  # the base moves: no bump
    assert pull_updated(api, number) == created
    now = later(clock)
    # a revision pushed over smart HTTP with a real git client, as ghw pushes
    work = tmp_path / "revise"
    git(
        *git_auth_args(),
        "clone",
        "--quiet",
        "--branch",
        "ghw/issue-1",
        hub.clone_url(REPO),
        str(work),
    )
    (work / "tests" / "test_more.py").write_text("def test_more():\n    assert True\n")
    git("add", "-A", cwd=work)
    git("commit", "--quiet", "-m", "Add a test", cwd=work)
    git(*git_auth_args(), "push", "--quiet", "origin", "ghw/issue-1", cwd=work)
    pull = api.get(f"/repos/{REPO}/pulls/{number}").json()
    assert pull["head"]["sha"] == git("rev-parse", "HEAD", cwd=work).stdout.strip()
    assert pull["updated_at"] == now and listed_since(api, now) == [number]
    # and through the control API's commits too
    again = later(clock)
    hub.control.push_files(REPO, "ghw/issue-1", {"more.txt": "m\n"})
    assert pull_updated(api, number) == again


def test_review_comments_follow_new_commits_or_become_outdated(
    hub: FakeHub, api: httpx.Client
) -> None:
    pull = open_pull(hub, api)
    number, first_head = pull["number"], pull["head"]["sha"]
    hub.control.add_review(
        REPO,
        number,
        "CHANGES_REQUESTED",
        "Two things",
        author="alice",
        author_association="MEMBER",
        comments=[
            {"path": OPS, "line": 6, "body": "swap the operands"},  # `return x + y`
            {"path": OPS, "line": 4, "body": "rename the function"},  # `def add(x, y):`
        ],
    )
    # the revision adds two lines on top and rewrites line 6: the first comment's line is gone,
    # the second one's moved down by two
    revised = "# calc\n\n" + FIXED_OPS.replace("return x + y", "return y + x")
    new_head = hub.control.push_files(REPO, "ghw/issue-1", {OPS: revised}, message="Revise")
    outdated, moved = api.get(f"/repos/{REPO}/pulls/{number}/comments").json()
    assert (outdated["line"], outdated["original_line"]) == (None, 6)
    assert (outdated["commit_id"], outdated["original_commit_id"]) == (first_head, first_head)
    assert (moved["line"], moved["original_line"]) == (6, 4)
    assert (moved["commit_id"], moved["original_commit_id"]) == (new_head, first_head)
