"""Every configuration key of §8: its type, default and one line of help."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ghw.phase_names import AGENT_PHASE_NAMES

__all__ = [
    "AGENT_FIELDS",
    "ASSOCIATIONS",
    "BUILTIN_AGENTS",
    "KEYS",
    "KeySpec",
    "env_var",
    "spec_for",
]

BUILTIN_AGENTS = (
    "claude-code",
    "codex",
    "gemini",
    "opencode",
    "cursor-agent",
    "command",
    "scripted",
)

# GitHub's author_association values (REST and GraphQL `CommentAuthorAssociation`).
ASSOCIATIONS = (
    "OWNER",
    "MEMBER",
    "COLLABORATOR",
    "CONTRIBUTOR",
    "FIRST_TIME_CONTRIBUTOR",
    "FIRST_TIMER",
    "MANNEQUIN",
    "NONE",
)


@dataclass(frozen=True)
class KeySpec:
    key: str
    kind: str  # path, str, url, int, float, bool, duration, list, map, choice
    default: Any
    help: str
    optional: bool = False  # None allowed (written `null` or left out)
    choices: tuple[str, ...] = ()
    minimum: float | None = None  # ints and floats
    maximum: float | None = None  # ints: a bound that keeps a typo from starting 10**20 agents
    secret: bool = False
    # durations only: why 0s is refused (None = 0s is meaningful for this key)
    nonzero: str | None = None


def _k(key: str, kind: str, default: Any, help: str, **kw: Any) -> KeySpec:
    return KeySpec(key, kind, default, help, **kw)


KEYS: tuple[KeySpec, ...] = (
    _k(
        "issues_path",
        "path",
        None,
        "where ghw keeps issue files, workspaces and the ledger",
        optional=True,
    ),
    _k("ledger", "path", None, "the ledger file (default <issues_path>/ghw.db)", optional=True),
    _k(
        "ledger_max_pages",
        "int",
        None,
        "cap on the ledger's size in pages (SQLite max_page_count)",
        optional=True,
        minimum=1,
    ),
    _k("repos", "list", [], "registered repositories, owner/name (owner/* allowed)"),
    _k(
        "github.api_url",
        "url",
        "https://api.github.com",
        "GitHub API base (Enterprise: https://HOST/api/v3)",
    ),
    _k(
        "github.token_env",
        "list",
        ["GITHUB_TOKEN", "GH_TOKEN"],
        "environment variables tried for the token",
    ),
    _k(
        "github.timeout",
        "duration",
        "30s",
        "HTTP timeout",
        nonzero="every request would time out at once",
    ),
    _k(
        "github.write_interval",
        "duration",
        None,
        "pause between mutating requests (default 1s; 0s for loopback URLs)",
        optional=True,
    ),
    _k("github.max_rate_wait", "duration", "1h", "longest wait for a rate limit before failing"),
    _k("agent.default", "str", "claude-code", "agent used by every phase unless overridden"),
    *(
        _k(
            f"agent.{p}",
            "str",
            None,
            f"agent for the {p} phase (default agent.default)",
            optional=True,
        )
        for p in AGENT_PHASE_NAMES
    ),
    *(
        _k(
            f"{p}.parallelism",
            "int",
            2,
            f"agents running at once in the {p} phase",
            minimum=1,
            maximum=64,
        )
        for p in AGENT_PHASE_NAMES
    ),
    _k("implement.draft", "bool", False, "open pull requests as drafts"),
    _k("implement.keep_workspace", "bool", False, "keep issue workspaces after the step"),
    _k("review.comment", "bool", False, "also post the review as a PR comment"),
    _k(
        "followup.enabled",
        "bool",
        True,
        "watch ghw's open PRs and revise them on trusted feedback, failing CI and conflicts",
    ),
    _k(
        "followup.max_rounds",
        "int",
        3,
        "revision rounds per PR before the issue is held (max_rounds)",
        minimum=1,
        maximum=100,
    ),
    _k(
        "followup.max_age",
        "duration",
        "14d",
        "stop watching a PR this long after ghw opened it",
        nonzero="every PR would be too old to watch at once",
    ),
    _k(
        "retry.max_attempts",
        "int",
        3,
        "attempts per step before it waits for `ghw retry`",
        minimum=1,
    ),
    _k("retry.backoff", "duration", "1m", "first retry delay (doubles each attempt)"),
    _k("retry.max_backoff", "duration", "1h", "longest retry delay"),
    _k(
        "budget.per_issue_usd",
        "float",
        None,
        "hold an issue once its cost reaches this",
        optional=True,
        minimum=0,
    ),
    _k(
        "budget.per_cycle_usd",
        "float",
        None,
        "start no new step once a cycle's cost reaches this",
        optional=True,
        minimum=0,
    ),
    _k(
        "policy.trusted_associations",
        "list",
        ["OWNER", "MEMBER", "COLLABORATOR"],
        "author associations whose issues reach an agent",
    ),
    _k(
        "policy.trusted_label",
        "str",
        None,
        "a label that makes any author's issue eligible",
        optional=True,
    ),
    _k(
        "policy.trigger_label",
        "str",
        None,
        "when set, only issues with this label are eligible",
        optional=True,
    ),
    _k("policy.include_labels", "list", [], "when set, an issue needs one of these labels"),
    _k("policy.exclude_labels", "list", [], "issues with any of these labels are skipped"),
    _k(
        "policy.max_new_per_cycle",
        "int",
        5,
        "new issues planned per cycle (null = unlimited)",
        optional=True,
        minimum=0,
    ),
    _k("git.author", "str", "ghw <ghw@localhost>", "author of ghw's commits, 'Name <email>'"),
    _k(
        "lease.ttl",
        "duration",
        "5m",
        "how long a claim lasts without renewal",
        nonzero="every claim would expire as it is taken",
    ),
    _k(
        "shutdown.grace", "duration", "10s", "time running agents get to finish on Ctrl+C / SIGTERM"
    ),
    _k(
        "loop.failure_backoff_max",
        "duration",
        "1h",
        "longest extra wait after consecutive failed cycles",
    ),
    *(
        _k(
            f"prompts.{p}",
            "path",
            None,
            f"{p} prompt template (default: built in)",
            optional=True,
        )
        for p in AGENT_PHASE_NAMES
    ),
    _k("hooks.pre_cycle", "str", None, "command run before each cycle", optional=True),
    _k(
        "hooks.post_cycle",
        "str",
        None,
        "command run after each cycle (JSON summary on stdin)",
        optional=True,
    ),
    _k(
        "hooks.env",
        "map",
        {},
        "environment of hooks and notify.command beyond the clean base (PATH, HOME, LANG, TERM, "
        "TMPDIR, USER); values may be ${VAR} references",
        secret=True,
    ),
    _k(
        "notify.command",
        "str",
        None,
        "command run after a failed cycle (JSON summary on stdin)",
        optional=True,
    ),
    _k("log.format", "choice", "auto", "log format on stderr", choices=("auto", "human", "json")),
    _k(
        "log.level",
        "choice",
        "info",
        "log level",
        choices=("debug", "info", "warning", "error", "critical"),
    ),
)

# agents.<name>.<field>
AGENT_FIELDS: dict[str, KeySpec] = {
    "command": _k(
        "command", "str", None, "program to run (default: the CLI's own name)", optional=True
    ),
    "args": _k("args", "list", [], "extra arguments"),
    "model": _k("model", "str", None, "model name passed to the CLI", optional=True),
    "timeout": _k(
        "timeout",
        "duration",
        "30m",
        "longest run of one step",
        nonzero="every agent run would be killed as it starts",
    ),
    "env": _k("env", "map", {}, "extra environment; values may be ${VAR} references", secret=True),
    "script": _k("script", "path", None, "scripted agent: the YAML script to play", optional=True),
    "delay": _k("delay", "duration", "0s", "scripted agent: how long each run takes"),
    "type": _k(
        "type",
        "str",
        None,
        "built-in adapter of a user-named agent (docs/agents.md)",
        optional=True,
    ),
}

_STATIC = {spec.key: spec for spec in KEYS}
_AGENT_KEY = re.compile(r"^agents\.([A-Za-z0-9_-]+)\.([a-z_]+)$")


def spec_for(key: str) -> KeySpec | None:
    """The spec of a dotted key, including the per-agent ``agents.<name>.<field>`` keys."""
    if key in _STATIC:
        return _STATIC[key]
    match = _AGENT_KEY.match(key)
    if match and match.group(2) in AGENT_FIELDS:
        return replace(AGENT_FIELDS[match.group(2)], key=key)
    return None


def env_var(key: str) -> str:
    """``plan.parallelism`` -> ``GHW_PLAN_PARALLELISM``."""
    return "GHW_" + key.upper().replace(".", "_").replace("-", "_")
