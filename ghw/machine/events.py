"""Event types: one small dataclass per type, documented once (§2).

An event class *is* its payload schema, and the home of its type: defining a subclass of
:class:`Event` with a ``TYPE`` registers it in :data:`EVENT_TYPES` (no second list), and domain
flags live on the class (``LEASED``: only the lease holder may append it to a running issue). Its
effect on the issue view is its applier in :mod:`ghw.machine.fold`, its history line its renderer
in :mod:`ghw.cli.render` (ADR 0061). ``SCHEMA_VERSION`` is stored with every event; older
payloads are upcast on read (see :mod:`ghw.machine.upcast`). Values that depend on configuration or
on the moment (eligibility, the next retry time, the agent and model used) are fields here, so the
fold never reads today's config or clock.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, get_type_hints

__all__ = [
    "EVENT_TYPES",
    "FEEDBACK_SOURCES",
    "LEASED_TYPES",
    "BranchPushed",
    "CommentPosted",
    "CommentRequested",
    "CycleCompleted",
    "CycleStarted",
    "EligibilityChanged",
    "Event",
    "FeedbackReceived",
    "Held",
    "ImplementCompleted",
    "ImplementFailed",
    "ImplementStarted",
    "IssueChanged",
    "IssueClosed",
    "IssueReopened",
    "IssueSynced",
    "LeaseExpired",
    "LoopHeld",
    "LoopReleased",
    "PayloadError",
    "PlanCompleted",
    "PlanFailed",
    "PlanInvalidated",
    "PlanStarted",
    "PullRequestAdopted",
    "PullRequestMerged",
    "PullRequestOpened",
    "PullRequestRequested",
    "PullRequestWatched",
    "RateLimitWait",
    "Released",
    "RepositoryAdded",
    "RepositoryRemoved",
    "RepositorySynced",
    "RetryRequested",
    "ReviewCompleted",
    "ReviewFailed",
    "ReviewStarted",
    "RevisionCompleted",
    "RevisionFailed",
    "RevisionStarted",
    "event_from_payload",
]


class PayloadError(ValueError):
    """A payload does not match its event type's schema."""


_REGISTRY: dict[str, type[Event]] = {}

