"""The issue transition table of §2, as plain data.

Each row is a dict in the shape the ``transitions`` library reads (``trigger``, ``source``,
``dest``, optional ``conditions`` / ``unless``), so the table can be checked and drawn by that
library while :mod:`ghw.machine.fold` reads it as a dict lookup. A few destinations depend on the
issue's own history; they are markers resolved by the fold:

* ``SAME`` — the state does not change (an internal transition);
* ``START`` — a running state's start: the state its step was claimed from;
* ``REMEMBERED`` — what ``Held`` remembered (a failed state is sent on to its step's start);
* ``STEP_START`` — a failed state's step start (``plan_failed`` → ``synced``, …).

Conditions name predicates over (payload, issue view) defined in the fold.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

from ghw.machine.states import FAILED, NEW, RUNNING, START_OF_FAILED, STEP_OF_RUNNING, State

__all__ = [
    "ALL_STATES",
    "LOOKUP",
    "REMEMBERED",
    "SAME",
    "START",
    "STEP_START",
    "TRANSITIONS",
    "Rule",
    "S",
    "expand",
]

SAME = "=same"
START = "=start"
REMEMBERED = "=remembered"
STEP_START = "=step_start"

S = State
ALL_STATES: tuple[str, ...] = tuple(s.value for s in State)
_REPLANNABLE = (S.SYNCED, S.PLANNED, S.PLAN_FAILED, S.SKIPPED)
_OTHERS = tuple(s for s in ALL_STATES if s not in _REPLANNABLE)
_NOT_CLOSED = tuple(s for s in ALL_STATES if s != S.CLOSED)
_NOT_HELD = tuple(s for s in ALL_STATES if s != S.HELD)
_RUNNING = tuple(sorted(RUNNING))
# where a PR's feedback can start a revision round: the PR is open and no step runs on it
_AWAITING_FEEDBACK = (S.REVIEWED, S.IMPLEMENTED)
_WATCHED = tuple(s for s in ALL_STATES if s not in _AWAITING_FEEDBACK)
_FAILED = tuple(sorted(FAILED))


def _row(trigger: str, source: Any, dest: str, **extra: str) -> dict[str, Any]:
    sources = [source] if isinstance(source, str) else list(source)
    return {"trigger": trigger, "source": [str(s) for s in sources], "dest": str(dest), **extra}


TRANSITIONS: tuple[dict[str, Any], ...] = (
    # sync
    _row("IssueSynced", NEW, S.SYNCED, conditions="eligible"),
    _row("IssueSynced", NEW, S.SKIPPED, unless="eligible"),
    _row("IssueChanged", _REPLANNABLE, S.SYNCED, conditions="eligible"),
    _row("IssueChanged", _REPLANNABLE, S.SKIPPED, unless="eligible"),
    _row("IssueChanged", _OTHERS, SAME),
    _row("EligibilityChanged", _REPLANNABLE, S.SYNCED, conditions="eligible"),
    _row("EligibilityChanged", _REPLANNABLE, S.SKIPPED, unless="eligible"),
    _row("EligibilityChanged", _OTHERS, SAME),
    _row("IssueClosed", _NOT_CLOSED, S.CLOSED),
    _row("IssueReopened", S.CLOSED, S.SYNCED, conditions="eligible"),
    _row("IssueReopened", S.CLOSED, S.SKIPPED, unless="eligible"),
    # plan
    _row("PlanStarted", (S.SYNCED, S.PLAN_FAILED), S.PLANNING),
    _row("PlanCompleted", S.PLANNING, S.PLANNED),
    _row("PlanFailed", S.PLANNING, S.PLAN_FAILED),
    _row("PlanInvalidated", S.PLANNED, S.SYNCED),
    # implement
    _row("ImplementStarted", (S.PLANNED, S.IMPLEMENT_FAILED), S.IMPLEMENTING),
    _row("BranchPushed", (S.IMPLEMENTING, S.REVISING), SAME),
    _row("PullRequestRequested", S.IMPLEMENTING, SAME),
    _row("PullRequestOpened", S.IMPLEMENTING, SAME),
    _row("PullRequestAdopted", S.IMPLEMENTING, SAME),
    _row("ImplementCompleted", S.IMPLEMENTING, S.IMPLEMENTED, conditions="has_pr"),
    _row("ImplementFailed", S.IMPLEMENTING, S.IMPLEMENT_FAILED),
    # review
    _row("ReviewStarted", (S.IMPLEMENTED, S.REVIEW_FAILED), S.REVIEWING),
    _row("CommentRequested", (S.REVIEWING, S.REVISING), SAME),
    _row("CommentPosted", (S.REVIEWING, S.REVISING), SAME),
    # feedback that came while the review ran is not lost: it starts the next round
    _row("ReviewCompleted", S.REVIEWING, S.REVIEWED, unless="feedback_waiting"),
    _row("ReviewCompleted", S.REVIEWING, S.CHANGES_REQUESTED, conditions="feedback_waiting"),
    _row("ReviewFailed", S.REVIEWING, S.REVIEW_FAILED),
    # follow-up (§12): feedback on the PR, revision rounds, the merge
    _row("FeedbackReceived", _AWAITING_FEEDBACK, S.CHANGES_REQUESTED, conditions="actionable"),
    _row("FeedbackReceived", _AWAITING_FEEDBACK, SAME, unless="actionable"),
    _row("FeedbackReceived", _WATCHED, SAME),
    _row("PullRequestWatched", ALL_STATES, SAME),
    _row("RevisionStarted", (S.CHANGES_REQUESTED, S.REVISE_FAILED), S.REVISING),
    _row("RevisionCompleted", S.REVISING, S.IMPLEMENTED),
    _row("RevisionFailed", S.REVISING, S.REVISE_FAILED),
    _row("PullRequestMerged", _NOT_CLOSED, S.MERGED),
    # leases
    _row("LeaseExpired", _RUNNING, "=failed_of_step", conditions="exhausted"),
    _row("LeaseExpired", _RUNNING, START, unless="exhausted"),
    # operator controls
    _row("Held", _NOT_HELD, S.HELD),
    _row("Released", S.HELD, REMEMBERED),
    _row("RetryRequested", _FAILED, STEP_START),
    _row("RetryRequested", S.HELD, REMEMBERED),
)


class Rule:
    """One candidate destination for (state, event type), with its guard."""

    __slots__ = ("condition", "dest", "negate")

    def __init__(self, dest: str, condition: str | None, negate: bool) -> None:
        self.dest = dest
        self.condition = condition
        self.negate = negate

    def __repr__(self) -> str:
        guard = f" {'unless' if self.negate else 'if'} {self.condition}" if self.condition else ""
        return f"Rule({self.dest}{guard})"


def _build_lookup() -> Mapping[tuple[str, str], tuple[Rule, ...]]:
    lookup: dict[tuple[str, str], list[Rule]] = {}
    for row in TRANSITIONS:
        if "conditions" in row:
            rule = Rule(row["dest"], row["conditions"], False)
        elif "unless" in row:
            rule = Rule(row["dest"], row["unless"], True)
        else:
            rule = Rule(row["dest"], None, False)
        for source in row["source"]:
            lookup.setdefault((source, row["trigger"]), []).append(rule)
    return types.MappingProxyType({k: tuple(v) for k, v in lookup.items()})


# (state, event type) -> rules: the fold's whole view of the table.
LOOKUP: Mapping[tuple[str, str], tuple[Rule, ...]] = _build_lookup()


def _concrete(trigger: str, source: str, dest: str) -> list[str | None]:
    """Every real state a marker destination can stand for (None = internal transition)."""
    if dest == SAME:
        return [None]
    if dest == "=failed_of_step":
        return [STEP_OF_RUNNING[source][1]]
    if dest == START:
        # a running state's start: its step's ordinary start or its failed state (a retry)
        failed = STEP_OF_RUNNING[source][1]
        return [START_OF_FAILED[failed], failed]
    if dest == STEP_START:
        return [START_OF_FAILED[source]]
    if dest == REMEMBERED:
        # Held remembers any settled state (a running one is remembered as its start); a retry
        # sends a remembered failed state on to its step's start.
        settled = [s for s in ALL_STATES if s not in RUNNING and s != S.HELD]
        if trigger == "RetryRequested":
            return [s for s in settled if s not in FAILED]
        return settled
    return [dest]


def expand(*, internal: bool = True) -> list[dict[str, Any]]:
    """The table with markers replaced by concrete states, one row per (source, dest)."""
    rows: list[dict[str, Any]] = []
    for row in TRANSITIONS:
        for source in row["source"]:
            for dest in _concrete(row["trigger"], source, row["dest"]):
                if dest is None and not internal:
                    continue
                out = {"trigger": row["trigger"], "source": source, "dest": dest}
                for key in ("conditions", "unless"):
                    if key in row:
                        out[key] = row[key]
                rows.append(out)
    return rows
