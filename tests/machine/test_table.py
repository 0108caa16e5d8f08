"""The transition table: checked by `transitions`, drawn into docs/states.md, matching §2."""

from __future__ import annotations

from pathlib import Path

from ghw.machine.diagram import build_machine, render_states_md
from ghw.machine.states import FAILED, NEW, RUNNING, State
from ghw.machine.table import ALL_STATES, LOOKUP, TRANSITIONS, expand

ROOT = Path(__file__).resolve().parents[2]


def test_transitions_library_accepts_the_table() -> None:
    machine = build_machine()
    model = machine.model
    # walk the happy path through the library's own machine
    for trigger in (
        "IssueSynced",
        "PlanStarted",
        "PlanCompleted",
        "ImplementStarted",
        "ImplementCompleted",
        "ReviewStarted",
        "ReviewCompleted",
    ):
        model.trigger(trigger)
    assert model.state == State.REVIEWED


def test_docs_states_md_is_generated_from_the_table() -> None:
    committed = (ROOT / "docs" / "states.md").read_text(encoding="utf-8")
    assert committed == render_states_md(), "run: python scripts/gen_states_md.py"


def test_every_state_is_reachable_and_named() -> None:
    dests = {row["dest"] for row in expand()} - {None}
    assert set(ALL_STATES) <= dests
    sources = {s for row in TRANSITIONS for s in row["source"]}
    assert sources <= {NEW, *ALL_STATES}


def test_table_rows_match_spec_examples() -> None:
    assert {r.dest for r in LOOKUP[("synced", "PlanStarted")]} == {"planning"}
    assert {r.dest for r in LOOKUP[("plan_failed", "PlanStarted")]} == {"planning"}
    assert ("planned", "PlanStarted") not in LOOKUP
    assert ("skipped", "PlanStarted") not in LOOKUP
    assert ("closed", "IssueClosed") not in LOOKUP
    assert ("held", "Held") not in LOOKUP
    for state in ALL_STATES:
        if state != "closed":
            assert (state, "IssueClosed") in LOOKUP
    for state in RUNNING:
        assert (state, "LeaseExpired") in LOOKUP
    for state in FAILED:
        assert (state, "RetryRequested") in LOOKUP
