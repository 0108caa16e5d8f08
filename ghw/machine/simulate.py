"""Random legal (and illegal) event sequences, for property tests, seeding and benchmarks.

Pure and deterministic for a given ``random.Random``: the same seed gives the same history.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ghw.machine import events as ev
from ghw.machine.fold import apply
from ghw.machine.states import NEW, RUNNING
from ghw.machine.table import LOOKUP
from ghw.machine.view import IssueView

__all__ = ["GENERATORS", "ISSUE_EVENT_TYPES", "legal_types", "make_event", "random_history"]

ISSUE_EVENT_TYPES: tuple[str, ...] = tuple(sorted({t for (_s, t) in LOOKUP}))

_AGENTS = ("claude-code", "codex", "scripted")


def _ts(rng: random.Random) -> str:
    base = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(0, 300 * 86400))
    return base.strftime("%Y-%m-%dT%H:%M:%SZ")


def _run_fields(rng: random.Random) -> dict[str, Any]:
    return {
        "agent": rng.choice(_AGENTS),
        "session_id": f"s-{rng.randrange(10**9):09d}",
        "cost_usd": round(rng.random() * 0.5, 4),
        "input_tokens": rng.randrange(0, 50000),
        "output_tokens": rng.randrange(0, 5000),
        "turns": rng.randrange(1, 20),
        "duration_s": round(rng.random() * 120, 2),
    }


# --- one field generator per issue event type ---------------------------------------------------
#
# A generator draws from ``rng`` in a fixed order (keyword order is evaluation order), so a seed
# always gives the same history; ``make_event`` builds the event through the registry.

_Fields = Callable[[IssueView | None, random.Random, str, int, list[str]], dict[str, Any]]

GENERATORS: dict[str, _Fields] = {}


def _generates(*classes: type[ev.Event]) -> Callable[[_Fields], _Fields]:
    def register(func: _Fields) -> _Fields:
        for cls in classes:
            GENERATORS[cls.TYPE] = func
        return func

    return register


@_generates(ev.IssueSynced)
def _issue_synced(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(
        repo=repo,
        number=number,
        title=f"Issue {number}",
        body="body " * rng.randrange(0, 20),
        labels=labels,
        author=rng.choice(["alice", "bob", "mallory"]),
        association=rng.choice(["OWNER", "MEMBER", "NONE"]),
        created_at=_ts(rng),
        updated_at=_ts(rng),
        content_hash=f"{rng.getrandbits(64):016x}",
        eligible=rng.random() < 0.85,
        reason="untrusted author",
    )


@_generates(ev.IssueChanged)
def _issue_changed(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(
        title=f"Issue {number} (edited)",
        labels=labels,
        updated_at=_ts(rng),
        changed=["title"],
        eligible=rng.random() < 0.85,
        reason="excluded label",
    )


@_generates(ev.EligibilityChanged)
def _eligibility_changed(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(eligible=rng.random() < 0.7, reason="policy")


@_generates(ev.IssueClosed)
def _issue_closed(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(closed_at=_ts(rng), updated_at=_ts(rng))


@_generates(ev.IssueReopened)
def _issue_reopened(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(updated_at=_ts(rng), eligible=rng.random() < 0.85, reason="x")


@_generates(ev.PlanStarted, ev.ReviewStarted)
def _started(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(agent=rng.choice(_AGENTS), attempt=1 + (view.attempts if view else 0))


@_generates(ev.ImplementStarted)
def _implement_started(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(agent=rng.choice(_AGENTS), branch=view.branch() if view else "")


@_generates(ev.PlanCompleted)
def _plan_completed(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(text="1. do it\n2. test it", **_run_fields(rng))


@_generates(ev.ImplementCompleted)
def _implement_completed(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    pr = view.pr_number if view and view.pr_number else 1
    return dict(pr_number=pr, pr_url=f"https://x/pull/{pr}", **_run_fields(rng))


@_generates(ev.ReviewCompleted)
def _review_completed(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    verdict = rng.choice(["approve", "request_changes", "comment"])
    return dict(verdict=verdict, text=f"ok\nVERDICT: {verdict}", **_run_fields(rng))


@_generates(ev.PlanFailed, ev.ImplementFailed, ev.ReviewFailed, ev.RevisionFailed)
def _failed(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    permanent = rng.random() < 0.3
    return dict(
        error=rng.choice(["timeout", "agent API error", "no_changes"]),
        kind="permanent" if permanent else "transient",
        next_retry_at=None if permanent else _ts(rng),
        **_run_fields(rng),
    )


@_generates(ev.PlanInvalidated)
def _plan_invalidated(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return {}


@_generates(ev.LeaseExpired)
def _lease_expired(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(
        reason=rng.choice(["holder_dead", "interrupted", "expired"]),
        max_attempts=rng.choice([1, 2, 3]),
        next_retry_at=_ts(rng) if rng.random() < 0.5 else None,
    )


@_generates(ev.Held)
def _held(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(reason=rng.choice(["operator", "budget", "pr_closed", "pr_merged"]))


@_generates(ev.Released, ev.RetryRequested)
def _by_operator(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(by="op")


@_generates(ev.BranchPushed)
def _branch_pushed(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(branch=view.branch() if view else "ghw/issue-1", sha="a" * 40)


@_generates(ev.PullRequestRequested)
def _pull_request_requested(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(key=f"k{rng.randrange(1000)}", branch="ghw/issue-1")


@_generates(ev.PullRequestOpened, ev.PullRequestAdopted)
def _pull_request(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(number=rng.randrange(1, 5000), url="https://x/pull/1")


@_generates(ev.CommentRequested)
def _comment_requested(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(key=f"c{rng.randrange(1000)}", pr_number=1)


@_generates(ev.CommentPosted)
def _comment_posted(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(key=f"c{rng.randrange(1000)}", comment_id=rng.randrange(10**6))


@_generates(ev.FeedbackReceived)
def _feedback_received(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    source = rng.choice(ev.FEEDBACK_SOURCES)
    actionable = rng.random() < 0.6
    return dict(
        source=source,
        github_id=str(rng.randrange(10**6)),
        author=rng.choice(["alice", "bob", "ci-bot[bot]"]),
        association=rng.choice(["MEMBER", "NONE"]),
        actionable=actionable,
        reason="" if actionable else rng.choice(["untrusted author", "bot", "ghw itself"]),
    )


@_generates(ev.PullRequestWatched)
def _pull_request_watched(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(
        number=rng.randrange(1, 5000),
        updated_at=_ts(rng),
        head_sha=f"{rng.randrange(16**8):08x}" * 5,
        ci=rng.choice(["", "pending", "success", "failure", "action_required"]),
    )


@_generates(ev.RevisionStarted)
def _revision_started(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(
        agent=rng.choice(_AGENTS),
        branch=view.branch() if view else "ghw/issue-1",
        round=(view.rounds + 1) if view else 1,
    )


@_generates(ev.RevisionCompleted)
def _revision_completed(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    waiting = list(view.feedback_waiting) if view else []
    return dict(
        round=(view.rounds + 1) if view else 1,
        head_sha="b" * 40,
        addressed=rng.sample(waiting, k=rng.randrange(0, len(waiting) + 1)),
        text="addressed the review",
        **_run_fields(rng),
    )


@_generates(ev.PullRequestMerged)
def _pull_request_merged(
    view: IssueView | None, rng: random.Random, repo: str, number: int, labels: list[str]
) -> dict[str, Any]:
    return dict(number=(view.pr_number or 1) if view else 1, merged_at=_ts(rng))


def make_event(
    etype: str, view: IssueView | None, rng: random.Random, repo: str = "o/r", number: int = 1
) -> ev.Event:
    """A plausible event of ``etype`` for ``view`` (guards chosen at random)."""
    labels = rng.sample(["bug", "ghw", "docs", "p1", "wontfix"], k=rng.randrange(0, 3))
    fields = GENERATORS.get(etype)
    if fields is None:
        raise ValueError(etype)
    return ev.EVENT_TYPES[etype](**fields(view, rng, repo, number, labels))


def legal_types(view: IssueView | None) -> list[str]:
    """Event types the table allows from ``view``'s state whose guards can be met."""
    state = view.state if view is not None else NEW
    out = []
    for etype in ISSUE_EVENT_TYPES:
        if (state, etype) not in LOOKUP:
            continue
        if etype == "ImplementCompleted" and (view is None or view.pr_number is None):
            continue
        out.append(etype)
    return out


