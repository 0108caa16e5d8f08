"""The agent's environment: built from scratch, never inherited (product spec §5).

An agent runs model-written commands, so it must not see ghw's GitHub token or anything else in
ghw's environment that nobody chose to give it. :func:`build_agent_env` is pure; the directories
it points at are made by :func:`prepare_ghw_home`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ghw.errors import ConfigError

__all__ = [
    "BASE_VARS",
    "FORBIDDEN_VARS",
    "MIN_SECRET_LEN",
    "AgentHome",
    "build_agent_env",
    "clean_env",
    "prepare_ghw_home",
    "resolve_refs",
]

# Copied from ghw's environment when present; everything else must be configured explicitly.
BASE_VARS = ("PATH", "HOME", "LANG", "TERM", "TMPDIR", "USER")
FORBIDDEN_VARS = frozenset({"GITHUB_TOKEN", "GH_TOKEN"})
# Shorter "secrets" would redact half of every transcript and cannot be real tokens.
MIN_SECRET_LEN = 4

_REF = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")

_GITCONFIG = """\
# Written by ghw: the global git config of coding agents (GIT_CONFIG_GLOBAL).
# It holds no credentials on purpose; ghw pushes, agents only commit locally.
[user]
\tname = ghw agent
\temail = ghw-agent@localhost
[credential]
\thelper =
"""


@dataclass(frozen=True)
class AgentHome:
    """ghw-owned paths that replace the user's gh and git configuration for agents."""

    gh_config_dir: Path
    git_config_global: Path

    @classmethod
    def under(cls, ghw_home: Path) -> AgentHome:
        return cls(ghw_home / "agent-gh-config", ghw_home / "agent-gitconfig")


def prepare_ghw_home(ghw_home: Path) -> AgentHome:
    """Create the empty gh config dir and the ghw-owned git config file (idempotent)."""
    home = AgentHome.under(ghw_home)
    home.gh_config_dir.mkdir(parents=True, exist_ok=True)
    path = home.git_config_global
    if not path.exists() or path.read_text(encoding="utf-8", errors="replace") != _GITCONFIG:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(_GITCONFIG, encoding="utf-8")
        os.replace(tmp, path)  # atomic, so a concurrent agent never reads half a file
    return home


def resolve_refs(value: str, parent_env: Mapping[str, str], *, key: str = "") -> str:
    """Replace ``${VAR}`` with ``parent_env[VAR]`` (``$$`` is a literal ``$``).

    A reference to an unset variable is a configuration error naming both, so a missing API key
    fails before the agent starts instead of as a confusing authentication error later.
    """

    def sub(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        if name not in parent_env:
            where = f"agents env {key}: " if key else ""
            raise ConfigError(
                f"{where}${{{name}}} is not set in ghw's environment; export {name} or change "
                "the value"
            )
        return parent_env[name]

    return _REF.sub(sub, value)


def _real_secrets(secrets: Iterable[str]) -> list[str]:
    return [s for s in secrets if s and len(s) >= MIN_SECRET_LEN]


def build_agent_env(
    parent_env: Mapping[str, str],
    configured: Mapping[str, str],
    *,
    home: AgentHome,
    secrets: Iterable[str] = (),
    secret_env_names: Iterable[str] = (),
    adapter_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The complete environment of one agent process.

    Layers, later wins: the clean base (``BASE_VARS`` from ``parent_env``), the adapter's own
    needs (e.g. Claude's no-telemetry switch), then ``agents.<name>.env`` with ``${VAR}``
    resolved. The git/gh isolation variables are set last so no configuration can undo them.
    Finally every forbidden name, and every variable whose value contains a secret, is dropped.
    """
    return clean_env(
        parent_env,
        configured,
        secrets=secrets,
        secret_env_names=secret_env_names,
        base=adapter_env,
        fixed={
            "GH_CONFIG_DIR": str(home.gh_config_dir),
            "GIT_CONFIG_GLOBAL": str(home.git_config_global),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        },
    )


def clean_env(
    parent_env: Mapping[str, str],
    configured: Mapping[str, str],
    *,
    secrets: Iterable[str] = (),
    secret_env_names: Iterable[str] = (),
    base: Mapping[str, str] | None = None,
    fixed: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """An environment built from scratch, for any program ghw runs that is not ghw itself
    (agents, ``hooks.*``, ``notify.command``).

    Layers, later wins: ``BASE_VARS`` from ``parent_env``, ``base``, ``configured`` (``${VAR}``
    resolved from ``parent_env``), ``fixed``. Then every forbidden name (``GITHUB_TOKEN``,
    ``GH_TOKEN``, ``secret_env_names``) and every variable whose value contains a secret is
    dropped, whatever the configuration says.
    """
    env: dict[str, str] = {k: parent_env[k] for k in BASE_VARS if k in parent_env}
    env.update(base or {})
    for key, raw in configured.items():
        env[key] = resolve_refs(str(raw), parent_env, key=key)
    env.update(fixed or {})
    forbidden = FORBIDDEN_VARS | set(secret_env_names)
    real = _real_secrets(secrets)
    return {k: v for k, v in env.items() if k not in forbidden and not any(s in v for s in real)}
