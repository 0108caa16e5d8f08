"""Preflight: the files a configuration names, checked for the phases about to run.

Loading a configuration checks its structure (types, durations, names) for every command; the
files it points at (prompt templates, scripted-agent scripts) are checked here, by the commands
that will read them, so that `ghw status` does not fail over a prompt file only `ghw plan` needs.
`ghw config validate` checks them for every phase.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ghw.agents.scripted_script import ScriptError, load_script
from ghw.config.loader import PHASES, Config, describe_source
from ghw.config.schema import BUILTIN_AGENTS
from ghw.errors import ConfigError

__all__ = ["check_all_files", "check_runtime_files"]


def check_runtime_files(config: Config, phases: Iterable[str]) -> None:
    """Raise ConfigError (exit 2) when a file that ``phases`` will read is missing or unusable.

    ``phases`` are phase names; ``plan``, ``implement`` and ``review`` read ``prompts.<phase>``
    (when set) and run ``config.agent_for(phase)``, whose ``agents.<name>.script`` must load when
    it is the scripted agent. Other names (``sync``) need no file. Every problem is reported,
    one per line, each naming the key, where it was set and the fix. Nothing is created.
    """
    problems = _problems(config, [p for p in dict.fromkeys(phases) if p in PHASES])
    if problems:
        raise ConfigError("\n".join(problems))


def check_all_files(config: Config) -> None:
    """What `ghw config validate` checks: every phase's files, and every scripted agent's
    script that is set, whether or not a phase uses that agent today (`--agent` may)."""
    problems = _problems(config, list(PHASES))
    for name in config.agent_names:
        if _adapter(config, name) == "scripted" and name not in _phase_agents(config, PHASES):
            problems.extend(_script_problems(config, name))
    if problems:
        raise ConfigError("\n".join(dict.fromkeys(problems)))


def _phase_agents(config: Config, phases: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(config.agent_for(phase) for phase in phases))


def _problems(config: Config, phases: list[str]) -> list[str]:
    problems: list[str] = []
    for phase in phases:
        problems.extend(_prompt_problems(config, phase))
    for name in _phase_agents(config, phases):
        if _adapter(config, name) == "scripted":
            problems.extend(_script_problems(config, name))
    return problems


def _adapter(config: Config, name: str) -> str | None:
    if name in BUILTIN_AGENTS:
        return name
    kind = config.get(f"agents.{name}.type")
    return kind if isinstance(kind, str) else None


def _where(config: Config, key: str) -> str:
    return describe_source(config.sources.get(key, "default"))


def _read(
    config: Config, key: str, path: Path, what: str, fix: str
) -> tuple[str | None, str | None]:
    """(text, None) or (None, problem)."""
    where = _where(config, key)
    try:
        return path.read_text(encoding="utf-8"), None
    except FileNotFoundError:
        return None, f"{where}: `{key}` names {path}, which does not exist. {fix}"
    except IsADirectoryError:
        return None, f"{where}: `{key}` names {path}, a directory, not {what}. {fix}"
    except UnicodeDecodeError:
        return None, f"{where}: `{key}` names {path}, which is not UTF-8 text. {fix}"
    except OSError as exc:
        return None, f"{where}: `{key}` names {path}, which cannot be read: {exc.strerror}. {fix}"


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _prompt_problems(config: Config, phase: str) -> list[str]:
    key = f"prompts.{phase}"
    value = config.get(key)
    if value is None:
        return []
    path = Path(value)
    fix = f"Create it, or remove `{key}` to use the built-in {phase} template."
    text, problem = _read(config, key, path, "a template file", fix)
    if problem is not None:
        return [problem]
    try:
        # the phase fills the template with str.format_map; unknown names become ""
        (text or "").format_map(_Blank())
    except (ValueError, IndexError, AttributeError, KeyError) as exc:
        return [
            f"{_where(config, key)}: `{key}` names {path}, which is not a usable template: "
            f"{exc}. Placeholders are {{name}}; write a literal brace as {{{{ or }}}}."
        ]
    return []


def _script_problems(config: Config, name: str) -> list[str]:
    key = f"agents.{name}.script"
    value = config.get(key)
    if value is None:
        return []  # the scripted agent's built-in behaviour needs no script
    path = Path(value)
    fix = f"Create it (docs/agents.md describes the format), or remove `{key}`."
    _text, problem = _read(config, key, path, "a script file", fix)
    if problem is not None:
        return [problem]
    try:
        load_script(path)
    except ScriptError as exc:
        detail = str(exc).rstrip(".")
        return [f"{_where(config, key)}: `{key}`: {detail}. Fix the script (see docs/agents.md)."]
    return []