# type name -> event class, filled as the classes below are defined (read-only outside)
EVENT_TYPES: typing.Mapping[str, type[Event]] = types.MappingProxyType(_REGISTRY)


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all event payloads. A subclass that sets its own ``TYPE`` is an event type and is
    registered in :data:`EVENT_TYPES`; one without (``_Started``, ``_AgentRun``, ``_Failed``) only
    shares fields."""

    TYPE: ClassVar[str] = ""
    SCHEMA_VERSION: ClassVar[int] = 1
    # Only the lease holder (a fenced append) may append it while the issue runs a step.
    LEASED: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("TYPE")
        if not name:
            return
        if name in _REGISTRY:
            raise TypeError(f"event type {name!r} is defined twice")
        _REGISTRY[name] = cls

    def payload(self) -> dict[str, Any]:
        # a shallow copy: JSON writes tuples as arrays, and the fold copies what it keeps
        return dict(self.__dict__)


# --- issue lifecycle (from sync) -------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class IssueSynced(Event):
    """First sight of an issue. ``eligible``/``reason`` are the §4.2 decision made by sync."""

    TYPE: ClassVar[str] = "IssueSynced"
    repo: str
    number: int
    title: str
    body: str = ""
    labels: list[str] = field(default_factory=list)
    author: str = ""
    association: str = ""
    gh_state: str = "open"
    created_at: str | None = None
    updated_at: str | None = None
    html_url: str | None = None
    content_hash: str = ""
    eligible: bool
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class IssueChanged(Event):
    """Title, body or labels changed on GitHub (content hash differs)."""

    TYPE: ClassVar[str] = "IssueChanged"
    title: str
    body: str = ""
    labels: list[str] = field(default_factory=list)
    author: str = ""
    association: str = ""
    updated_at: str | None = None
    content_hash: str = ""
    changed: list[str] = field(default_factory=list)
    eligible: bool
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class EligibilityChanged(Event):
    """Eligibility decided again, without an edit of the issue: the policy changed, or the
    author's association did. ``association`` and ``labels`` are the facts the decision was made
    from, so a later re-check starts from them (None in events written before they were kept)."""

    TYPE: ClassVar[str] = "EligibilityChanged"
    eligible: bool
    reason: str = ""
    association: str | None = None
    labels: list[str] | None = None


@dataclass(frozen=True, kw_only=True)
class IssueClosed(Event):
    TYPE: ClassVar[str] = "IssueClosed"
    closed_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class IssueReopened(Event):
    """Reopened on GitHub; eligibility is decided again (an untrusted issue stays skipped), from
    ``association`` and ``labels`` as listed then (None in events written before they were kept)."""

    TYPE: ClassVar[str] = "IssueReopened"
    updated_at: str | None = None
    eligible: bool = True
    reason: str = ""
    association: str | None = None
    labels: list[str] | None = None


# --- steps ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Started(Event):
    agent: str = ""
    model: str | None = None
    holder: dict[str, Any] = field(default_factory=dict)
    attempt: int = 1
    max_attempts: int = 3


@dataclass(frozen=True, kw_only=True)
class PlanStarted(_Started):
    TYPE: ClassVar[str] = "PlanStarted"


@dataclass(frozen=True, kw_only=True)
class ImplementStarted(_Started):
    TYPE: ClassVar[str] = "ImplementStarted"
    branch: str = ""


@dataclass(frozen=True, kw_only=True)
class ReviewStarted(_Started):
    TYPE: ClassVar[str] = "ReviewStarted"


@dataclass(frozen=True, kw_only=True)
class _AgentRun(Event):
    """What one agent run cost and where its transcript is: a step's end (Completed or Failed),
    which only its lease holder may append."""

    LEASED: ClassVar[bool] = True
    agent: str = ""
    model: str | None = None
    session_id: str | None = None
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    turns: int = 0
    duration_s: float = 0.0
    transcript: str | None = None
    transcript_sha256: str | None = None


@dataclass(frozen=True, kw_only=True)
class PlanCompleted(_AgentRun):
    TYPE: ClassVar[str] = "PlanCompleted"
    text: str
    discarded_changes: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ImplementCompleted(_AgentRun):
    """Only legal after PullRequestOpened or PullRequestAdopted in the same step."""

    TYPE: ClassVar[str] = "ImplementCompleted"
    text: str = ""
    pr_number: int
    pr_url: str = ""
    branch: str = ""


@dataclass(frozen=True, kw_only=True)
class ReviewCompleted(_AgentRun):
    TYPE: ClassVar[str] = "ReviewCompleted"
    verdict: str
    text: str
    pr_number: int | None = None
    comment_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class _Failed(_AgentRun):
    """``next_retry_at`` is None when the failure is permanent or attempts are exhausted."""

    error: str
    kind: str = "transient"  # transient | permanent
    error_kind: str = ""
    attempt: int = 1
    max_attempts: int = 3
    next_retry_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class PlanFailed(_Failed):
    TYPE: ClassVar[str] = "PlanFailed"


@dataclass(frozen=True, kw_only=True)
class ImplementFailed(_Failed):
    TYPE: ClassVar[str] = "ImplementFailed"


@dataclass(frozen=True, kw_only=True)
class ReviewFailed(_Failed):
    TYPE: ClassVar[str] = "ReviewFailed"


# --- follow-up on the pull request (§12) -------------------------------------------------------


FEEDBACK_SOURCES = ("self_review", "review", "review_comment", "comment", "ci", "conflict")


@dataclass(frozen=True, kw_only=True)
class FeedbackReceived(Event):
    """One GitHub item about the issue's PR (a review, a comment, a failing check, a conflict),
    appended once per (``source``, ``github_id``): the ledger refuses a second. Whether it is
    acted on was decided when it was recorded, from the facts written beside it (``actionable``;
    ``reason`` says why not), so the fold never reads today's configuration."""

    TYPE: ClassVar[str] = "FeedbackReceived"
    source: str  # self_review | review | review_comment | comment | ci | conflict
    github_id: str
    author: str = ""
    association: str = ""
    author_type: str = ""
    head_sha: str = ""
    url: str = ""
    summary: str = ""
    body: str = ""  # the text the revision prompt quotes (trusted authors only; else empty)
    body_sha256: str = ""
    actionable: bool = False
    reason: str = ""  # why it is not acted on (untrusted, bot, ghw itself, pending CI, …)

    @property
    def feedback_id(self) -> str:
        return f"{self.source}:{self.github_id}"


