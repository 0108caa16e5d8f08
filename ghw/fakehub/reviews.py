"""Pull-request reviews and their line comments, made through the API or the control API.

A review is stamped with the PR's live head sha (``commit_id``) and each line comment gets the
real ``diff_hunk`` of ``git diff base...head`` up to its line, as GitHub renders them. Submitting a
review or a line comment moves the PR's ``updated_at``, so a sync sees the PR as changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ghw.fakehub.context import HubContext
from ghw.fakehub.errors import ApiError, validation_failed
from ghw.fakehub.gitrepo import GitError
from ghw.fakehub.model import Issue, Repo, Review, ReviewComment
from ghw.fakehub.pulls import association_for, live_shas
from ghw.fakehub.store import check_association

__all__ = [
    "EVENT_STATES",
    "REVIEW_STATES",
    "LineComment",
    "ReviewSpec",
    "add_review",
    "api_review_spec",
    "comment_positions",
    "diff_hunk",
    "follow_line",
    "line_comments",
]

# What a submitted review can say (the control API's ``state``); PENDING is an unsubmitted one.
REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED")
# The API's ``event`` → the review's state; no event leaves the review PENDING, as on GitHub.
EVENT_STATES = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
}
_DOCS_CREATE = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")
_RANGES = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,(\d+))? @@")


@dataclass(frozen=True, slots=True)
class LineComment:
    path: str
    line: int
    body: str


@dataclass(frozen=True, slots=True)
class ReviewSpec:
    """A review to record: who says what, in which state, with which line comments."""

    state: str
    body: str
    author: str
    association: str
    author_kind: str | None = None  # "user" | "bot"; None keeps what the account already is
    comments: tuple[LineComment, ...] = ()
    commit_id: str | None = None


def line_comments(raw: Any, *, resource: str = "PullRequestReviewComment") -> list[LineComment]:
    """``[{"path", "line", "body"}]`` validated (GitHub's 422 for a missing or bad field)."""
    if raw is None:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise validation_failed({"resource": resource, "code": "invalid", "field": "comments"})
    found: list[LineComment] = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise validation_failed({"resource": resource, "code": "invalid", "field": "comments"})
        path, line, body = item.get("path"), item.get("line"), item.get("body")
        for name, ok in (
            ("path", isinstance(path, str) and bool(path)),
            ("line", isinstance(line, int) and not isinstance(line, bool) and line >= 1),
            ("body", isinstance(body, str) and bool(body)),
        ):
            if not ok:
                raise validation_failed({"resource": resource, "code": "invalid", "field": name})
        found.append(LineComment(str(path), int(line), str(body)))  # type: ignore[call-overload]
    return found


def diff_hunk(diff: str, line: int) -> str | None:
    """The hunk of ``diff`` from its ``@@`` header down to new-side ``line`` (GitHub's
    ``diff_hunk``), or None when the diff does not show that line."""
    hunk: list[str] | None = None
    new_line = 0
    for text in diff.splitlines():
        match = _HUNK.match(text)
        if match:
            hunk, new_line = [text], int(match.group(1)) - 1
            continue
        if hunk is None or text.startswith("diff --git"):
            hunk = None
            continue
        hunk.append(text)
        if text.startswith(("+", " ")):  # removed lines have no new-side number
            new_line += 1
            if new_line == line:
                return "\n".join(hunk)
    return None


def follow_line(changes: str, line: int) -> int | None:
    """Where ``line`` of the old file is after ``changes`` (a ``-U0`` diff), or None when the
    change rewrote or removed it: GitHub's "outdated" comment."""
    shift = 0
    for text in changes.splitlines():
        match = _RANGES.match(text)
        if match is None:
            continue
        start, old_len = int(match.group(1)), int(match.group(2) or 1)
        new_len = int(match.group(3) or 1)
        if old_len and start <= line < start + old_len:
            return None
        # a pure insertion (old_len 0) goes after old line `start`; anything else ends before
        if (old_len and line >= start + old_len) or (not old_len and line > start):
            shift += new_len - old_len
    return line + shift


def comment_positions(
    ctx: HubContext, repo: Repo, issue: Issue, comments: Sequence[ReviewComment]
) -> dict[int, tuple[int | None, str]]:
    """Each comment's (line, commit_id) on the PR's head now: followed through the commits
    pushed since it was made, None with its own commit once those commits changed its line."""
    git = ctx.store.git(repo)
    head, _ = live_shas(issue, git.branches())
    changes: dict[tuple[str, str], str] = {}
    positions: dict[int, tuple[int | None, str]] = {}
    for comment in comments:
        if comment.commit_id == head:
            positions[comment.id] = (comment.line, head)
            continue
        key = (comment.commit_id, comment.path)
        if key not in changes:
            try:
                changes[key] = git.line_changes(comment.commit_id, head, comment.path)
            except GitError:
                changes[key] = f"@@ -{comment.line} +0,0 @@"  # its commit is gone: outdated
        line = follow_line(changes[key], comment.line)
        positions[comment.id] = (line, head) if line is not None else (None, comment.commit_id)
    return positions


def _hunks(
    ctx: HubContext, repo: Repo, issue: Issue, head: str, comments: Sequence[LineComment]
) -> list[str]:
    assert issue.pull is not None
    git = ctx.store.git(repo)
    _, base = live_shas(issue, git.branches())
    diffs: dict[str, str] = {}
    hunks: list[str] = []
    for comment in comments:
        if comment.path not in diffs:
            diffs[comment.path] = git.diff(base, head, comment.path)
        # A line outside the diff still gets a header, so the comment keeps a well-formed hunk.
        fallback = f"@@ -{comment.line},1 +{comment.line},1 @@"
        hunks.append(diff_hunk(diffs[comment.path], comment.line) or fallback)
    return hunks


def add_review(ctx: HubContext, repo: Repo, issue: Issue, spec: ReviewSpec) -> Review:
    """Record a review and its line comments; a submitted one moves the PR's ``updated_at``."""
    pull = issue.pull
    if pull is None:
        raise ApiError(404, "Not Found")
    if spec.state not in (*REVIEW_STATES, "PENDING"):
        raise validation_failed(
            {"resource": "PullRequestReview", "code": "invalid", "field": "state"}
        )
    association = check_association(spec.association)
    store = ctx.store
    head = spec.commit_id or live_shas(issue, store.git(repo).branches())[0]
    hunks = _hunks(ctx, repo, issue, head, spec.comments)
    with store.lock:
        author = store.ensure_owner(spec.author, spec.author_kind).login
        now = ctx.clock.now_int()
        submitted = spec.state != "PENDING"
        review = Review(
            id=store.next_id("review"),
            author=author,
            author_association=association,
            state=spec.state,
            body=spec.body,
            commit_id=head,
            submitted_at=now if submitted else None,
        )
        pull.reviews.append(review)
        for comment, hunk in zip(spec.comments, hunks, strict=True):
            pull.review_comments.append(
                ReviewComment(
                    id=store.next_id("review_comment"),
                    review_id=review.id,
                    path=comment.path,
                    line=comment.line,
                    body=comment.body,
                    author=author,
                    author_association=association,
                    commit_id=head,
                    diff_hunk=hunk,
                    created_at=now,
                    updated_at=now,
                )
            )
        if submitted:
            store.touch(issue, max(now, issue.updated_at))
        issue.cached_json = None
        store.save_repo(repo)
        return review


def api_review_spec(
    ctx: HubContext, repo: Repo, issue: Issue, data: Mapping[str, Any]
) -> ReviewSpec:
    """``POST /pulls/{n}/reviews`` as the token's account, with GitHub's refusals: no approving
    or requesting changes on your own PR, and no REQUEST_CHANGES or COMMENT without a body."""
    event = data.get("event")
    if event is not None and event not in EVENT_STATES:
        raise validation_failed(
            {"resource": "PullRequestReview", "code": "invalid", "field": "event"},
            documentation_url=_DOCS_CREATE,
        )
    state = EVENT_STATES[event] if event else "PENDING"
    body = data.get("body") or ""
    if not isinstance(body, str):
        raise validation_failed(
            {"resource": "PullRequestReview", "code": "invalid", "field": "body"}
        )
    comments = line_comments(data.get("comments"))
    login = ctx.api_login
    own = issue.author.lower() == login.lower()
    if own and state in ("APPROVED", "CHANGES_REQUESTED"):
        what = "approve" if state == "APPROVED" else "request changes on"
        raise _unprocessable(f"Review Can not {what} your own pull request")
    assert issue.pull is not None
    if state == "PENDING" and any(
        r.state == "PENDING" and r.author.lower() == login.lower() for r in issue.pull.reviews
    ):
        raise _unprocessable("User can only have one pending review per pull request")
    if state == "CHANGES_REQUESTED" and not body:
        raise _unprocessable("Review body can't be blank when requesting changes")
    if state == "COMMENTED" and not body and not comments:
        raise _unprocessable("Review body can't be blank")
    raw_commit = data.get("commit_id")
    commit = None
    if raw_commit is not None:
        commit = ctx.store.git(repo).resolve_commit(str(raw_commit))
        if commit is None:
            raise _unprocessable("Review commit_id is not part of the pull request")
    return ReviewSpec(
        state=state,
        body=body,
        author=login,
        association=association_for(repo, login),
        comments=tuple(comments),
        commit_id=commit,
    )


def _unprocessable(message: str) -> ApiError:
    """GitHub's 422 for reviews: ``validation-error-simple`` (errors are plain strings)."""
    return ApiError(422, "Unprocessable Entity", errors=[message], documentation_url=_DOCS_CREATE)
