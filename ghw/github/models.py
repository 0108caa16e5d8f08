"""Typed results of the GitHub client: small frozen dataclasses, each keeping GitHub's raw dict.

Only the fields ghw uses are typed; anything else stays reachable through ``raw``. A missing
required field (or one of the wrong type) raises :class:`MalformedResponseError` at the boundary,
so the phases never see half-shaped data. Optional fields tolerate absence, because GitHub's
shapes vary by endpoint (``pull-request-simple`` lacks ``merged``) and by GHES version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from ghw.github.errors import MalformedResponseError

__all__ = [
    "CheckRun",
    "CheckRunsListing",
    "CombinedStatus",
    "Comment",
    "CommitStatus",
    "Fetched",
    "GitHubResponse",
    "Issue",
    "IssuesListing",
    "Listing",
    "PullRequest",
    "RateLimitWait",
    "Repository",
    "Review",
    "ReviewComment",
    "User",
    "is_bot_account",
]

_T = TypeVar("_T")


def _need(raw: Mapping[str, Any], key: str, kind: type[_T] | tuple[type, ...], what: str) -> _T:
    value = raw.get(key) if isinstance(raw, Mapping) else None
    # bool is an int subclass; a number field holding True is a shape error, not a number.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedResponseError(f"{what}: field {key!r} missing or not {_kind_name(kind)}")
    return value  # type: ignore[return-value]


def _opt(raw: Mapping[str, Any], key: str, kind: type[_T] | tuple[type, ...]) -> _T | None:
    value = raw.get(key)
    return value if isinstance(value, kind) else None  # type: ignore[return-value]


def _kind_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return kind.__name__


def _login(raw: Mapping[str, Any], key: str = "user") -> str | None:
    user = raw.get(key)
    if isinstance(user, Mapping):
        login = user.get("login")
        return login if isinstance(login, str) else None
    return None


def _user_type(raw: Mapping[str, Any], key: str = "user") -> str | None:
    user = raw.get(key)
    if isinstance(user, Mapping):
        kind = user.get("type")
        return kind if isinstance(kind, str) else None
    return None


def is_bot_account(login: str | None, user_type: str | None) -> bool:
    """GitHub's two marks of a bot: ``type == "Bot"`` or a GitHub App's ``name[bot]`` login."""
    return user_type == "Bot" or (login or "").lower().endswith("[bot]")


def _require_object(raw: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise MalformedResponseError(f"{what}: expected a JSON object, got {type(raw).__name__}")
    return raw


@dataclass(frozen=True)
class RateLimitWait:
    """A wait the client is about to make; the caller records it (``RateLimitWait`` event).

    ``until`` is epoch seconds (the injected clock's scale); ``reason`` is ``primary``,
    ``secondary`` or ``not_before``; ``path`` is the request path that met the limit.
    """

    until: float
    reason: str
    path: str


@dataclass(frozen=True)
class GitHubResponse:
    """One HTTP answer. ``json`` is the parsed body (None for empty, 304 or non-JSON bodies)."""

    status: int
    headers: httpx.Headers
    url: str
    text: str
    json: Any = None
    etag: str | None = None
    links: Mapping[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def __repr__(self) -> str:
        return f"GitHubResponse(status={self.status}, url={self.url!r})"


@dataclass(frozen=True)
class Issue:
    """An item of the issues API; ``is_pull_request`` flags PRs, which that API lists too."""

    number: int
    title: str
    body: str | None
    state: str
    labels: tuple[str, ...]
    user_login: str | None
    author_association: str | None
    created_at: str | None
    updated_at: str | None
    closed_at: str | None
    html_url: str | None
    node_id: str | None
    is_pull_request: bool
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Any) -> Issue:
        raw = _require_object(raw, "issue")
        labels: list[str] = []
        for label in raw.get("labels") or ():
            # Labels come as objects, but GitHub documents plain strings as possible too.
            name = label.get("name") if isinstance(label, Mapping) else label
            if isinstance(name, str):
                labels.append(name)
        return cls(
            number=_need(raw, "number", int, "issue"),
            title=_need(raw, "title", str, "issue"),
            body=_opt(raw, "body", str),
            state=_need(raw, "state", str, "issue"),
            labels=tuple(labels),
            user_login=_login(raw),
            author_association=_opt(raw, "author_association", str),
            created_at=_opt(raw, "created_at", str),
            updated_at=_opt(raw, "updated_at", str),
            closed_at=_opt(raw, "closed_at", str),
            html_url=_opt(raw, "html_url", str),
            node_id=_opt(raw, "node_id", str),
            is_pull_request=raw.get("pull_request") is not None,
            raw=raw,
        )


@dataclass(frozen=True)
class Comment:
    id: int
    body: str
    user_login: str | None
    author_association: str | None
    created_at: str | None
    updated_at: str | None
    html_url: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    user_type: str | None = None

    @property
    def is_bot(self) -> bool:
        return is_bot_account(self.user_login, self.user_type)

    @classmethod
    def from_json(cls, raw: Any) -> Comment:
        raw = _require_object(raw, "comment")
        return cls(
            id=_need(raw, "id", int, "comment"),
            body=_opt(raw, "body", str) or "",
            user_login=_login(raw),
            author_association=_opt(raw, "author_association", str),
            created_at=_opt(raw, "created_at", str),
            updated_at=_opt(raw, "updated_at", str),
            html_url=_opt(raw, "html_url", str),
            raw=raw,
            user_type=_user_type(raw),
        )


@dataclass(frozen=True)
class PullRequest:
    """A pull request; ``existing`` is True when create_pull resolved a duplicate to this one."""

    number: int
    title: str
    body: str | None
    state: str
    draft: bool
    merged: bool
    merged_at: str | None
    head_ref: str
    head_sha: str | None
    head_owner: str | None
    base_ref: str | None
    html_url: str | None
    node_id: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    existing: bool = False
    # Only the single-PR shape (GET /pulls/{n}) has these; None in list results, and
    # ``mergeable`` is None while GitHub is still computing it.
    mergeable: bool | None = None
    mergeable_state: str | None = None
    base_sha: str | None = None
    updated_at: str | None = None
    user_login: str | None = None

    @classmethod
    def from_json(cls, raw: Any) -> PullRequest:
        raw = _require_object(raw, "pull request")
        head = _need(raw, "head", Mapping, "pull request")
        base = raw.get("base") if isinstance(raw.get("base"), Mapping) else {}
        head_repo = head.get("repo") if isinstance(head.get("repo"), Mapping) else {}
        head_owner = _login(head_repo, "owner") or _login(head)
        if head_owner is None and isinstance(head.get("label"), str) and ":" in head["label"]:
            head_owner = head["label"].split(":", 1)[0]
        merged_at = _opt(raw, "merged_at", str)
        merged = raw.get("merged")
        return cls(
            number=_need(raw, "number", int, "pull request"),
            title=_need(raw, "title", str, "pull request"),
            body=_opt(raw, "body", str),
            state=_need(raw, "state", str, "pull request"),
            draft=bool(raw.get("draft")),
            # pull-request-simple (list results) has no `merged`; merged_at says the same thing.
            merged=merged if isinstance(merged, bool) else merged_at is not None,
            merged_at=merged_at,
            head_ref=_need(head, "ref", str, "pull request head"),
            head_sha=_opt(head, "sha", str),
            head_owner=head_owner,
            base_ref=_opt(base, "ref", str),
            html_url=_opt(raw, "html_url", str),
            node_id=_opt(raw, "node_id", str),
            raw=raw,
            mergeable=_opt(raw, "mergeable", bool),
            mergeable_state=_opt(raw, "mergeable_state", str),
            base_sha=_opt(base, "sha", str),
            updated_at=_opt(raw, "updated_at", str),
            user_login=_login(raw),
        )


@dataclass(frozen=True)
class Repository:
    id: int
    name: str
    full_name: str
    owner_login: str | None
    default_branch: str | None
    clone_url: str | None
    html_url: str | None
    private: bool
    archived: bool
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Any) -> Repository:
        raw = _require_object(raw, "repository")
        return cls(
            id=_need(raw, "id", int, "repository"),
            name=_need(raw, "name", str, "repository"),
            full_name=_need(raw, "full_name", str, "repository"),
            owner_login=_login(raw, "owner"),
            default_branch=_opt(raw, "default_branch", str),
            clone_url=_opt(raw, "clone_url", str),
            html_url=_opt(raw, "html_url", str),
            private=bool(raw.get("private")),
            archived=bool(raw.get("archived")),
            raw=raw,
        )


@dataclass(frozen=True)
class IssuesListing:
    """The result of one issues listing.

    ``etag`` is the first page's (what the next conditional request sends); ``not_modified`` is
    True when that first request got 304, and then ``items`` is empty. ``requests`` counts the
    HTTP requests made (pages), so callers and benchmarks can assert "an unchanged repo costs one".
    """

    items: tuple[Issue, ...]
    etag: str | None
    not_modified: bool
    requests: int


@dataclass(frozen=True)
class Listing(Generic[_T]):
    """Every item of a paginated listing, and how to ask again cheaply.

    ``etag`` is what the next conditional request sends: the page's ETag when the listing was
    one page, else None, because a 304 on page 1 says nothing about the pages after it (reviews
    and comments grow at the end). ``not_modified`` means the 304 came and ``items`` is empty.
    """

    items: tuple[_T, ...]
    etag: str | None
    not_modified: bool
    requests: int


@dataclass(frozen=True)
class CheckRunsListing(Listing["CheckRun"]):
    """Check runs of a commit; ``total_count`` is GitHub's count (0 when not modified)."""

    total_count: int = 0


@dataclass(frozen=True)
class Fetched(Generic[_T]):
    """One conditional read: ``value`` is None exactly when ``not_modified`` (a 304)."""

    value: _T | None
    etag: str | None
    not_modified: bool


@dataclass(frozen=True)
class User:
    """An account; from ``GET /user`` it is the token's own."""

    login: str
    id: int | None
    type: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def is_bot(self) -> bool:
        return is_bot_account(self.login, self.type)

    @classmethod
    def from_json(cls, raw: Any) -> User:
        raw = _require_object(raw, "user")
        return cls(
            login=_need(raw, "login", str, "user"),
            id=_opt(raw, "id", int),
            type=_opt(raw, "type", str),
            raw=raw,
        )


@dataclass(frozen=True)
class Review:
    """A pull-request review; ``state`` is ``APPROVED``, ``CHANGES_REQUESTED``, ``COMMENTED``,
    ``DISMISSED`` or ``PENDING``."""

    id: int
    state: str
    body: str
    user_login: str | None
    user_type: str | None
    author_association: str | None
    commit_id: str | None
    submitted_at: str | None
    html_url: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def is_bot(self) -> bool:
        return is_bot_account(self.user_login, self.user_type)

    @classmethod
    def from_json(cls, raw: Any) -> Review:
        raw = _require_object(raw, "review")
        return cls(
            id=_need(raw, "id", int, "review"),
            state=_need(raw, "state", str, "review"),
            body=_opt(raw, "body", str) or "",
            user_login=_login(raw),
            user_type=_user_type(raw),
            author_association=_opt(raw, "author_association", str),
            commit_id=_opt(raw, "commit_id", str),
            submitted_at=_opt(raw, "submitted_at", str),
            html_url=_opt(raw, "html_url", str),
            raw=raw,
        )


@dataclass(frozen=True)
class ReviewComment:
    """A comment on a line of a PR's diff; ``line`` is None once the line is outdated."""

    id: int
    review_id: int | None
    path: str
    line: int | None
    body: str
    user_login: str | None
    user_type: str | None
    author_association: str | None
    commit_id: str | None
    diff_hunk: str | None
    created_at: str | None
    updated_at: str | None
    html_url: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)
    # Where the comment was made; ``line``/``commit_id`` follow the PR's later commits.
    original_line: int | None = None
    original_commit_id: str | None = None

    @property
    def is_bot(self) -> bool:
        return is_bot_account(self.user_login, self.user_type)

    @property
    def outdated(self) -> bool:
        """The PR's later commits changed the commented line (GitHub then sends no ``line``)."""
        return self.line is None

    @classmethod
    def from_json(cls, raw: Any) -> ReviewComment:
        raw = _require_object(raw, "review comment")
        return cls(
            id=_need(raw, "id", int, "review comment"),
            review_id=_opt(raw, "pull_request_review_id", int),
            path=_need(raw, "path", str, "review comment"),
            line=_opt(raw, "line", int),
            body=_opt(raw, "body", str) or "",
            user_login=_login(raw),
            user_type=_user_type(raw),
            author_association=_opt(raw, "author_association", str),
            commit_id=_opt(raw, "commit_id", str),
            diff_hunk=_opt(raw, "diff_hunk", str),
            created_at=_opt(raw, "created_at", str),
            updated_at=_opt(raw, "updated_at", str),
            html_url=_opt(raw, "html_url", str),
            raw=raw,
            original_line=_opt(raw, "original_line", int),
            original_commit_id=_opt(raw, "original_commit_id", str),
        )


