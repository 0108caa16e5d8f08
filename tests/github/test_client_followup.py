"""The client's follow-up reads (§12) against a real fakehub over HTTP: the token's user, one PR
with its mergeability, reviews, review comments, issue comments, check runs and the combined
status, each conditional (ETag → 304) and paginated where GitHub paginates."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from ghw.fakehub import FakeHub
from ghw.github import GitHubClient, MalformedResponseError

from .conftest import TOKEN

OWNER, NAME = "demo", "calc"
REPO = f"{OWNER}/{NAME}"
OPS = "calc/ops.py"
FIXED_OPS = '"""Arithmetic operations."""\n\n\ndef add(x, y):\n    """Sum."""\n    return x + y\n'


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    with FakeHub.start(data_dir=tmp_path / "hub", seed="demo") as running:
        yield running


@pytest.fixture
async def gh(hub: FakeHub) -> AsyncIterator[GitHubClient]:
    async with GitHubClient(hub.base_url, TOKEN, write_interval=0, max_retries=0) as client:
        yield client


def open_pull(hub: FakeHub, branch: str = "ghw/issue-1") -> tuple[int, str]:
    """A PR fixing add, opened by the token's user; returns (number, head sha)."""
    sha = hub.control.push_files(REPO, branch, {OPS: FIXED_OPS}, message="Fix add")
    with httpx.Client(base_url=hub.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        created = api.post(
            f"/repos/{REPO}/pulls",
            json={"title": "Fix add", "head": branch, "base": "main", "body": "Fixes #1"},
        )
    assert created.status_code == 201, created.text
    return int(created.json()["number"]), sha


def api_requests(hub: FakeHub) -> list[tuple[str, int]]:
    return [(e["path"], e["status"]) for e in hub.control.requests() if not e.get("git")]


async def test_authenticated_user_and_its_type(hub: FakeHub, gh: GitHubClient) -> None:
    me = await gh.get_authenticated_user()
    assert me.value is not None and not me.not_modified
    assert (me.value.login, me.value.type, me.value.is_bot) == ("ghw-bot", "User", False)
    again = await gh.get_authenticated_user(etag=me.etag)
    assert again.not_modified and again.value is None and again.etag == me.etag
    hub.control.set_api_user("ghw-app[bot]")
    changed = await gh.get_authenticated_user(etag=me.etag)
    assert changed.value is not None and changed.value.is_bot
    assert changed.value.type == "Bot" and changed.value.login == "ghw-app[bot]"


async def test_fetch_pull_mergeability_from_real_git(hub: FakeHub, gh: GitHubClient) -> None:
    number, head = open_pull(hub)
    first = await gh.fetch_pull(OWNER, NAME, number)
    pr = first.value
    assert pr is not None
    assert (pr.head_ref, pr.head_sha, pr.base_ref) == ("ghw/issue-1", head, "main")
    assert (pr.mergeable, pr.mergeable_state, pr.merged, pr.state) == (True, "clean", False, "open")
    assert pr.base_sha is not None and pr.updated_at is not None and pr.user_login == "ghw-bot"
    assert (await gh.fetch_pull(OWNER, NAME, number, etag=first.etag)).not_modified
    conflicting = FIXED_OPS.replace("x + y", "y + x")
    hub.control.push_files(REPO, "main", {OPS: conflicting}, message="main fixes add too")
    dirty = await gh.fetch_pull(OWNER, NAME, number, etag=first.etag)
    assert dirty.value is not None and not dirty.not_modified
    assert (dirty.value.mergeable, dirty.value.mergeable_state) == (False, "dirty")
    assert (await gh.get_pull(OWNER, NAME, number)).mergeable_state == "dirty"


async def test_reviews_and_review_comments_typed_and_conditional(
    hub: FakeHub, gh: GitHubClient
) -> None:
    number, head = open_pull(hub)
    empty = await gh.list_reviews(OWNER, NAME, number)
    assert empty.items == () and empty.etag is not None
    hub.control.add_review(
        REPO,
        number,
        "CHANGES_REQUESTED",
        "Please add a test.",
        author="alice",
        author_association="MEMBER",
        comments=[{"path": OPS, "line": 6, "body": "Rename x and y."}],
    )
    hub.control.add_review(REPO, number, "COMMENTED", "Coverage -1%", author="codecov[bot]")
    reviews = await gh.list_reviews(OWNER, NAME, number, etag=empty.etag)
    assert not reviews.not_modified and reviews.requests == 1
    alice, bot = reviews.items
    assert (alice.state, alice.body, alice.user_login) == (
        "CHANGES_REQUESTED",
        "Please add a test.",
        "alice",
    )
    assert (alice.author_association, alice.commit_id, alice.is_bot) == ("MEMBER", head, False)
    assert alice.html_url is not None and alice.html_url.endswith(f"#pullrequestreview-{alice.id}")
    assert (bot.user_type, bot.is_bot) == ("Bot", True)
    comments = await gh.list_review_comments(OWNER, NAME, number)
    [line] = comments.items
    assert (line.path, line.line, line.body, line.review_id) == (
        OPS,
        6,
        "Rename x and y.",
        alice.id,
    )
    assert (line.commit_id, line.user_login, line.author_association) == (head, "alice", "MEMBER")
    assert line.diff_hunk is not None and line.diff_hunk.endswith("+    return x + y")
    assert not line.outdated and (line.original_line, line.original_commit_id) == (6, head)
    hub.control.clear_requests()
    assert (await gh.list_reviews(OWNER, NAME, number, etag=reviews.etag)).not_modified
    assert (await gh.list_review_comments(OWNER, NAME, number, etag=comments.etag)).not_modified
    assert [s for _, s in api_requests(hub)] == [304, 304]
    # a revision rewrites the commented line: the comment is outdated, its review unchanged
    revised = FIXED_OPS.replace("x + y", "y + x")
    hub.control.push_files(REPO, "ghw/issue-1", {OPS: revised}, message="Revise")
    after = await gh.list_review_comments(OWNER, NAME, number, etag=comments.etag)
    [stale] = after.items
    assert stale.outdated and (stale.original_line, stale.commit_id) == (6, head)
    assert (await gh.list_reviews(OWNER, NAME, number, etag=reviews.etag)).not_modified


async def test_a_listing_of_several_pages_keeps_no_etag(hub: FakeHub, gh: GitHubClient) -> None:
    number, _ = open_pull(hub)
    for n in range(3):
        hub.control.add_review(REPO, number, "COMMENTED", f"note {n}", author="bob")
    paged = await gh.list_reviews(OWNER, NAME, number, per_page=2)
    assert [r.body for r in paged.items] == ["note 0", "note 1", "note 2"]
    # a 304 on page 1 would hide a review added to page 2: the next read is unconditional
    assert paged.requests == 2 and paged.etag is None


async def test_issue_comments_conditional(hub: FakeHub, gh: GitHubClient) -> None:
    number, _ = open_pull(hub)
    hub.control.add_comment(REPO, number, "Deploy ready", author="netlify", author_type="Bot")
    first = await gh.fetch_issue_comments(OWNER, NAME, number)
    [comment] = first.items
    assert (comment.user_login, comment.user_type, comment.is_bot) == ("netlify", "Bot", True)
    assert (await gh.fetch_issue_comments(OWNER, NAME, number, etag=first.etag)).not_modified
    hub.control.add_comment(
        REPO, number, "Please rebase", author="alice", author_association="MEMBER"
    )
    again = await gh.fetch_issue_comments(OWNER, NAME, number, etag=first.etag)
    assert [c.body for c in again.items] == ["Deploy ready", "Please rebase"]
    assert [c.body for c in await gh.list_issue_comments(OWNER, NAME, number)] == [
        "Deploy ready",
        "Please rebase",
    ]


async def test_check_runs_typed_paginated_and_conditional(hub: FakeHub, gh: GitHubClient) -> None:
    _, head = open_pull(hub)
    none = await gh.list_check_runs(OWNER, NAME, head)
    assert (none.items, none.total_count) == ((), 0)
    hub.control.report_check_run(REPO, head, "tests", status="in_progress")
    hub.control.report_check_run(
        REPO,
        head,
        "tests",
        conclusion="failure",
        output={"title": "1 failed", "summary": "test_add", "text": "AssertionError: -1 != 5"},
    )
    hub.control.report_check_run(REPO, head, "lint", conclusion="action_required")
    runs = await gh.list_check_runs(OWNER, NAME, head, etag=none.etag)
    assert runs.total_count == 2 and not runs.not_modified
    by_name = {r.name: r for r in runs.items}
    tests = by_name["tests"]
    assert (tests.status, tests.conclusion, tests.head_sha) == ("completed", "failure", head)
    assert (tests.title, tests.summary, tests.text) == (
        "1 failed",
        "test_add",
        "AssertionError: -1 != 5",
    )
    assert tests.app_slug == "fakehub-ci" and tests.completed_at is not None
    assert by_name["lint"].conclusion == "action_required"
    assert (await gh.list_check_runs(OWNER, NAME, head, etag=runs.etag)).not_modified
    one_by_one = await gh.list_check_runs(OWNER, NAME, "ghw/issue-1", per_page=1)
    assert sorted(r.name for r in one_by_one.items) == ["lint", "tests"]
    assert (one_by_one.requests, one_by_one.total_count, one_by_one.etag) == (2, 2, None)


async def test_combined_status_typed_paginated_and_conditional(
    hub: FakeHub, gh: GitHubClient
) -> None:
    _, head = open_pull(hub)
    pending = await gh.get_combined_status(OWNER, NAME, head)
    assert pending.value is not None
    assert (pending.value.state, pending.value.total_count, pending.value.sha) == (
        "pending",
        0,
        head,
    )
    hub.control.report_status(REPO, head, "success", context="ci/build", description="ok")
    hub.control.report_status(REPO, head, "failure", context="ci/lint", description="2 errors")
    failing = await gh.get_combined_status(OWNER, NAME, head, etag=pending.etag)
    assert failing.value is not None and failing.value.state == "failure"
    assert [(s.context, s.state) for s in failing.value.statuses] == [
        ("ci/lint", "failure"),
        ("ci/build", "success"),
    ]
    assert (await gh.get_combined_status(OWNER, NAME, head, etag=failing.etag)).not_modified
    paged = await gh.get_combined_status(OWNER, NAME, head, per_page=1)
    assert paged.value is not None and len(paged.value.statuses) == 2 and paged.etag is None


async def test_an_unchanged_pull_costs_one_304_per_read(hub: FakeHub, gh: GitHubClient) -> None:
    number, head = open_pull(hub)
    hub.control.add_review(REPO, number, "APPROVED", "ok", author="alice")
    hub.control.report_check_run(REPO, head, "tests", conclusion="success")
    hub.control.report_status(REPO, head, "success", context="ci")
    pull = await gh.fetch_pull(OWNER, NAME, number)
    reviews = await gh.list_reviews(OWNER, NAME, number)
    lines = await gh.list_review_comments(OWNER, NAME, number)
    comments = await gh.fetch_issue_comments(OWNER, NAME, number)
    runs = await gh.list_check_runs(OWNER, NAME, head)
    status = await gh.get_combined_status(OWNER, NAME, head)
    hub.control.clear_requests()
    again = [
        await gh.fetch_pull(OWNER, NAME, number, etag=pull.etag),
        await gh.list_reviews(OWNER, NAME, number, etag=reviews.etag),
        await gh.list_review_comments(OWNER, NAME, number, etag=lines.etag),
        await gh.fetch_issue_comments(OWNER, NAME, number, etag=comments.etag),
        await gh.list_check_runs(OWNER, NAME, head, etag=runs.etag),
        await gh.get_combined_status(OWNER, NAME, head, etag=status.etag),
    ]
    assert all(r.not_modified for r in again)
    assert [s for _, s in api_requests(hub)] == [304] * 6


@pytest.mark.parametrize("ref", ["", "../../user", "a b", "x?y=1", "-rf", "main:other"])
async def test_refs_that_could_escape_their_segment_are_refused(gh: GitHubClient, ref: str) -> None:
    with pytest.raises(ValueError, match="invalid ref"):
        await gh.list_check_runs(OWNER, NAME, ref)


async def test_a_check_runs_page_without_its_array_is_malformed(hub: FakeHub) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"total_count": 1})

    async with GitHubClient(
        hub.base_url, TOKEN, transport=httpx.MockTransport(answer), max_retries=0
    ) as gh:
        with pytest.raises(MalformedResponseError, match="check_runs"):
            await gh.list_check_runs(OWNER, NAME, "a" * 40)
