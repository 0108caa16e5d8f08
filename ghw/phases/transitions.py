"""What the transition table (``ghw/machine/table.py``) says about a step phase, read, not restated.

The states a phase consumes are the sources of its ``*Started`` row; the event that records its
failure is the one the table moves from the phase's running state to its failed state. So the
phases never write these down a second time.
"""

from __future__ import annotations

from ghw.machine.events import EVENT_TYPES, Event
from ghw.machine.states import FAILED_OF_STEP, RUNNING
from ghw.machine.table import TRANSITIONS

__all__ = ["consumed_by", "failure_event_of"]


def consumed_by(started: type[Event]) -> tuple[str, ...]:
    """The states a step whose start is ``started`` claims from, in the table's order."""
    sources = [s for row in TRANSITIONS if row["trigger"] == started.TYPE for s in row["source"]]
    if not sources:
        raise LookupError(f"no transition starts with {started.TYPE} in ghw/machine/table.py")
    return tuple(dict.fromkeys(sources))


def failure_event_of(phase: str) -> type[Event]:
    """The ``*Failed`` event of a step phase: the table's move from running to failed."""
    failed = FAILED_OF_STEP[phase]
    for row in TRANSITIONS:
        if row["dest"] == failed and set(row["source"]) <= RUNNING:
            return EVENT_TYPES[row["trigger"]]
    raise LookupError(f"no transition to {failed} in ghw/machine/table.py")
