"""§12 in the fold: feedback, revision rounds, the merge, and the guards' bookkeeping."""

from __future__ import annotations

import pytest
from test_fold import run

from ghw.errors import IllegalTransitionError
from ghw.machine import events as ev

SYNCED = ev.IssueSynced(repo="o/r", number=1, title="t", eligible=True)
TO_REVIEWED = (
    SYNCED,
    ev.PlanStarted(agent="a"),
    ev.PlanCompleted(text="plan"),
    ev.ImplementStarted(agent="a", branch="ghw/issue-1"),
    ev.PullRequestOpened(number=7, url="u"),
    ev.ImplementCompleted(pr_number=7),
    ev.ReviewStarted(agent="a"),
    ev.ReviewCompleted(verdict="approve", text="ok"),
)


def feedback(gid: str, *, actionable: bool = True, source: str = "review") -> ev.Event:
    return ev.FeedbackReceived(
        source=source,
        github_id=gid,
        author="alice",
        actionable=actionable,
        reason="" if actionable else "bot",
    )


def test_actionable_feedback_on_a_reviewed_pr_requests_changes() -> None:
    view = run(*TO_REVIEWED, feedback("1"))
    assert view.state == "changes_requested"
    assert view.feedback_waiting == ["review:1"]
    assert view.pr_opened_ts != ""


def test_ignored_feedback_changes_no_state_and_is_counted() -> None:
    view = run(*TO_REVIEWED, feedback("1", actionable=False))
    assert view.state == "reviewed"
    assert view.feedback_waiting == [] and view.feedback_ignored == 1


def test_feedback_while_the_review_runs_starts_the_next_round_when_it_ends() -> None:
    before_review_end = TO_REVIEWED[:-1]
    view = run(*before_review_end, feedback("1"), TO_REVIEWED[-1])
    assert view.state == "changes_requested"


def test_a_round_addresses_feedback_and_review_runs_again() -> None:
    view = run(
        *TO_REVIEWED,
        feedback("1"),
        feedback("2", source="comment"),
        ev.RevisionStarted(agent="a", branch="ghw/issue-1", round=1),
        ev.BranchPushed(branch="ghw/issue-1", sha="b" * 40),
        ev.CommentRequested(key="k", pr_number=7),
        ev.CommentPosted(key="k", comment_id=3),
        ev.RevisionCompleted(round=1, head_sha="b" * 40, addressed=["review:1"], cost_usd=0.5),
    )
    assert view.state == "implemented"  # so the review runs again on the new head
    assert view.rounds == 1 and view.feedback_handled == 1
    assert view.feedback_waiting == ["comment:2"]
    assert view.pr_head_sha == "b" * 40 and view.cost_usd == 0.5


def test_a_failed_round_is_retried_from_changes_requested() -> None:
    view = run(
        *TO_REVIEWED,
        feedback("1"),
        ev.RevisionStarted(agent="a", round=1),
        ev.RevisionFailed(error="conflict markers left", next_retry_at="2026-01-01T00:00:00Z"),
    )
    assert view.state == "revise_failed"
    view = run(
        *TO_REVIEWED,
        feedback("1"),
        ev.RevisionStarted(agent="a"),
        ev.LeaseExpired(reason="interrupted"),
    )
    assert view.state == "changes_requested"


def test_a_person_lifting_max_rounds_counts_rounds_from_then() -> None:
    view = run(
        *TO_REVIEWED,
        feedback("1"),
        ev.RevisionStarted(agent="a", round=1),
        ev.RevisionCompleted(round=1, addressed=["review:1"]),
        ev.ReviewStarted(agent="a"),
        ev.ReviewCompleted(verdict="approve", text="ok"),
        feedback("2"),
        ev.Held(reason="max_rounds: 1 of 1", by="ghw"),
        ev.Released(by="alice"),
    )
    assert view.state == "changes_requested"
    assert view.rounds == 1 and view.rounds_base == 1


def test_merged_then_closed() -> None:
    view = run(*TO_REVIEWED, feedback("1"), ev.PullRequestMerged(number=7, merged_at="2026-01-02"))
    assert view.state == "merged" and view.feedback_waiting == []
    assert view.pr_merged_at == "2026-01-02"
    view = run(*TO_REVIEWED, ev.PullRequestMerged(number=7), ev.IssueClosed(closed_at="2026-01-02"))
    assert view.state == "closed"


def test_a_revision_cannot_start_without_feedback_waiting() -> None:
    with pytest.raises(IllegalTransitionError):
        run(*TO_REVIEWED, ev.RevisionStarted(agent="a"))


def test_watching_changes_no_state() -> None:
    view = run(
        *TO_REVIEWED,
        ev.PullRequestWatched(number=7, updated_at="2026-01-03", head_sha="c" * 40, ci="pending"),
    )
    assert view.state == "reviewed"
    assert (view.pr_seen_updated_at, view.ci) == ("2026-01-03", "pending")