# Progress is likelier than noise, so histories reach every state.
_WEIGHTS = {
    "PlanStarted": 6,
    "PlanCompleted": 6,
    "ImplementStarted": 6,
    "PullRequestOpened": 6,
    "ImplementCompleted": 8,
    "ReviewStarted": 6,
    "ReviewCompleted": 6,
    "RetryRequested": 3,
    "Released": 3,
}


def random_history(
    rng: random.Random,
    *,
    repo: str = "o/r",
    number: int = 1,
    length: int | None = None,
    settle: bool = False,
    record: Callable[[IssueView | None, ev.Event, int], Any] | None = None,
) -> list[ev.Event]:
    """A random legal history for one issue. ``settle`` avoids ending in a running state."""
    length = length if length is not None else rng.randrange(1, 14)
    view: IssueView | None = None
    out: list[ev.Event] = []

    class _Rec:
        __slots__ = ("payload", "seq", "stream_id", "ts", "type", "version")

    for i in range(length + (6 if settle else 0)):
        if i >= length and (not settle or (view is not None and view.state not in RUNNING)):
            break
        choices = legal_types(view)
        if i >= length:  # settling: leave the running state
            choices = [
                c for c in choices if c.endswith(("Completed", "Failed")) or c == "LeaseExpired"
            ] or choices
        weights = [_WEIGHTS.get(c, 1) for c in choices]
        etype = rng.choices(choices, weights)[0]
        event = make_event(etype, view, rng, repo, number)
        rec = _Rec()
        rec.payload, rec.seq, rec.stream_id = event.payload(), i + 1, f"{repo}#{number}"
        rec.ts, rec.type, rec.version = "2026-01-01T00:00:00.000000Z", etype, i + 1
        view = apply(view, rec)
        out.append(event)
    return out
