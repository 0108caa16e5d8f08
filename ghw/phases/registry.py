"""The phases, declared once: one row per phase, in workflow order.

A row holds what the rest of ghw needs to know about a phase: its name (the command and the
``--phases`` value), its console banner, its ``--help`` text and examples, and its entry point
(a :data:`~ghw.phases.outcome.PhaseRunner`). An agent phase also has its
:class:`~ghw.phases.worker.StepSpec` (declared beside its step in ``steps.py``), and from it the
states it consumes and the event that records its failure, both read from
``ghw/machine/table.py``. The orchestrator, the CLI and the worker read this table; none of them
lists the phases again.

Adding a phase: its events, states and rows in ``ghw/machine/``, a step module with its
``StepSpec`` and step function, and one row here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ghw.machine.events import Event
from ghw.phase_names import AGENT_PHASE_NAMES, PHASE_NAMES
from ghw.phases import revise, steps, sync
from ghw.phases.outcome import PhaseRunner
from ghw.phases.worker import StepSpec

__all__ = ["AGENT_PHASES", "BY_NAME", "NAMES", "PHASES", "Phase"]


@dataclass(frozen=True)
class Phase:
    name: str
    banner: str  # printed on stdout before the phase runs (§6: exactly these)
    help: str  # the one-line `ghw <name> --help` text
    examples: tuple[str, ...]  # command lines shown under "Examples:" in `ghw <name> --help`
    run: PhaseRunner
    step: StepSpec | None = None  # an agent phase: what the worker claims, records and runs

    @property
    def agent(self) -> bool:
        """The phase runs an agent (``agent.<name>``, ``<name>.parallelism`` apply)."""
        return self.step is not None

    @property
    def verb(self) -> str:
        return (self.step.verb if self.step else "") or self.name

    @property
    def consumes(self) -> tuple[str, ...]:
        """The states the phase claims issues from (sources of its ``*Started`` row)."""
        return self.step.from_states if self.step else ()

    @property
    def failed(self) -> type[Event] | None:
        """The event that records a failed step of the phase."""
        return self.step.failed if self.step else None


PHASES: tuple[Phase, ...] = (
    Phase(
        name="sync",
        banner="=== Syncing issues ===",
        help="Fetch issues from GitHub into the ledger (one conditional request per repository).",
        examples=(
            "ghw sync",
            "ghw sync --repo octocat/hello-world --since 2024-01-01",
            "ghw sync --dry-run",
        ),
        run=sync.run_sync_phase,
    ),
    Phase(
        name="plan",
        banner="=== Generating plans ===",
        help="Plan synced issues with the configured agent (read-only).",
        examples=("ghw plan", "ghw plan --issue 42 --agent codex", "ghw plan --dry-run"),
        run=steps.run_plan,
        step=steps.PLAN,
    ),
    Phase(
        name="implement",
        banner="=== Implementing plans ===",
        help="Implement planned issues and open one pull request each.",
        examples=("ghw implement --parallelism 4", "ghw implement --issue 10-20"),
        run=steps.run_implement,
        step=steps.IMPLEMENT,
    ),
    Phase(
        name="review",
        banner="=== Reviewing implementations ===",
        help="Review the pull requests of implemented issues.",
        examples=("ghw review", "ghw review --label ghw"),
        run=steps.run_review,
        step=steps.REVIEW,
    ),
    Phase(
        name="revise",
        banner="=== Revising pull requests ===",
        help="Revise ghw's pull requests on trusted feedback, failing CI and conflicts.",
        examples=("ghw revise", "ghw revise --issue 42 --dry-run"),
        run=revise.run_revise,
        step=revise.REVISE,
    ),
)

NAMES: tuple[str, ...] = tuple(p.name for p in PHASES)
BY_NAME: Mapping[str, Phase] = MappingProxyType({p.name: p for p in PHASES})
AGENT_PHASES: tuple[str, ...] = tuple(p.name for p in PHASES if p.agent)
# the layers below (configuration keys, agent scripts) know the phases by these names
if (NAMES, AGENT_PHASES) != (PHASE_NAMES, AGENT_PHASE_NAMES):
    raise AssertionError(
        f"ghw/phase_names.py lists {PHASE_NAMES} / {AGENT_PHASE_NAMES}; the phase table has "
        f"{NAMES} / {AGENT_PHASES}: change both"
    )
