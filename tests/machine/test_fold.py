"""The pure fold: legal histories fold, illegal events are refused, and §2's finer rules hold."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ghw.errors import IllegalTransitionError
from ghw.machine import events as ev
from ghw.machine.fold import apply, fold
from ghw.machine.simulate import ISSUE_EVENT_TYPES, legal_types, make_event, random_history
from ghw.machine.states import RUNNING
from ghw.machine.table import LOOKUP
from ghw.machine.view import IssueView


@dataclass
class Rec:
    stream_id: str
    type: str
    payload: dict[str, Any]
    seq: int
    version: int
    ts: str = "2026-01-01T00:00:00.000000Z"


def records(events: list[ev.Event], stream: str = "o/r#1") -> list[Rec]:
    return [Rec(stream, e.TYPE, e.payload(), i + 1, i + 1) for i, e in enumerate(events)]


def run(*events: ev.Event) -> IssueView:
    view = fold(records(list(events)))
    assert view is not None
    return view


SYNCED = ev.IssueSynced(repo="o/r", number=1, title="t", eligible=True)


@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=1, max_value=40))
@settings(max_examples=300, deadline=None)
def test_any_legal_history_folds(seed: int, length: int) -> None:
    history = random_history(random.Random(seed), length=length)
    view = None
    for rec in records(history):
        before = view.state if view else "new"
        view = apply(view, rec)
        assert (before, rec.type) in LOOKUP
        assert view.version == rec.version
    assert view is not None and view.version == len(history)


@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=0, max_value=20))
@settings(max_examples=300, deadline=None)
def test_illegal_events_are_refused(seed: int, length: int) -> None:
    rng = random.Random(seed)
    history = random_history(rng, length=length) if length else []
    view = fold(records(history))
    illegal = [t for t in ISSUE_EVENT_TYPES if t not in legal_types(view)]
    etype = rng.choice(illegal)
    event = make_event(etype, view, rng)
    rec = Rec("o/r#1", etype, event.payload(), len(history) + 1, len(history) + 1)
    with pytest.raises(IllegalTransitionError):
        apply(view, rec)


def test_apply_never_mutates_its_input() -> None:
    view = run(SYNCED)
    snapshot = IssueView(**{f: getattr(view, f) for f in view.__slots__})
    apply(view, Rec("o/r#1", "PlanStarted", ev.PlanStarted().payload(), 2, 2))
    assert view == snapshot


def test_untrusted_issue_is_skipped_with_reason() -> None:
    view = run(
        ev.IssueSynced(repo="o/r", number=1, title="t", eligible=False, reason="author NONE")
    )
    assert view.state == "skipped" and view.skip_reason == "author NONE"


def test_first_seen_closed() -> None:
    assert run(SYNCED, ev.IssueClosed()).state == "closed"


def test_change_before_planning_resets_and_after_flags() -> None:
    changed = ev.IssueChanged(title="t2", eligible=True)
    assert run(SYNCED, ev.PlanStarted(), ev.PlanCompleted(text="p"), changed).state == "synced"
    v = run(
        SYNCED,
        ev.PlanStarted(),
        ev.PlanCompleted(text="p"),
        ev.ImplementStarted(),
        changed,
    )
    assert v.state == "implementing" and v.changed_since_plan
    assert (
        run(SYNCED, ev.IssueChanged(title="x", eligible=False, reason="label")).state == "skipped"
    )


def test_stale_plan_is_invalidated() -> None:
    v = run(
        SYNCED,
        ev.PlanStarted(),
        ev.IssueChanged(title="t2", eligible=True),
        ev.PlanCompleted(text="p"),
    )
    assert v.state == "planned" and v.changed_since_plan
    v2 = apply(v, Rec("o/r#1", "PlanInvalidated", {"reason": "x"}, 5, 5))
    assert v2.state == "synced" and not v2.changed_since_plan


def test_implement_completed_needs_a_pull_request() -> None:
    base = [SYNCED, ev.PlanStarted(), ev.PlanCompleted(text="p"), ev.ImplementStarted()]
    with pytest.raises(IllegalTransitionError):
        run(*base, ev.ImplementCompleted(pr_number=3))
    v = run(*base, ev.PullRequestOpened(number=3, url="u"), ev.ImplementCompleted(pr_number=3))
    assert v.state == "implemented" and v.pr_number == 3


@pytest.mark.parametrize(
    ("reason", "max_attempts", "state", "attempts"),
    [
        ("holder_dead", 1, "synced", 0),
        ("interrupted", 1, "synced", 0),
        ("expired", 3, "synced", 1),
        ("expired", 1, "plan_failed", 1),
    ],
)
def test_lease_expired(reason: str, max_attempts: int, state: str, attempts: int) -> None:
    v = run(SYNCED, ev.PlanStarted(), ev.LeaseExpired(reason=reason, max_attempts=max_attempts))
    assert (v.state, v.attempts) == (state, attempts)
    assert v.state not in RUNNING


def test_lease_expired_returns_to_the_failed_state_it_was_claimed_from() -> None:
    v = run(
        SYNCED,
        ev.PlanStarted(),
        ev.PlanFailed(error="e", next_retry_at="2026-01-01T00:00:00.000000Z"),
        ev.PlanStarted(),
        ev.LeaseExpired(reason="interrupted"),
    )
    assert v.state == "plan_failed"


def test_held_remembers_a_running_issues_start_and_release_returns_there() -> None:
    v = run(
        SYNCED,
        ev.PlanStarted(),
        ev.PlanCompleted(text="p"),
        ev.ImplementStarted(),
        ev.Held(reason="pr_closed"),
    )
    assert v.state == "held" and v.held_from == "planned"
    released = run(SYNCED, ev.Held(reason="x"), ev.Released())
    assert released.state == "synced"


def test_retry_after_closed_pr_moves_to_a_new_branch() -> None:
    v = run(
        SYNCED,
        ev.PlanStarted(),
        ev.PlanCompleted(text="p"),
        ev.ImplementStarted(),
        ev.PullRequestAdopted(number=9),
        ev.Held(reason="pr_closed"),
        ev.RetryRequested(),
    )
    assert v.state == "planned" and v.branch() == "ghw/issue-1-1" and v.pr_number is None


def test_retry_of_failed_step_resets_attempts() -> None:
    v = run(
        SYNCED, ev.PlanStarted(), ev.PlanFailed(error="e", kind="permanent"), ev.RetryRequested()
    )
    assert (v.state, v.attempts, v.next_retry_at) == ("synced", 0, None)


def test_reopened_untrusted_issue_stays_skipped() -> None:
    v = run(SYNCED, ev.IssueClosed(), ev.IssueReopened(eligible=False, reason="untrusted"))
    assert v.state == "skipped"
    assert run(SYNCED, ev.IssueClosed(), ev.IssueReopened()).state == "synced"


def test_costs_accumulate_across_steps() -> None:
    v = run(
        SYNCED,
        ev.PlanStarted(),
        ev.PlanFailed(error="e", cost_usd=0.25, input_tokens=10),
        ev.PlanStarted(),
        ev.PlanCompleted(text="p", cost_usd=0.5, output_tokens=7),
    )
    assert v.cost_usd == pytest.approx(0.75) and v.input_tokens == 10 and v.output_tokens == 7


def test_payload_schema_is_enforced() -> None:
    with pytest.raises(ev.PayloadError):
        ev.event_from_payload("PlanFailed", {"error": 3})
    with pytest.raises(ev.PayloadError):
        ev.event_from_payload("PlanFailed", {"error": "x", "surprise": 1})
    with pytest.raises(ev.PayloadError):
        ev.event_from_payload("NoSuchEvent", {})
    assert ev.event_from_payload("PlanFailed", {"error": "x"}).TYPE == "PlanFailed"