@dataclass(frozen=True)
class CheckRun:
    """A check run; ``conclusion`` is None until ``status`` is ``completed``."""

    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    title: str | None
    summary: str | None
    text: str | None
    html_url: str | None
    details_url: str | None
    started_at: str | None
    completed_at: str | None
    app_slug: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Any) -> CheckRun:
        raw = _require_object(raw, "check run")
        output = raw.get("output") if isinstance(raw.get("output"), Mapping) else {}
        app = raw.get("app") if isinstance(raw.get("app"), Mapping) else {}
        return cls(
            id=_need(raw, "id", int, "check run"),
            name=_need(raw, "name", str, "check run"),
            head_sha=_need(raw, "head_sha", str, "check run"),
            status=_need(raw, "status", str, "check run"),
            conclusion=_opt(raw, "conclusion", str),
            title=_opt(output, "title", str),
            summary=_opt(output, "summary", str),
            text=_opt(output, "text", str),
            html_url=_opt(raw, "html_url", str),
            details_url=_opt(raw, "details_url", str),
            started_at=_opt(raw, "started_at", str),
            completed_at=_opt(raw, "completed_at", str),
            app_slug=_opt(app, "slug", str),
            raw=raw,
        )


@dataclass(frozen=True)
class CommitStatus:
    """One context's latest status: ``error``, ``failure``, ``pending`` or ``success``."""

    id: int
    state: str
    context: str
    description: str | None
    target_url: str | None
    created_at: str | None
    updated_at: str | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Any) -> CommitStatus:
        raw = _require_object(raw, "commit status")
        return cls(
            id=_need(raw, "id", int, "commit status"),
            state=_need(raw, "state", str, "commit status"),
            context=_need(raw, "context", str, "commit status"),
            description=_opt(raw, "description", str),
            target_url=_opt(raw, "target_url", str),
            created_at=_opt(raw, "created_at", str),
            updated_at=_opt(raw, "updated_at", str),
            raw=raw,
        )


@dataclass(frozen=True)
class CombinedStatus:
    """A commit's combined status: ``state`` is ``failure``, ``pending`` or ``success`` over the
    latest status of each context (``statuses``, every page of them)."""

    state: str
    sha: str
    total_count: int
    statuses: tuple[CommitStatus, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, raw: Any, statuses: list[Any] | None = None) -> CombinedStatus:
        """``statuses`` overrides the first page's list (the client gathers all pages)."""
        raw = _require_object(raw, "combined status")
        items = statuses if statuses is not None else raw.get("statuses") or []
        return cls(
            state=_need(raw, "state", str, "combined status"),
            sha=_need(raw, "sha", str, "combined status"),
            total_count=_need(raw, "total_count", int, "combined status"),
            statuses=tuple(CommitStatus.from_json(s) for s in items),
            raw=raw,
        )