@dataclass(frozen=True, kw_only=True)
class RevisionStarted(_Started):
    TYPE: ClassVar[str] = "RevisionStarted"
    branch: str = ""
    round: int = 1


@dataclass(frozen=True, kw_only=True)
class RevisionCompleted(_AgentRun):
    """A round pushed to the PR's branch and replied on the PR: review runs again."""

    TYPE: ClassVar[str] = "RevisionCompleted"
    round: int
    head_sha: str = ""
    addressed: list[str] = field(default_factory=list)  # feedback ids (source:github_id)
    text: str = ""
    pr_number: int | None = None
    comment_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class RevisionFailed(_Failed):
    TYPE: ClassVar[str] = "RevisionFailed"


@dataclass(frozen=True, kw_only=True)
class PullRequestMerged(Event):
    """GitHub merged the issue's PR: the issue waits for GitHub to close it (``merged``)."""

    TYPE: ClassVar[str] = "PullRequestMerged"
    number: int
    merged_at: str = ""
    merged_by: str = ""
    head_sha: str = ""


@dataclass(frozen=True, kw_only=True)
class PullRequestWatched(Event):
    """What the last look at the PR saw (its ``updated_at``, head and CI), so the next sync reads
    it again only when it moved, and CI only while unsettled. Changes no state."""

    TYPE: ClassVar[str] = "PullRequestWatched"
    number: int
    updated_at: str = ""
    head_sha: str = ""
    ci: str = ""  # "" (none) | pending | success | failure | action_required
    mergeable_state: str = ""
    # what the look's conditional reads answered, so the next look can send If-None-Match after
    # a restart: read name -> ETag, "<read>.ci" -> that read's part of ``ci``, "sha" -> the
    # commit the CI reads were of (ghw.phases.watch)
    etags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PlanInvalidated(Event):
    """The plan went stale: the issue changed while it was being planned."""

    TYPE: ClassVar[str] = "PlanInvalidated"
    reason: str = "issue changed since plan"


@dataclass(frozen=True, kw_only=True)
class LeaseExpired(Event):
    """A running step lost its lease. Only ``expired`` counts an attempt.

    ``max_attempts`` and ``next_retry_at`` are decided by whoever appends it, so the fold can send
    an exhausted issue to the step's failed state without reading config.
    """

    TYPE: ClassVar[str] = "LeaseExpired"
    reason: str  # holder_dead | interrupted | expired
    holder: dict[str, Any] = field(default_factory=dict)
    phase: str = ""
    max_attempts: int = 3
    next_retry_at: str | None = None
    pgid: int | None = None
    leader_start: float | None = None


# --- operator controls ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Held(Event):
    TYPE: ClassVar[str] = "Held"
    reason: str
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class Released(Event):
    TYPE: ClassVar[str] = "Released"
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class RetryRequested(Event):
    TYPE: ClassVar[str] = "RetryRequested"
    by: str = ""


# --- effects that change no state (steps' side effects: the lease holder's) -------------------


@dataclass(frozen=True, kw_only=True)
class BranchPushed(Event):
    TYPE: ClassVar[str] = "BranchPushed"
    LEASED: ClassVar[bool] = True
    branch: str
    sha: str = ""


@dataclass(frozen=True, kw_only=True)
class PullRequestRequested(Event):
    """Intent, committed before the API call so a crash is reconciled by head branch."""

    TYPE: ClassVar[str] = "PullRequestRequested"
    LEASED: ClassVar[bool] = True
    key: str
    branch: str
    title: str = ""


