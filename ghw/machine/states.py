"""Issue states (§2) and the groups the rest of ghw reasons about."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "FAILED",
    "FAILED_OF_STEP",
    "NEW",
    "RUNNING",
    "START_OF_FAILED",
    "STEP_OF_RUNNING",
    "State",
]


class State(StrEnum):
    SYNCED = "synced"
    PLANNING = "planning"
    PLANNED = "planned"
    IMPLEMENTING = "implementing"
    IMPLEMENTED = "implemented"
    REVIEWING = "reviewing"
    REVIEWED = "reviewed"
    PLAN_FAILED = "plan_failed"
    IMPLEMENT_FAILED = "implement_failed"
    REVIEW_FAILED = "review_failed"
    CLOSED = "closed"
    HELD = "held"
    SKIPPED = "skipped"
    # follow-up (§12): feedback on the PR waits, a revision runs, the PR was merged
    CHANGES_REQUESTED = "changes_requested"
    REVISING = "revising"
    REVISE_FAILED = "revise_failed"
    MERGED = "merged"


# The pseudo-state of a stream with no events yet; never stored.
NEW = "new"

RUNNING: frozenset[str] = frozenset(
    {State.PLANNING, State.IMPLEMENTING, State.REVIEWING, State.REVISING}
)
FAILED: frozenset[str] = frozenset(
    {State.PLAN_FAILED, State.IMPLEMENT_FAILED, State.REVIEW_FAILED, State.REVISE_FAILED}
)

# running state -> (phase name, its failed state)
STEP_OF_RUNNING: dict[str, tuple[str, str]] = {
    State.PLANNING: ("plan", State.PLAN_FAILED),
    State.IMPLEMENTING: ("implement", State.IMPLEMENT_FAILED),
    State.REVIEWING: ("review", State.REVIEW_FAILED),
    State.REVISING: ("revise", State.REVISE_FAILED),
}

# failed state -> the state its step starts from (where RetryRequested sends it)
START_OF_FAILED: dict[str, str] = {
    State.PLAN_FAILED: State.SYNCED,
    State.IMPLEMENT_FAILED: State.PLANNED,
    State.REVIEW_FAILED: State.IMPLEMENTED,
    State.REVISE_FAILED: State.CHANGES_REQUESTED,
}

FAILED_OF_STEP: dict[str, str] = {
    "plan": State.PLAN_FAILED,
    "implement": State.IMPLEMENT_FAILED,
    "review": State.REVIEW_FAILED,
    "revise": State.REVISE_FAILED,
}
