"""Turning ledger data into the §6 JSON shapes and readable text. No I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from ghw.ledger.records import StoredEvent
from ghw.machine import events as ev

__all__ = [
    "RENDERERS",
    "Renderer",
    "counts_text",
    "event_facts",
    "history_json",
    "history_lines",
    "tidy_help",
]


def _money(value: Any) -> str:
    return f"${float(value or 0):.4f}"


# --- one renderer per event type: the key facts of its history line --------------------------

Renderer = Callable[[Mapping[str, Any]], list[str]]

RENDERERS: dict[str, Renderer] = {}


def _renders(*classes: type[ev.Event]) -> Callable[[Renderer], Renderer]:
    def register(func: Renderer) -> Renderer:
        for cls in classes:
            assert cls.TYPE not in RENDERERS, cls.TYPE
            RENDERERS[cls.TYPE] = func
        return func

    return register


@_renders(ev.IssueSynced)
def _issue_synced(p: Mapping[str, Any]) -> list[str]:
    return [
        f"{p.get('title', '')!r} by {p.get('author') or '?'} ({p.get('association') or '?'})",
        "eligible" if p.get("eligible") else f"skipped: {p.get('reason', '')}",
    ]


@_renders(ev.IssueChanged, ev.EligibilityChanged, ev.IssueReopened)
def _eligibility(p: Mapping[str, Any]) -> list[str]:
    parts = ["changed " + ", ".join(p["changed"])] if p.get("changed") else []
    parts.append("eligible" if p.get("eligible", True) else f"not eligible: {p.get('reason', '')}")
    return parts


@_renders(ev.PlanStarted, ev.ImplementStarted, ev.ReviewStarted, ev.RevisionStarted)
def _started(p: Mapping[str, Any]) -> list[str]:
    parts = [f"round {p['round']}"] if p.get("round") else []
    parts += [
        f"agent {p.get('agent') or '?'}" + (f" ({p['model']})" if p.get("model") else ""),
        f"attempt {p.get('attempt', 1)}/{p.get('max_attempts', '?')}",
    ]
    if p.get("branch"):
        parts.append(f"branch {p['branch']}")
    return parts


def _agent_run(p: Mapping[str, Any]) -> list[str]:
    parts = [f"agent {p.get('agent') or '?'}"]
    if p.get("session_id"):
        parts.append(f"session {p['session_id']}")
    parts.append(f"cost {_money(p.get('cost_usd'))}")
    parts.append(f"{float(p.get('duration_s') or 0):.1f}s")
    if p.get("input_tokens") or p.get("output_tokens"):
        parts.append(f"tokens {p.get('input_tokens', 0)}/{p.get('output_tokens', 0)}")
    return parts


@_renders(ev.PlanCompleted)
def _plan_completed(p: Mapping[str, Any]) -> list[str]:
    return _agent_run(p)


@_renders(ev.ImplementCompleted)
def _implement_completed(p: Mapping[str, Any]) -> list[str]:
    return [f"PR #{p.get('pr_number')} {p.get('pr_url') or ''}".strip(), *_agent_run(p)]


@_renders(ev.ReviewCompleted)
def _review_completed(p: Mapping[str, Any]) -> list[str]:
    return [f"verdict {p.get('verdict')}", *_agent_run(p)]


@_renders(ev.PlanFailed, ev.ImplementFailed, ev.ReviewFailed, ev.RevisionFailed)
def _failed(p: Mapping[str, Any]) -> list[str]:
    parts = [
        f"{p.get('kind', '')} {p.get('error_kind') or ''}: {p.get('error', '')}".strip(),
        f"retry at {p['next_retry_at']}" if p.get("next_retry_at") else "waits for `ghw retry`",
    ]
    if p.get("cost_usd"):
        parts.append(f"cost {_money(p.get('cost_usd'))}")
    return parts


@_renders(ev.FeedbackReceived)
def _feedback(p: Mapping[str, Any]) -> list[str]:
    who = p.get("author") or "?"
    if p.get("association"):
        who += f" ({p['association']})"
    parts = [f"{p.get('source')} {p.get('github_id')} by {who}"]
    if p.get("summary"):
        parts.append(str(p["summary"])[:80])
    parts.append("acted on" if p.get("actionable") else f"ignored: {p.get('reason') or '?'}")
    return parts


@_renders(ev.RevisionCompleted)
def _revision_completed(p: Mapping[str, Any]) -> list[str]:
    addressed = p.get("addressed") or []
    return [
        f"round {p.get('round')}",
        f"head {str(p.get('head_sha', ''))[:10]}",
        f"addressed {len(addressed)}: {', '.join(addressed)}" if addressed else "addressed 0",
        *_agent_run(p),
    ]


@_renders(ev.PullRequestMerged)
def _merged(p: Mapping[str, Any]) -> list[str]:
    return [f"#{p.get('number')}", f"at {p['merged_at']}" if p.get("merged_at") else ""]


@_renders(ev.PullRequestWatched)
def _watched(p: Mapping[str, Any]) -> list[str]:
    return [
        f"#{p.get('number')} updated {p.get('updated_at') or '?'}",
        f"head {str(p.get('head_sha', ''))[:10]}" if p.get("head_sha") else "",
        f"CI {p['ci']}" if p.get("ci") else "",
    ]


@_renders(ev.LeaseExpired)
def _lease_expired(p: Mapping[str, Any]) -> list[str]:
    return [f"{p.get('reason')} (holder pid {p.get('holder', {}).get('pid', '?')})"]


@_renders(ev.Held)
def _held(p: Mapping[str, Any]) -> list[str]:
    return [f"reason {p.get('reason')}"]


@_renders(ev.PullRequestOpened, ev.PullRequestAdopted)
def _pull_request(p: Mapping[str, Any]) -> list[str]:
    return [f"#{p.get('number')} {p.get('url', '')}".strip()]


@_renders(ev.PullRequestRequested)
def _pull_request_requested(p: Mapping[str, Any]) -> list[str]:
    return [f"branch {p.get('branch')} key {p.get('key')}"]


@_renders(ev.BranchPushed)
def _branch_pushed(p: Mapping[str, Any]) -> list[str]:
    return [f"{p.get('branch')} @ {str(p.get('sha', ''))[:10]}"]


@_renders(ev.CommentRequested, ev.CommentPosted)
def _comment(p: Mapping[str, Any]) -> list[str]:
    return [f"key {p.get('key')}"]


@_renders(ev.PlanInvalidated)
def _plan_invalidated(p: Mapping[str, Any]) -> list[str]:
    return [str(p.get("reason", ""))]


@_renders(ev.Released, ev.RetryRequested)
def _by(p: Mapping[str, Any]) -> list[str]:
    return [f"by {p['by']}"] if p.get("by") else []


def _nothing(p: Mapping[str, Any]) -> list[str]:
    return []


# the rest say all in their type's name (IssueClosed) or belong to no issue's history
for _name in ev.EVENT_TYPES:
    RENDERERS.setdefault(_name, _nothing)


def event_facts(event: StoredEvent) -> str:
    """The key facts of one event, one short line (its type's renderer)."""
    parts = RENDERERS.get(event.type, _nothing)(event.payload)
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


def history_lines(issue: str, view: Any, events: Sequence[Any]) -> list[str]:
    """``ghw history``'s text: a header (title, state, cost), then one line per event."""
    lines = [
        f"{issue}  {view.title if view else ''}",
        f"state {view.state if view else '?'}  cost ${view.cost_usd if view else 0:.4f}",
    ]
    for e in events:
        actor = e.actor.get("worker") or f"pid {e.actor.get('pid')}"
        lines.append(
            f"{e.ts[:19].replace('T', ' ')}  #{e.seq:<6} {e.type:<22} {actor:<16} {event_facts(e)}"
        )
    return lines
