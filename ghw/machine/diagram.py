"""Check the transition table with ``transitions`` and draw it as Mermaid for docs/states.md."""

from __future__ import annotations

from typing import Any

from ghw.machine.states import NEW
from ghw.machine.table import ALL_STATES, TRANSITIONS, expand

__all__ = ["build_machine", "render_states_md"]


class _Model:
    """A bare model object for the transitions machine (it holds the current state)."""


def build_machine(*, graph: bool = False) -> Any:
    """The table as a ``transitions`` machine; construction checks every state it names."""
    # start-up: transitions (an optional dependency) only draws the state diagram
    from transitions import Machine
    from transitions.extensions import GraphMachine

    rows = expand(internal=False)
    for row in rows:
        row["conditions"] = []  # guards are data here; the fold evaluates them
        row.pop("unless", None)
    kwargs: dict[str, Any] = {
        "model": _Model(),
        "states": [NEW, *ALL_STATES],
        "transitions": rows,
        "initial": NEW,
        "auto_transitions": False,
        "send_event": True,
    }
    if graph:
        return GraphMachine(graph_engine="mermaid", title="ghw issue states", **kwargs)
    return Machine(**kwargs)


def _guard(row: dict[str, Any]) -> str:
    if "conditions" in row:
        return f"if {row['conditions']}"
    if "unless" in row:
        return f"unless {row['unless']}"
    return ""


def render_states_md() -> str:
    machine = build_machine(graph=True)
    diagram = machine.model.get_graph().draw(None).strip()
    lines = [
        "# Issue states",
        "",
        "Generated from `ghw/machine/table.py` by `python scripts/gen_states_md.py`; a test fails",
        "when this file and the table disagree. Do not edit by hand.",
        "",
        "```mermaid",
        diagram,
        "```",
        "",
        "## The table",
        "",
        'Markers: `=same` keeps the state (it is flagged "changed since plan" where that applies);',
        "`=start` is the state the running step was claimed from; `=remembered` is what `Held`",
        "remembered; `=step_start` is a failed step's start; `=failed_of_step` the step's failed state.",
        "",
        "| from | event | to | guard |",
        "| --- | --- | --- | --- |",
    ]
    for row in TRANSITIONS:
        sources = ", ".join(f"`{s}`" for s in row["source"])
        lines.append(f"| {sources} | `{row['trigger']}` | `{row['dest']}` | {_guard(row)} |")
    lines.append("")
    return "\n".join(lines)
