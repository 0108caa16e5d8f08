"""Each event type has one home: its class, registered once (ADR 0061)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest

from ghw.machine import events as ev


def test_every_event_class_is_registered_under_its_own_name() -> None:
    classes = {
        name: obj
        for name, obj in vars(ev).items()
        if isinstance(obj, type) and issubclass(obj, ev.Event) and obj.__dict__.get("TYPE")
    }
    assert dict(ev.EVENT_TYPES) == {cls.TYPE: cls for cls in classes.values()}
    assert all(cls.TYPE == name for name, cls in ev.EVENT_TYPES.items())
    assert all(cls.__name__ == name for name, cls in ev.EVENT_TYPES.items())
    assert len(ev.EVENT_TYPES) == 39  # 33 + the six of the follow-up (§12)


def test_field_sharing_bases_are_not_event_types() -> None:
    registered = set(ev.EVENT_TYPES.values())
    assert ev.Event not in registered
    assert not {ev._Started, ev._AgentRun, ev._Failed} & registered


def test_all_names_every_event_type_and_is_importable() -> None:
    assert set(ev.EVENT_TYPES) <= set(ev.__all__)
    for name in ev.__all__:
        assert hasattr(ev, name), name


def test_leased_types_are_the_step_ends_and_step_effects() -> None:
    # the list the ledger kept by hand before ADR 0061, pinned
    assert {
        "PlanCompleted",
        "PlanFailed",
        "ImplementCompleted",
        "ImplementFailed",
        "ReviewCompleted",
        "ReviewFailed",
        "BranchPushed",
        "PullRequestRequested",
        "PullRequestOpened",
        "PullRequestAdopted",
        "CommentRequested",
        "CommentPosted",
        # the follow-up's step ends (§12)
        "RevisionCompleted",
        "RevisionFailed",
    } == ev.LEASED_TYPES
    assert all(ev.EVENT_TYPES[name].LEASED for name in ev.LEASED_TYPES)
    assert not ev.PlanStarted.LEASED and not ev.LeaseExpired.LEASED and not ev.Held.LEASED


def test_a_type_defined_twice_is_refused() -> None:
    with pytest.raises(TypeError, match="defined twice"):

        @dataclasses.dataclass(frozen=True, kw_only=True)
        class Held(ev.Event):
            TYPE: ClassVar[str] = "Held"

    assert ev.EVENT_TYPES["Held"] is ev.Held


def test_event_types_is_read_only() -> None:
    with pytest.raises(TypeError):
        ev.EVENT_TYPES["X"] = ev.Held  # type: ignore[index]


def test_every_issue_event_type_has_one_applier() -> None:
    from ghw.machine.fold import APPLIERS
    from ghw.machine.table import LOOKUP

    issue_types = {t for (_state, t) in LOOKUP}
    assert set(APPLIERS) == issue_types
    assert issue_types <= set(ev.EVENT_TYPES)


def test_every_event_type_has_one_renderer() -> None:
    from ghw.cli.render import RENDERERS

    assert set(RENDERERS) == set(ev.EVENT_TYPES)


def test_history_lines_from_the_renderers() -> None:
    from types import SimpleNamespace

    from ghw.cli.render import event_facts

    def facts(e: ev.Event) -> str:
        return event_facts(SimpleNamespace(type=e.TYPE, payload=e.payload()))  # type: ignore[arg-type]

    assert facts(ev.ImplementStarted(agent="codex", model="m", branch="ghw/issue-1")) == (
        "agent codex (m); attempt 1/3; branch ghw/issue-1"
    )
    assert facts(
        ev.ImplementCompleted(pr_number=5, pr_url="u", agent="a", session_id="s", duration_s=1)
    ) == ("PR #5 u; agent a; session s; cost $0.0000; 1.0s")
    assert facts(ev.ReviewFailed(error="boom", kind="permanent", cost_usd=0.5)) == (
        "permanent : boom; waits for `ghw retry`; cost $0.5000"
    )
    assert facts(ev.Released(by="op")) == "by op"
    assert facts(ev.Released()) == ""
    assert facts(ev.IssueClosed()) == ""


def test_the_simulator_generates_every_issue_event_type_through_the_registry() -> None:
    import random

    from ghw.machine.simulate import GENERATORS, ISSUE_EVENT_TYPES, make_event

    assert set(GENERATORS) == set(ISSUE_EVENT_TYPES)
    for name in ISSUE_EVENT_TYPES:
        assert type(make_event(name, None, random.Random(0))) is ev.EVENT_TYPES[name]
    with pytest.raises(ValueError):
        make_event("CycleStarted", None, random.Random(0))
