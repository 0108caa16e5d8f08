"""What an issue's history says that its view does not keep: pure reads over its events, in
version order, like the fold (no I/O). The steps read the issue body, the plan and a push made
before a crash from here instead of scanning payload dicts by hand (ADR 0061).
"""

from __future__ import annotations

from collections.abc import Iterable

from ghw.machine import events as ev
from ghw.machine.fold import EventRecord

__all__ = [
    "feedback_items",
    "issue_body",
    "plan_text",
    "pushed_since_failure",
    "revision_pushed",
    "typed",
]


def typed(event: EventRecord) -> ev.Event:
    """A stored event as its class. Not validated (see ``event_from_payload`` for that): a
    payload is only read back in the shape it was written."""
    return ev.EVENT_TYPES[event.type](**event.payload)


_BODY = frozenset({ev.IssueSynced.TYPE, ev.IssueChanged.TYPE})
# a push is no longer "the push of this attempt" after any of these
_PUSH_RESETS = frozenset(
    cls.TYPE
    for cls in (ev.ImplementFailed, ev.RetryRequested, ev.PlanCompleted, ev.ImplementCompleted)
)


def issue_body(history: Iterable[EventRecord]) -> str:
    """The body the issue had when last synced or changed."""
    latest = ""
    for event in history:
        if event.type in _BODY:
            issue = typed(event)
            assert isinstance(issue, ev.IssueSynced | ev.IssueChanged)
            latest = issue.body
    return str(latest)


def plan_text(history: Iterable[EventRecord], plan_seq: int | None) -> str | None:
    """The text of the plan at ``plan_seq`` (the view's current plan), or None."""
    if plan_seq is None:
        return None
    for event in history:
        if event.seq == plan_seq:
            return str(event.payload.get("text", ""))
    return None


def pushed_since_failure(history: Iterable[EventRecord], branch: str) -> str | None:
    """The sha of a BranchPushed of ``branch`` since the step last failed (or was reset)."""
    sha = None
    for event in history:
        if event.type in _PUSH_RESETS:
            sha = None
        elif event.type == ev.BranchPushed.TYPE:
            pushed = typed(event)
            assert isinstance(pushed, ev.BranchPushed)
            if pushed.branch == branch:
                sha = pushed.sha or "pushed"
    return sha


# a push is no longer "this round's push" once the round ended (or a new PR began)
_ROUND_RESETS = frozenset(
    cls.TYPE
    for cls in (
        ev.RevisionCompleted,
        ev.RetryRequested,
        ev.ImplementCompleted,
        ev.PullRequestOpened,
        ev.PullRequestAdopted,
    )
)


def revision_pushed(history: Iterable[EventRecord], branch: str) -> str | None:
    """The sha this revision round already pushed to ``branch`` (a crashed or failed attempt
    of the round got that far), or None. A failed round keeps its push: the retry replies."""
    sha = None
    for event in history:
        if event.type in _ROUND_RESETS:
            sha = None
        elif event.type == ev.RevisionStarted.TYPE:
            continue
        elif event.type == ev.BranchPushed.TYPE:
            pushed = typed(event)
            assert isinstance(pushed, ev.BranchPushed)
            if pushed.branch == branch:
                sha = pushed.sha or "pushed"
    return sha


def feedback_items(history: Iterable[EventRecord], ids: Iterable[str]) -> list[ev.FeedbackReceived]:
    """The recorded feedback with these ids (``source:github_id``), in the order recorded."""
    wanted = set(ids)
    out: list[ev.FeedbackReceived] = []
    for event in history:
        if event.type != ev.FeedbackReceived.TYPE:
            continue
        item = typed(event)
        assert isinstance(item, ev.FeedbackReceived)
        if item.feedback_id in wanted:
            out.append(item)
    return out
