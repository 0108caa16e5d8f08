"""The pure fold: events -> read model. No I/O, no clock, no config.

``apply`` looks the (state, event type) pair up in :data:`ghw.machine.table.LOOKUP` — a dict, not a
state-machine object per issue — picks the rule whose guard holds, then calls the event type's
applier (:data:`APPLIERS`, one function per type) for its effects, and returns a new view. Anything
the table does not allow raises :class:`~ghw.errors.IllegalTransitionError`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ghw.errors import IllegalTransitionError
from ghw.machine import events as ev
from ghw.machine.states import FAILED, NEW, RUNNING, START_OF_FAILED, STEP_OF_RUNNING, State
from ghw.machine.table import LOOKUP, REMEMBERED, SAME, START, STEP_START
from ghw.machine.view import IssueView, parse_issue_stream

__all__ = [
    "APPLIERS",
    "Applier",
    "CycleView",
    "EventRecord",
    "LoopView",
    "RepoView",
    "apply",
    "apply_cycle",
    "apply_loop",
    "apply_repo",
    "fold",
    "next_state",
    "stream_kind",
]


class EventRecord(Protocol):
    stream_id: str
    type: str
    payload: Mapping[str, Any]
    seq: int
    version: int
    ts: str


def stream_kind(stream_id: str) -> str:
    """``issue`` (o/r#N), ``cycle`` (cycle:ID), ``loop`` or ``repo`` (o/r)."""
    if stream_id.startswith("cycle:"):
        return "cycle"
    if stream_id == "loop":
        return "loop"
    if "#" in stream_id:
        return "issue"
    return "repo"


def _condition(name: str, payload: Mapping[str, Any], view: IssueView | None) -> bool:
    if name == "eligible":
        return bool(payload.get("eligible", True))
    if name == "has_pr":
        return view is not None and view.pr_number is not None
    if name == "actionable":
        return bool(payload.get("actionable"))
    if name == "feedback_waiting":
        return view is not None and bool(view.feedback_waiting)
    if name == "exhausted":
        if payload.get("reason") != "expired" or view is None:
            return False
        return view.attempts + 1 >= int(payload.get("max_attempts", 3))
    raise KeyError(name)


def next_state(view: IssueView | None, event_type: str, payload: Mapping[str, Any]) -> str:
    """The state ``event_type`` leads to from ``view``, or IllegalTransitionError."""
    state = view.state if view is not None else NEW
    rules = LOOKUP.get((state, event_type))
    stream = view.stream_id if view is not None else "(new stream)"
    if not rules:
        raise IllegalTransitionError(stream, state, event_type)
    for rule in rules:
        if rule.condition is None or _condition(rule.condition, payload, view) != rule.negate:
            break
    else:
        raise IllegalTransitionError(stream, state, event_type, "no guard holds")
    dest = rule.dest
    if dest == SAME:
        return state
    if dest == START:
        assert view is not None
        return view.claimed_from or START_OF_FAILED[STEP_OF_RUNNING[state][1]]
    if dest == "=failed_of_step":
        return STEP_OF_RUNNING[state][1]
    if dest == STEP_START:
        return START_OF_FAILED[state]
    if dest == REMEMBERED:
        assert view is not None
        remembered = view.held_from or State.SYNCED
        if event_type == "RetryRequested" and remembered in FAILED:
            return START_OF_FAILED[remembered]
        return remembered
    return dest


def _account(view: IssueView, p: Mapping[str, Any]) -> None:
    view.cost_usd = round(view.cost_usd + float(p.get("cost_usd") or 0.0), 6)
    view.input_tokens += int(p.get("input_tokens") or 0)
    view.output_tokens += int(p.get("output_tokens") or 0)
    if p.get("agent"):
        view.agent = p["agent"]


# --- one applier per issue event type -----------------------------------------------------------
#
# An applier makes one event's effects on the view. ``apply`` has already checked the transition
# against the table and set the new state (``new.state``) and the bookkeeping fields; ``before`` is
# the state the event found. Until the applier changes them, ``new``'s other fields are the old
# view's.

Applier = Callable[[IssueView, EventRecord, str], None]

APPLIERS: dict[str, Applier] = {}


def _applies(*classes: type[ev.Event]) -> Callable[[Applier], Applier]:
    def register(func: Applier) -> Applier:
        for cls in classes:
            assert cls.TYPE not in APPLIERS, cls.TYPE
            APPLIERS[cls.TYPE] = func
        return func

    return register


def _issue_facts(new: IssueView, p: Mapping[str, Any]) -> None:
    new.title = p.get("title", new.title)
    new.labels = list(p.get("labels", new.labels))
    new.author = p.get("author") or new.author
    new.association = p.get("association") or new.association
    new.gh_updated_at = p.get("updated_at") or new.gh_updated_at
    new.content_hash = p.get("content_hash") or new.content_hash


def _decision_facts(new: IssueView, p: Mapping[str, Any]) -> None:
    # the facts the decision was made from (recorded since issue 13; None on older events)
    if p.get("association") is not None:
        new.association = p["association"]
    if p.get("labels") is not None:
        new.labels = list(p["labels"])


def _eligibility(new: IssueView, p: Mapping[str, Any], *, keeps_going: bool) -> None:
    new.eligible = bool(p.get("eligible", True))
    new.skip_reason = "" if new.eligible else str(p.get("reason", ""))
    if keeps_going:
        # the issue is past planning (or paused): keep going, but say so
        new.changed_since_plan = True
    elif new.state in (State.SYNCED, State.SKIPPED):
        new.changed_since_plan = False
        new.attempts = 0
        new.next_retry_at = None
        new.last_error = None
        new.last_error_kind = None


@_applies(ev.IssueSynced)
def _issue_synced(new: IssueView, event: EventRecord, before: str) -> None:
    p = event.payload
    _issue_facts(new, p)
    new.html_url = p.get("html_url") or ""
    new.gh_created_at = p.get("created_at") or ""
    _eligibility(new, p, keeps_going=False)


@_applies(ev.IssueChanged)
def _issue_changed(new: IssueView, event: EventRecord, before: str) -> None:
    _issue_facts(new, event.payload)
    _eligibility(new, event.payload, keeps_going=new.state == before)


@_applies(ev.EligibilityChanged)
def _eligibility_changed(new: IssueView, event: EventRecord, before: str) -> None:
    _decision_facts(new, event.payload)
    _eligibility(new, event.payload, keeps_going=new.state == before)


@_applies(ev.IssueReopened)
def _issue_reopened(new: IssueView, event: EventRecord, before: str) -> None:
    # (gh_updated_at is not taken from a reopen: the fold never has, and projections must match)
    _decision_facts(new, event.payload)
    _eligibility(new, event.payload, keeps_going=False)


@_applies(ev.IssueClosed)
def _issue_closed(new: IssueView, event: EventRecord, before: str) -> None:
    new.gh_updated_at = event.payload.get("updated_at") or new.gh_updated_at
    new.next_retry_at = None
    if before in RUNNING:
        new.claimed_from = None


@_applies(ev.ImplementStarted, ev.ReviewStarted, ev.RevisionStarted)
def _started(new: IssueView, event: EventRecord, before: str) -> None:
    new.claimed_from = before
    new.next_retry_at = None
    agent = event.payload.get("agent")
    if agent:
        new.agent = agent


@_applies(ev.PlanStarted)
def _plan_started(new: IssueView, event: EventRecord, before: str) -> None:
    _started(new, event, before)
    new.changed_since_plan = False  # the plan about to be made is of the issue as it is now


def _completed(new: IssueView, p: Mapping[str, Any]) -> None:
    _account(new, p)
    new.attempts = 0
    new.claimed_from = None
    new.last_error = None
    new.last_error_kind = None


@_applies(ev.PlanCompleted)
def _plan_completed(new: IssueView, event: EventRecord, before: str) -> None:
    _completed(new, event.payload)
    new.plan_seq = event.seq


@_applies(ev.ImplementCompleted)
def _implement_completed(new: IssueView, event: EventRecord, before: str) -> None:
    p = event.payload
    _completed(new, p)
    new.pr_number = int(p["pr_number"])
    new.pr_url = p.get("pr_url") or new.pr_url


@_applies(ev.ReviewCompleted)
def _review_completed(new: IssueView, event: EventRecord, before: str) -> None:
    _completed(new, event.payload)
    new.verdict = event.payload.get("verdict")


@_applies(ev.PlanFailed, ev.ImplementFailed, ev.ReviewFailed, ev.RevisionFailed)
def _failed(new: IssueView, event: EventRecord, before: str) -> None:
    p = event.payload
    _account(new, p)
    new.attempts += 1
    new.claimed_from = None
    new.last_error = p.get("error")
    new.last_error_kind = p.get("error_kind") or p.get("kind")
    new.next_retry_at = p.get("next_retry_at")


@_applies(ev.PlanInvalidated)
def _plan_invalidated(new: IssueView, event: EventRecord, before: str) -> None:
    new.changed_since_plan = False
    new.plan_seq = None


@_applies(ev.PullRequestOpened, ev.PullRequestAdopted)
def _pull_request(new: IssueView, event: EventRecord, before: str) -> None:
    new.pr_number = int(event.payload["number"])
    new.pr_url = event.payload.get("url") or None
    new.pr_opened_ts = event.ts
    new.rounds = 0
    new.rounds_base = 0
    new.feedback_waiting = []
    new.pr_seen_updated_at = ""
    new.pr_head_sha = ""
    new.ci = ""


# --- follow-up (§12) ----------------------------------------------------------------------------


def _feedback_id(p: Mapping[str, Any]) -> str:
    return f"{p.get('source', '')}:{p.get('github_id', '')}"


@_applies(ev.FeedbackReceived)
def _feedback_received(new: IssueView, event: EventRecord, before: str) -> None:
    p = event.payload
    if not p.get("actionable"):
        new.feedback_ignored += 1
        return
    fid = _feedback_id(p)
    if fid not in new.feedback_waiting:
        new.feedback_waiting = [*new.feedback_waiting, fid]


@_applies(ev.PullRequestWatched)
def _pull_request_watched(new: IssueView, event: EventRecord, before: str) -> None:
    p = event.payload
    new.pr_seen_updated_at = p.get("updated_at") or new.pr_seen_updated_at
    new.pr_head_sha = p.get("head_sha") or new.pr_head_sha
    new.ci = p.get("ci", new.ci) or ""


@_applies(ev.RevisionCompleted)
def _revision_completed(new: IssueView, event: EventRecord, before: str) -> None:
    p = event.payload
    _completed(new, p)
    addressed = set(p.get("addressed") or ())
    new.feedback_waiting = [f for f in new.feedback_waiting if f not in addressed]
    new.feedback_handled += len(addressed)
    new.rounds = int(p.get("round") or new.rounds + 1)
    new.pr_head_sha = p.get("head_sha") or new.pr_head_sha
    new.ci = ""  # a new head: its CI is read afresh
    new.verdict = None  # the review of the new head decides again
    # ghw just pushed and replied: the next sync looks at the PR whole, even if GitHub's
    # updated_at (whole seconds) did not move past the last look's
    new.pr_seen_updated_at = ""


@_applies(ev.PullRequestMerged)
def _pull_request_merged(new: IssueView, event: EventRecord, before: str) -> None:
    p = event.payload
    new.pr_merged_at = p.get("merged_at") or event.ts
    new.feedback_waiting = []
    new.claimed_from = None
    new.held_from = None
    new.held_reason = None
    new.next_retry_at = None


@_applies(ev.BranchPushed, ev.PullRequestRequested, ev.CommentRequested, ev.CommentPosted)
def _recorded_only(new: IssueView, event: EventRecord, before: str) -> None:
    """Effects recorded for reconciliation: nothing in the view changes."""


@_applies(ev.LeaseExpired)
def _lease_expired(new: IssueView, event: EventRecord, before: str) -> None:
    p = event.payload
    exhausted = _condition("exhausted", p, new)  # (new still holds the old attempts)
    if p.get("reason") == "expired":
        new.attempts += 1
        new.last_error = f"lease expired ({STEP_OF_RUNNING[before][0]} step)"
        if exhausted:
            new.last_error += (
                f"; attempts exhausted ({new.attempts}/{p.get('max_attempts', 3)}): "
                "waits for `ghw retry`"
            )
        new.last_error_kind = "expired"
    new.claimed_from = None
    if exhausted:
        new.next_retry_at = None
    else:
        # An end that counts no attempt leaves the issue as retryable as before its claim:
        # a retry claimed from a failed state was ready, so it is ready again. Events from
        # before ghw wrote that time into the payload get the event's own time.
        new.next_retry_at = p.get("next_retry_at")
        if new.next_retry_at is None and new.state in FAILED and p.get("reason") != "expired":
            new.next_retry_at = event.ts


@_applies(ev.Held)
def _held(new: IssueView, event: EventRecord, before: str) -> None:
    new.held_from = (new.claimed_from if before in RUNNING else None) or before
    new.held_reason = event.payload.get("reason")
    new.claimed_from = None


@_applies(ev.Released)
def _released(new: IssueView, event: EventRecord, before: str) -> None:
    if (new.held_reason or "").startswith("max_rounds"):
        new.rounds_base = new.rounds  # a person lifted the cap: count rounds from here
    new.held_from = None
    new.held_reason = None


@_applies(ev.RetryRequested)
def _retry_requested(new: IssueView, event: EventRecord, before: str) -> None:
    if (new.held_reason or "").startswith("max_rounds"):
        new.rounds_base = new.rounds  # a person lifted the cap: count rounds from here
    new.attempts = 0
    new.next_retry_at = None
    new.last_error = None
    new.last_error_kind = None
    if before == State.HELD and new.held_reason in ("pr_closed", "pr_merged"):
        # the old PR is gone for good: work on a fresh branch ghw/issue-N-<k>
        new.branch_gen += 1
        new.pr_number = None
        new.pr_url = None
    new.held_from = None
    new.held_reason = None


def apply(view: IssueView | None, event: EventRecord, *, in_place: bool = False) -> IssueView:
    """One step of the fold: the table decides the state, the type's applier the rest. Returns
    a new view and leaves ``view`` alone, unless ``in_place`` (for callers that own the view,
    like replay, where copying would dominate the cost)."""
    etype = event.type
    dest = next_state(view, etype, event.payload)
    if view is None:
        repo, number = parse_issue_stream(event.stream_id)
        new = IssueView(stream_id=event.stream_id, repo=repo, number=number, state=dest)
        before = NEW
    else:
        new = view if in_place else view.clone()
        before = view.state
    new.state = dest
    new.version = event.version
    new.last_seq = event.seq
    new.updated_ts = event.ts
    APPLIERS[etype](new, event, before)
    return new


def fold(events: Iterable[EventRecord], view: IssueView | None = None) -> IssueView | None:
    for event in events:
        view = apply(view, event)
    return view


# --- repository, cycle and loop streams ------------------------------------------------------


@dataclass(slots=True)
class RepoView:
    stream_id: str
    version: int = 0
    registered: bool = False
    cursor: str | None = None
    etag: str | None = None
    last_sync: str | None = None
    rate_wait_until: str | None = None
    last_seq: int = 0


def apply_repo(view: RepoView | None, event: EventRecord) -> RepoView:
    p = event.payload
    new = copy.copy(view) if view is not None else RepoView(stream_id=event.stream_id)
    if event.type == "RepositoryAdded":
        if new.registered:
            raise IllegalTransitionError(event.stream_id, "registered", event.type)
        new.registered = True
    elif event.type == "RepositoryRemoved":
        if not new.registered:
            raise IllegalTransitionError(event.stream_id, "not registered", event.type)
        new.registered = False
    elif event.type == "RepositorySynced":
        new.cursor = p.get("cursor") or new.cursor
        new.etag = p.get("etag")
        new.last_sync = event.ts
    elif event.type == "RateLimitWait":
        new.rate_wait_until = p.get("until")
    else:
        raise IllegalTransitionError(event.stream_id, "repository", event.type)
    new.version = event.version
    new.last_seq = event.seq
    return new


@dataclass(slots=True)
class CycleView:
    stream_id: str
    version: int = 0
    number: int | None = None
    started: str | None = None
    ended: str | None = None
    ok: bool | None = None
    counts: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    cost_usd: float = 0.0
    last_seq: int = 0
    interrupted: bool = False
    # the process that ran the cycle ({host, pid, start}), so `status` can tell a cycle still
    # running from one whose process died before CycleCompleted
    holder: dict[str, Any] = field(default_factory=dict)


def _cycle_holder(event: EventRecord) -> dict[str, Any]:
    holder = event.payload.get("holder")
    if isinstance(holder, dict) and holder:
        return dict(holder)
    actor = getattr(event, "actor", None) or {}  # cycles recorded before CycleStarted.holder
    return {"host": actor.get("host"), "pid": actor.get("pid"), "start": None} if actor else {}


def apply_cycle(view: CycleView | None, event: EventRecord) -> CycleView:
    p = event.payload
    if event.type == "CycleStarted" and view is None:
        new = CycleView(
            stream_id=event.stream_id,
            number=p.get("number"),
            started=event.ts,
            holder=_cycle_holder(event),
        )
    elif event.type == "CycleCompleted" and view is not None and view.ended is None:
        new = copy.copy(view)
        new.ended = event.ts
        new.ok = bool(p.get("ok"))
        new.counts = dict(p.get("counts") or {})
        new.errors = list(p.get("errors") or [])
        new.cost_usd = float(p.get("cost_usd") or 0.0)
        new.interrupted = bool(p.get("interrupted"))
    else:
        state = "new" if view is None else ("ended" if view.ended else "started")
        raise IllegalTransitionError(event.stream_id, state, event.type)
    new.version = event.version
    new.last_seq = event.seq
    return new


@dataclass(slots=True)
class LoopView:
    stream_id: str = "loop"
    version: int = 0
    held: bool = False
    reason: str = ""
    since: str | None = None
    last_seq: int = 0


def apply_loop(view: LoopView | None, event: EventRecord) -> LoopView:
    new = copy.copy(view) if view is not None else LoopView()
    if event.type == "LoopHeld" and not new.held:
        new.held = True
        new.reason = str(event.payload.get("reason", ""))
        new.since = event.ts
    elif event.type == "LoopReleased" and new.held:
        new.held = False
        new.reason = ""
        new.since = None
    else:
        raise IllegalTransitionError("loop", "held" if new.held else "running", event.type)
    new.version = event.version
    new.last_seq = event.seq
    return new