@dataclass(frozen=True, kw_only=True)
class PullRequestOpened(Event):
    TYPE: ClassVar[str] = "PullRequestOpened"
    LEASED: ClassVar[bool] = True
    number: int
    url: str = ""
    branch: str = ""
    key: str = ""


@dataclass(frozen=True, kw_only=True)
class PullRequestAdopted(Event):
    TYPE: ClassVar[str] = "PullRequestAdopted"
    LEASED: ClassVar[bool] = True
    number: int
    url: str = ""
    branch: str = ""


@dataclass(frozen=True, kw_only=True)
class CommentRequested(Event):
    TYPE: ClassVar[str] = "CommentRequested"
    LEASED: ClassVar[bool] = True
    key: str
    pr_number: int


@dataclass(frozen=True, kw_only=True)
class CommentPosted(Event):
    TYPE: ClassVar[str] = "CommentPosted"
    LEASED: ClassVar[bool] = True
    key: str
    comment_id: int
    url: str = ""


# --- repository, cycle and loop streams -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RepositoryAdded(Event):
    TYPE: ClassVar[str] = "RepositoryAdded"
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class RepositoryRemoved(Event):
    TYPE: ClassVar[str] = "RepositoryRemoved"
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class RepositorySynced(Event):
    """Stored only by an unfiltered sync, so a filtered run never hides an update."""

    TYPE: ClassVar[str] = "RepositorySynced"
    cursor: str | None = None
    etag: str | None = None
    issues: int = 0
    requests: int = 0
    not_modified: bool = False


@dataclass(frozen=True, kw_only=True)
class RateLimitWait(Event):
    TYPE: ClassVar[str] = "RateLimitWait"
    until: str
    reason: str = ""
    path: str = ""


@dataclass(frozen=True, kw_only=True)
class CycleStarted(Event):
    TYPE: ClassVar[str] = "CycleStarted"
    number: int | None = None
    phases: list[str] = field(default_factory=list)
    filters: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    holder: dict[str, Any] = field(default_factory=dict)  # {host, pid, start} of the process


@dataclass(frozen=True, kw_only=True)
class CycleCompleted(Event):
    TYPE: ClassVar[str] = "CycleCompleted"
    ok: bool
    counts: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cost_usd: float = 0.0
    interrupted: bool = False


@dataclass(frozen=True, kw_only=True)
class LoopHeld(Event):
    TYPE: ClassVar[str] = "LoopHeld"
    reason: str = ""
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class LoopReleased(Event):
    TYPE: ClassVar[str] = "LoopReleased"
    by: str = ""


# Types only the lease holder may append to a running issue (derived from the classes).
LEASED_TYPES: frozenset[str] = frozenset(name for name, cls in EVENT_TYPES.items() if cls.LEASED)


@functools.cache
def _hints(type_name: str) -> dict[str, Any]:
    """Field name -> type of one event class, resolved on first use (resolving all 33 at import
    would cost every CLI call ~0.15 s)."""
    cls = EVENT_TYPES[type_name]
    resolved = get_type_hints(cls)
    return {f.name: resolved[f.name] for f in dataclasses.fields(cls)}


def _check_value(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_check_value(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        return isinstance(value, list | tuple)
    if origin is dict:
        return isinstance(value, dict)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def event_from_payload(type_name: str, payload: typing.Mapping[str, Any]) -> Event:
    """Build (and so validate) a typed event from a stored or incoming payload."""
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise PayloadError(f"unknown event type {type_name!r}")
    hints = _hints(type_name)
    unknown = set(payload) - hints.keys()
    if unknown:
        raise PayloadError(f"{type_name}: unknown payload field(s) {sorted(unknown)}")
    for name, value in payload.items():
        if not _check_value(value, hints[name]):
            raise PayloadError(f"{type_name}.{name}: {value!r} is not {hints[name]}")
    try:
        return cls(**payload)
    except TypeError as exc:
        raise PayloadError(f"{type_name}: {exc}") from None
