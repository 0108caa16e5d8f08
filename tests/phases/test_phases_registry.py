"""The phases are declared once (ghw/phases/registry.py, ADR 0064): everything else reads the table."""

from __future__ import annotations

from ghw.machine import events as ev
from ghw.machine.table import TRANSITIONS
from ghw.orchestrator import BANNERS, COMPLETED, PHASES, PhaseOutcome
from ghw.phases import registry, steps, sync
from ghw.phases.outcome import PhaseOutcome as OwnOutcome


def test_the_orchestrator_reads_its_phases_and_banners_from_the_table() -> None:
    assert PHASES == ("sync", "plan", "implement", "review", "revise") == registry.NAMES
    assert BANNERS == {
        "sync": "=== Syncing issues ===",
        "plan": "=== Generating plans ===",
        "implement": "=== Implementing plans ===",
        "review": "=== Reviewing implementations ===",
        "revise": "=== Revising pull requests ===",  # §12
    }
    assert COMPLETED == "=== Work cycle completed ==="
    assert PhaseOutcome is OwnOutcome  # re-exported, not a second class


def test_agent_phases_consume_the_sources_of_their_started_row() -> None:
    started = {
        "plan": ev.PlanStarted,
        "implement": ev.ImplementStarted,
        "review": ev.ReviewStarted,
        "revise": ev.RevisionStarted,
    }
    assert registry.AGENT_PHASES == tuple(started)
    for name, cls in started.items():
        row = next(r for r in TRANSITIONS if r["trigger"] == cls.TYPE)
        assert registry.BY_NAME[name].consumes == tuple(row["source"])
    assert registry.BY_NAME["plan"].consumes == ("synced", "plan_failed")
    assert registry.BY_NAME["implement"].consumes == ("planned", "implement_failed")
    assert registry.BY_NAME["review"].consumes == ("implemented", "review_failed")
    assert registry.BY_NAME["revise"].consumes == ("changes_requested", "revise_failed")


def test_each_agent_phase_fails_with_its_own_event() -> None:
    assert registry.BY_NAME["plan"].failed is ev.PlanFailed
    assert registry.BY_NAME["implement"].failed is ev.ImplementFailed
    assert registry.BY_NAME["review"].failed is ev.ReviewFailed
    assert registry.BY_NAME["revise"].failed is ev.RevisionFailed
    assert registry.BY_NAME["sync"].failed is None and not registry.BY_NAME["sync"].agent


def test_each_row_runs_its_own_entry_point() -> None:
    assert registry.BY_NAME["sync"].run is sync.run_sync_phase
    assert registry.BY_NAME["plan"].run is steps.run_plan
    assert registry.BY_NAME["implement"].run is steps.run_implement
    assert registry.BY_NAME["review"].run is steps.run_review
    for phase in registry.PHASES:
        assert phase.step is None or phase.step.phase == phase.name
        assert phase.verb == phase.name


def test_sync_reports_a_phase_outcome_like_the_others() -> None:
    result = sync.SyncResult(
        repos=[sync.RepoSync("o/a", counts={"new": 2}), sync.RepoSync("o/b", ok=False, error="x")]
    )
    outcome = result.outcome()
    assert isinstance(outcome, PhaseOutcome)
    assert (outcome.name, outcome.ok, outcome.fatal) == ("sync", False, False)
    assert outcome.counts == {"new": 2}
    assert outcome.failures == ["sync o/b: x"]
    assert outcome.error == "1 repositories failed"
    fatal = sync.SyncResult(error="no token").outcome()
    assert (fatal.ok, fatal.fatal, fatal.error, fatal.failures) == (
        False,
        True,
        "no token",
        ["sync: no token"],
    )
