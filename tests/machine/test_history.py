"""Pure reads over an issue's history (ghw.machine.history), as the steps use them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ghw.machine import events as ev
from ghw.machine import history


@dataclass
class Rec:
    type: str
    payload: dict[str, Any]
    seq: int
    stream_id: str = "o/r#1"
    version: int = 0
    ts: str = ""


def _records(*events: ev.Event) -> list[Rec]:
    return [Rec(e.TYPE, e.payload(), seq) for seq, e in enumerate(events, 1)]


def test_issue_body_is_the_latest_synced_or_changed_body() -> None:
    recs = _records(
        ev.IssueSynced(repo="o/r", number=1, title="t", body="first", eligible=True),
        ev.PlanStarted(),
        ev.IssueChanged(title="t", body="second", eligible=True),
        ev.Held(reason="operator"),
    )
    assert history.issue_body(recs) == "second"
    assert history.issue_body([]) == ""


def test_plan_text_reads_the_plan_at_its_seq() -> None:
    recs = _records(
        ev.PlanStarted(),
        ev.PlanCompleted(text="old"),
        ev.PlanStarted(),
        ev.PlanCompleted(text="new"),
    )
    assert history.plan_text(recs, 4) == "new"
    assert history.plan_text(recs, 2) == "old"
    assert history.plan_text(recs, None) is None
    assert history.plan_text(recs, 99) is None


def test_a_push_counts_until_the_step_fails_or_is_reset() -> None:
    pushed = ev.BranchPushed(branch="ghw/issue-1", sha="abc")
    assert (
        history.pushed_since_failure(_records(ev.ImplementStarted(), pushed), "ghw/issue-1")
        == "abc"
    )
    assert history.pushed_since_failure(_records(pushed), "ghw/issue-1-2") is None
    assert (
        history.pushed_since_failure(_records(pushed, ev.ImplementFailed(error="x")), "ghw/issue-1")
        is None
    )
    blank = ev.BranchPushed(branch="ghw/issue-1")
    assert history.pushed_since_failure(_records(blank), "ghw/issue-1") == "pushed"
    for reset in (
        ev.RetryRequested(),
        ev.PlanCompleted(text=""),
        ev.ImplementCompleted(pr_number=1),
    ):
        assert history.pushed_since_failure(_records(pushed, reset), "ghw/issue-1") is None


def test_typed_gives_the_event_class_back() -> None:
    (rec,) = _records(ev.Held(reason="budget", by="op"))
    assert history.typed(rec) == ev.Held(reason="budget", by="op")
