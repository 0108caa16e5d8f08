"""Typed results of the GitHub client: small frozen dataclasses, each keeping GitHub's raw dict.

Only the fields ghw uses are typed; anything else stays reachable through ``raw``. A missing
required field (or one of the wrong type) raises :class:`MalformedResponseError` at the boundary,
so the phases never see half-shaped data. Optional fields tolerate absence, because GitHub's
shapes vary by endpoint (``pull-request-simple`` lacks ``merged``) and by GHES version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from ghw.github.errors import MalformedResponseError

__all__ = [
    "Comment",
    "GitHubResponse",
    "Issue",
    "IssuesListing",
    "PullRequest",
    "RateLimitWait",
    "Repository",
]

T = TypeVar("T")


def _need(raw: Mapping[str, Any], key: str, kind: type[T] | tuple[type, ...], what: str) -> T:
    value = raw.get(key) if isinstance(raw, Mapping) else None
    # bool is an int subclass; a number field holding True is a shape error, not a number.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedResponseError(f"{what}: field {key!r} missing or not {_kind_name(kind)}")
    return value  # type: ignore[return-value]


def _opt(raw: Mapping[str, Any], key: str, kind: type[T] | tuple[type, ...]) -> T | None:
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
