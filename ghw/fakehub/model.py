"""Plain records fakehub keeps per repository, and their persisted (JSON) form.

These are storage records, not GitHub's JSON shapes: :mod:`ghw.fakehub.render` turns them into
what the API answers. Issues and pull requests share :class:`Issue` (a pull request is an issue
with ``pull`` set), which is how GitHub numbers them from one sequence per repository.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "ASSOCIATIONS",
    "CheckRun",
    "Comment",
    "CommitStatus",
    "Issue",
    "Owner",
    "PullInfo",
    "Repo",
    "Review",
    "ReviewComment",
]

ASSOCIATIONS = frozenset(
    {
        "COLLABORATOR",
        "CONTRIBUTOR",
        "FIRST_TIMER",
        "FIRST_TIME_CONTRIBUTOR",
        "MANNEQUIN",
        "MEMBER",
        "NONE",
        "OWNER",
    }
)


@dataclass(slots=True)
class Owner:
    """An account: ``kind`` is ``user``, ``org`` or ``bot``."""

    login: str
    id: int
    kind: str = "user"


@dataclass(slots=True)
class Comment:
    id: int
    body: str
    author: str
    author_association: str
    created_at: int
    updated_at: int


@dataclass(slots=True)
class Review:
    """A submitted pull-request review; ``state`` is GitHub's (``CHANGES_REQUESTED``…)."""

    id: int
    author: str
    author_association: str
    state: str
    body: str
    commit_id: str
    # None while PENDING (a review started through the API without an ``event``).
    submitted_at: int | None


@dataclass(slots=True)
class ReviewComment:
    """A comment on one line of a pull request's diff, made as part of review ``review_id``."""

    id: int
    review_id: int | None
    path: str
    line: int
    body: str
    author: str
    author_association: str
    commit_id: str
    diff_hunk: str
    created_at: int
    updated_at: int


@dataclass(slots=True)
class CheckRun:
    """A check run on one commit; runs are unique per (sha, name): a second report updates it."""

    id: int
    suite_id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    title: str | None
    summary: str | None
    text: str | None
    started_at: int
    completed_at: int | None


@dataclass(slots=True)
class CommitStatus:
    """One commit status report; the combined status keeps the latest per ``context``."""

    id: int
    state: str
    context: str
    description: str | None
    target_url: str | None
    created_at: int
    updated_at: int


@dataclass(slots=True)
class PullInfo:
    """The pull-request half of an issue record.

    ``head_sha``/``base_sha`` are the values last seen; open pull requests are rendered from the
    live branch tips of the bare repository instead.
    """

    id: int
    head_ref: str
    base_ref: str
    head_sha: str
    base_sha: str
    draft: bool = False
    merged: bool = False
    merged_at: int | None = None
    merge_commit_sha: str | None = None
    merged_by: str | None = None
    reviews: list[Review] = field(default_factory=list)
    review_comments: list[ReviewComment] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PullInfo:
        data = dict(data)
        reviews = [Review(**r) for r in data.pop("reviews", [])]
        comments = [ReviewComment(**c) for c in data.pop("review_comments", [])]
        return cls(**data, reviews=reviews, review_comments=comments)


@dataclass(slots=True)
class Issue:
    number: int
    id: int
    title: str
    body: str | None
    author: str
    author_association: str
    created_at: int
    updated_at: int
    state: str = "open"
    state_reason: str | None = None
    closed_at: int | None = None
    closed_by: str | None = None
    labels: list[str] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    pull: PullInfo | None = None
    locked: bool = False
    # Rendered API JSON of the issue-list item, dropped on every change (never persisted).
    cached_json: bytes | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The persisted form (hand-written: ``dataclasses.asdict`` is 5x slower on 10k issues)."""
        return {
            "number": self.number,
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "author": self.author,
            "author_association": self.author_association,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "state": self.state,
            "state_reason": self.state_reason,
            "closed_at": self.closed_at,
            "closed_by": self.closed_by,
            "labels": list(self.labels),
            "comments": [
                {
                    "id": c.id,
                    "body": c.body,
                    "author": c.author,
                    "author_association": c.author_association,
                    "created_at": c.created_at,
                    "updated_at": c.updated_at,
                }
                for c in self.comments
            ],
            "pull": asdict(self.pull) if self.pull is not None else None,
            "locked": self.locked,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Issue:
        data = dict(data)
        data.pop("cached_json", None)
        comments = [Comment(**c) for c in data.pop("comments", [])]
        pull = data.pop("pull", None)
        return cls(**data, comments=comments, pull=PullInfo.from_dict(pull) if pull else None)


@dataclass(slots=True)
class Repo:
    """A repository: metadata, its issues (by number) and labels (name → (id, color))."""

    id: int
    owner: str
    name: str
    default_branch: str = "main"
    description: str | None = None
    private: bool = False
    created_at: int = 0
    next_number: int = 1
    labels: dict[str, list[Any]] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    # Check runs and commit statuses by full commit sha (GitHub keeps them per commit, not per PR).
    check_runs: dict[str, list[CheckRun]] = field(default_factory=dict)
    statuses: dict[str, list[CommitStatus]] = field(default_factory=dict)
    # Bumped on every change to the repository's issues; list caches are keyed by it.
    version: int = field(default=0, compare=False)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def meta_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "owner": self.owner,
            "name": self.name,
            "default_branch": self.default_branch,
            "description": self.description,
            "private": self.private,
            "created_at": self.created_at,
        }

    def issues_dict(self) -> dict[str, Any]:
        return {
            "next_number": self.next_number,
            "labels": self.labels,
            "issues": [issue.to_dict() for issue in self.issues.values()],
            "check_runs": {sha: [asdict(r) for r in runs] for sha, runs in self.check_runs.items()},
            "statuses": {sha: [asdict(x) for x in items] for sha, items in self.statuses.items()},
        }

    def load_commit_records(self, data: dict[str, Any]) -> None:
        """Restore check runs and statuses from :meth:`issues_dict`'s form (absent in old data)."""
        self.check_runs = {
            sha: [CheckRun(**r) for r in runs] for sha, runs in data.get("check_runs", {}).items()
        }
        self.statuses = {
            sha: [CommitStatus(**x) for x in items]
            for sha, items in data.get("statuses", {}).items()
        }
