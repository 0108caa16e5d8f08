"""Turning ledger data into the §6 JSON shapes and readable text. No I/O."""

from __future__ import annotations

from typing import Any

from ghw.ledger.records import StoredEvent

__all__ = ["counts_text", "event_facts", "history_json", "tidy_help"]


def _money(value: Any) -> str:
    return f"${float(value or 0):.4f}"


def event_facts(event: StoredEvent) -> str:
    """The key facts of one event, one short line."""
    p = event.payload
    t = event.type
    parts: list[str] = []
    if t == "IssueSynced":
        parts.append(
            f"{p.get('title', '')!r} by {p.get('author') or '?'} ({p.get('association') or '?'})"
        )
        parts.append("eligible" if p.get("eligible") else f"skipped: {p.get('reason', '')}")
    elif t in ("IssueChanged", "EligibilityChanged", "IssueReopened"):
        if p.get("changed"):
            parts.append("changed " + ", ".join(p["changed"]))
        parts.append(
            "eligible" if p.get("eligible", True) else f"not eligible: {p.get('reason', '')}"
        )
    elif t.endswith("Started"):
        parts.append(
            f"agent {p.get('agent') or '?'}" + (f" ({p['model']})" if p.get("model") else "")
        )
        parts.append(f"attempt {p.get('attempt', 1)}/{p.get('max_attempts', '?')}")
        if p.get("branch"):
            parts.append(f"branch {p['branch']}")
    elif t.endswith("Completed") and t != "CycleCompleted":
        if t == "ReviewCompleted":
            parts.append(f"verdict {p.get('verdict')}")
        if t == "ImplementCompleted":
            parts.append(f"PR #{p.get('pr_number')} {p.get('pr_url') or ''}".strip())
        parts.append(f"agent {p.get('agent') or '?'}")
        if p.get("session_id"):
            parts.append(f"session {p['session_id']}")
        parts.append(f"cost {_money(p.get('cost_usd'))}")
        parts.append(f"{float(p.get('duration_s') or 0):.1f}s")
        if p.get("input_tokens") or p.get("output_tokens"):
            parts.append(f"tokens {p.get('input_tokens', 0)}/{p.get('output_tokens', 0)}")
    elif t.endswith("Failed"):
        parts.append(
            f"{p.get('kind', '')} {p.get('error_kind') or ''}: {p.get('error', '')}".strip()
        )
        parts.append(
            f"retry at {p['next_retry_at']}" if p.get("next_retry_at") else "waits for `ghw retry`"
        )
        if p.get("cost_usd"):
            parts.append(f"cost {_money(p.get('cost_usd'))}")
    elif t == "LeaseExpired":
        parts.append(f"{p.get('reason')} (holder pid {p.get('holder', {}).get('pid', '?')})")
    elif t == "Held":
        parts.append(f"reason {p.get('reason')}")
    elif t in ("PullRequestOpened", "PullRequestAdopted"):
        parts.append(f"#{p.get('number')} {p.get('url', '')}".strip())
    elif t == "PullRequestRequested":
        parts.append(f"branch {p.get('branch')} key {p.get('key')}")
    elif t == "BranchPushed":
        parts.append(f"{p.get('branch')} @ {str(p.get('sha', ''))[:10]}")
    elif t in ("CommentRequested", "CommentPosted"):
        parts.append(f"key {p.get('key')}")
    elif t == "PlanInvalidated":
        parts.append(str(p.get("reason", "")))
    elif t in ("Released", "RetryRequested") and p.get("by"):
        parts.append(f"by {p['by']}")
    return "; ".join(x for x in parts if x)


def counts_text(counts: Any) -> str:
    """``{'plan.completed': 3, 'sync.seen': 4}`` as ``plan.completed 3, sync.seen 4``."""
    if not counts:
        return ""
    if not isinstance(counts, dict):
        return str(counts)
    parts = []
    for key, value in counts.items():
        if isinstance(value, dict):
            parts.extend(f"{key}.{k} {v}" for k, v in value.items())
        else:
            parts.append(f"{key} {value}")
    return ", ".join(parts)


def history_json(stream_id: str, state: str | None, events: list[StoredEvent]) -> dict[str, Any]:
    return {
        "issue": stream_id,
        "state": state,
        "events": [
            {
                "seq": e.seq,
                "version": e.version,
                "type": e.type,
                "ts": e.ts,
                "actor": e.actor,
                "payload": e.payload,
                "hash": e.hash,
            }
            for e in events
        ],
    }


def tidy_help(command: Any, examples: dict[str, str] | None = None, path: str = "") -> Any:
    """Fix what Typer 0.16 with click 8.2 gets wrong in ``--help`` and error hints, for
    ``command`` and every subcommand (recursively):

    * ``(env var: 'None')`` after an option without an environment variable;
    * ``[default: None]`` (and ``[default: 0]`` for ``-v``/``-q``): no default is shown unless
      there is one worth reading;
    * counted flags (``-v``, ``-q``) shown as taking an ``INTEGER``.

    ``examples`` maps a command path (``"config show"``; ``""`` for the root) to an examples
    epilog for commands whose help has none yet."""
    import click

    for param in getattr(command, "params", ()):
        if not isinstance(param, click.Option):
            if param.default is None and hasattr(param, "show_default"):
                param.show_default = False  # Typer's arguments show it too
            continue
        if param.envvar is None:
            param.show_envvar = False
        if param.count:
            param.metavar = ""
            param.show_default = False
        elif param.default is None or (param.is_flag and param.default is False):
            param.show_default = False
    if examples and path in examples:
        text = f"{command.help or ''}\n{command.epilog or ''}"
        if "Example" not in text:
            command.epilog = examples[path]
    for name, sub in (getattr(command, "commands", None) or {}).items():
        tidy_help(sub, examples, f"{path} {name}".strip())
    return command
