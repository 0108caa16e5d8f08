"""Load, merge and validate configuration: flag > environment > file > default (§8).

Errors name the file, the line, the key and the fix, and are :class:`~ghw.errors.ConfigError`
(exit 2). Nothing here reads the process environment or the home directory directly: both are
passed in, so tests build any situation.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from ghw.config.schema import AGENT_FIELDS, BUILTIN_AGENTS, KEYS, KeySpec, env_var, spec_for
from ghw.durations import ACCEPTED_FORMS, parse_duration
from ghw.errors import ConfigError, InvalidDurationError, MissingIssuesPathError, UsageError
from ghw.refs import validate_repo_or_pattern

__all__ = [
    "Config",
    "config_file_path",
    "load_config",
    "parse_value",
    "redact_value",
]

PHASES = ("plan", "implement", "review")


def config_file_path(explicit: str | os.PathLike[str] | None, environ: Mapping[str, str]) -> Path:
    """``--config``, else ``$GHW_CONFIG``, else ``~/.config/ghw/config.yaml``."""
    if explicit:
        return Path(explicit).expanduser()
    if environ.get("GHW_CONFIG"):
        return Path(environ["GHW_CONFIG"]).expanduser()
    home = environ.get("HOME") or str(Path.home())
    return Path(home) / ".config" / "ghw" / "config.yaml"


@dataclass(frozen=True)
class Config:
    """The effective configuration: one value per dotted key, and where each came from."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]
    path: Path | None
    agent_names: tuple[str, ...] = field(default=())

    def __getitem__(self, key: str) -> Any:
        if key in self.values:
            return self.values[key]
        spec = spec_for(key)
        if spec is None:
            raise KeyError(key)
        return _default(spec, key, self.values)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    # --- helpers the rest of ghw uses ---------------------------------------------------------

    @property
    def issues_path(self) -> Path:
        value = self.values.get("issues_path")
        if value is None:
            where = f" in {self.path}" if self.path else ""
            raise MissingIssuesPathError(
                f"issues_path is not set{where}: ghw needs a directory for issue files, workspaces "
                "and its ledger. Set it with `ghw init --issues-path DIR` or "
                "`ghw config set issues_path DIR` (or the GHW_ISSUES_PATH environment variable)."
            )
        return Path(value)

    @property
    def ledger_path(self) -> Path:
        value = self.values.get("ledger")
        return Path(value) if value is not None else self.issues_path / "ghw.db"

    def agent_for(self, phase: str) -> str:
        return self.values.get(f"agent.{phase}") or self.values["agent.default"]

    def parallelism(self, phase: str) -> int:
        return int(self.values[f"{phase}.parallelism"])

    def agent(self, name: str) -> dict[str, Any]:
        """``agents.<name>.*`` with defaults filled in."""
        out: dict[str, Any] = {}
        for fname, fspec in AGENT_FIELDS.items():
            key = f"agents.{name}.{fname}"
            out[fname] = self.values.get(key, _convert_default(fspec))
        return out

    def seconds(self, key: str) -> float:
        value = self[key]
        return value.total_seconds() if isinstance(value, timedelta) else float(value)

    def shown(self) -> list[tuple[str, Any, str]]:
        """(key, display value, source) for `config show`, secrets redacted."""
        rows = []
        for key in sorted(self.values):
            spec = spec_for(key)
            value = self.values[key]
            if spec is not None and spec.secret:
                value = redact_value(value)
            rows.append((key, _display(value), self.sources.get(key, "default")))
        return rows


def redact_value(value: Any) -> Any:
    """Hide literal secrets; ``${VAR}`` references are not secrets and stay readable."""
    if isinstance(value, Mapping):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, str) and not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", value):
        return "***"
    return value


def _display(value: Any) -> Any:
    if isinstance(value, timedelta):
        from ghw.durations import format_duration

        return format_duration(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _default(spec: KeySpec, key: str, values: Mapping[str, Any]) -> Any:
    if key == "github.write_interval":
        return (
            timedelta(0) if _is_loopback(values.get("github.api_url", "")) else timedelta(seconds=1)
        )
    return _convert_default(spec)


def _convert_default(spec: KeySpec) -> Any:
    if spec.default is None:
        return None
    if spec.kind == "duration":
        return parse_duration(spec.default)
    if spec.kind == "list":
        return tuple(spec.default)
    if spec.kind == "map":
        return dict(spec.default)
    return spec.default


def _is_loopback(url: str) -> bool:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Where:
    """Where a value came from, for error messages and `config show`."""

    def __init__(self, source: str, path: Path | None = None, line: int | None = None) -> None:
        self.source = source
        self.path = path
        self.line = line

    def describe(self) -> str:
        if self.source == "file":
            return f"{self.path}, line {self.line}"
        return self.source

    def short(self) -> str:
        if self.source == "file":
            return f"file:{self.path}:{self.line}"
        return self.source


def _type_error(spec: KeySpec, key: str, value: Any, where: _Where, expected: str) -> ConfigError:
    example = {
        "int": "2",
        "float": "1.5",
        "bool": "true",
        "duration": "30m",
        "list": "[a, b]",
        "map": "{KEY: value}",
        "url": "https://api.github.com",
        "path": "/var/lib/ghw",
    }.get(spec.kind, "value")
    if spec.choices:
        example = spec.choices[0]
    return ConfigError(
        f"configuration error ({where.describe()}): `{key}` must be {expected}, got {value!r}. "
        f"Fix it, e.g. `{key}: {example}`, or run `ghw config set {key} {example}`."
    )


def parse_value(spec: KeySpec, key: str, value: Any, where: _Where, base_dir: Path | None) -> Any:
    """Convert and check one raw value (from YAML, or a string from env/flag)."""
    from_text = where.source != "file"
    if value is None:
        if spec.optional:
            return None
        raise _type_error(spec, key, value, where, f"set ({spec.kind})")
    kind = spec.kind
    if kind in ("str", "choice", "url", "path"):
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise _type_error(spec, key, value, where, "a string")
        text = str(value)
        if kind == "choice" and text not in spec.choices:
            raise _type_error(spec, key, value, where, f"one of {', '.join(spec.choices)}")
        if kind == "url":
            parsed = urlparse(text)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise _type_error(spec, key, value, where, "an http(s) URL")
            return text.rstrip("/")
        if kind == "path":
            p = Path(text).expanduser()
            if not p.is_absolute():
                p = (base_dir or Path.cwd()) / p
            return p
        return text
    if kind == "int":
        if from_text and isinstance(value, str):
            value = value.strip()
            if value.lower() in ("none", "null", "") and spec.optional:
                return None
            if not re.fullmatch(r"-?\d+", value):
                raise _type_error(spec, key, value, where, "an integer")
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _type_error(spec, key, value, where, "an integer")
        if spec.minimum is not None and value < spec.minimum:
            raise _type_error(spec, key, value, where, f"an integer ≥ {int(spec.minimum)}")
        return value
    if kind == "float":
        if from_text and isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise _type_error(spec, key, value, where, "a number") from None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _type_error(spec, key, value, where, "a number")
        if spec.minimum is not None and value < spec.minimum:
            raise _type_error(spec, key, value, where, f"a number ≥ {spec.minimum}")
        return float(value)
    if kind == "bool":
        if from_text and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
        if not isinstance(value, bool):
            raise _type_error(spec, key, value, where, "true or false")
        return value
    if kind == "duration":
        try:
            return parse_duration(str(value)) if not isinstance(value, bool) else None
        except InvalidDurationError:
            raise _type_error(spec, key, value, where, f"a duration ({ACCEPTED_FORMS})") from None
    if kind == "list":
        if from_text and isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        if not isinstance(value, list) or not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in value
        ):
            raise _type_error(spec, key, value, where, "a list of strings")
        return tuple(str(v) for v in value)
    if kind == "map":
        if not isinstance(value, dict) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in value.values()
        ):
            raise _type_error(spec, key, value, where, "a map of names to strings")
        return {str(k): str(v) for k, v in value.items()}
    raise AssertionError(kind)


def _known_keys(agent_names: tuple[str, ...]) -> list[str]:
    keys = [s.key for s in KEYS]
    for name in agent_names:
        keys.extend(f"agents.{name}.{f}" for f in AGENT_FIELDS)
    return keys


def _unknown(key: str, where: _Where, agent_names: tuple[str, ...]) -> ConfigError:
    close = difflib.get_close_matches(key, _known_keys(agent_names), n=1, cutoff=0.5)
    hint = f" Did you mean `{close[0]}`?" if close else " See `ghw config show` for every key."
    return ConfigError(f"configuration error ({where.describe()}): unknown key `{key}`.{hint}")


def _flatten_file(path: Path, text: str) -> tuple[dict[str, tuple[Any, int]], tuple[str, ...]]:
    """Dotted key -> (raw value, line) from the YAML text, with exact line numbers."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"configuration error ({path}{where}): the file is not valid YAML: {problem}. "
            "Fix the syntax there (indentation, a missing ':' or an unclosed quote)."
        ) from None
    if root is None or data is None:
        return {}, ()
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        raise ConfigError(
            f"configuration error ({path}, line 1): the file must be a mapping of keys to values "
            "(e.g. `issues_path: /var/lib/ghw`)."
        )
    flat: dict[str, tuple[Any, int]] = {}
    agent_names: list[str] = []

    def walk(node: yaml.MappingNode, value: dict[str, Any], prefix: str) -> None:
        for key_node, value_node in node.value:
            name = str(key_node.value)
            key = f"{prefix}{name}"
            line = key_node.start_mark.line + 1
            raw = value.get(key_node.value) if isinstance(value, dict) else None
            if key == "agents":
                if not isinstance(value_node, yaml.MappingNode) or not isinstance(raw, dict):
                    raise ConfigError(
                        f"configuration error ({path}, line {line}): `agents` must map agent "
                        "names to their settings, e.g. `agents: {claude-code: {model: sonnet}}`."
                    )
                for agent_key, agent_node in value_node.value:
                    agent_names.append(str(agent_key.value))
                    agent_raw = raw.get(agent_key.value)
                    if isinstance(agent_node, yaml.MappingNode) and isinstance(agent_raw, dict):
                        walk(agent_node, agent_raw, f"agents.{agent_key.value}.")
                    else:
                        flat[f"agents.{agent_key.value}"] = (
                            agent_raw,
                            agent_key.start_mark.line + 1,
                        )
                continue
            spec = spec_for(key)
            if spec is None and isinstance(value_node, yaml.MappingNode) and isinstance(raw, dict):
                walk(value_node, raw, f"{key}.")
            else:
                flat[key] = (raw, line)

    walk(root, data, "")
    return flat, tuple(agent_names)


def load_config(
    path: Path | None,
    environ: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
    *,
    must_exist: bool = False,
) -> Config:
    """Build the effective configuration.

    ``overrides`` are command-line flags (strings or already-typed values) and win over all.
    A missing file is an empty one unless ``must_exist`` (an explicit ``--config``).
    """
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    file_entries: dict[str, tuple[Any, int]] = {}
    agent_names: tuple[str, ...] = ()
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if must_exist:
                raise ConfigError(
                    f"configuration error: the config file {path} does not exist. Create it with "
                    f"`ghw init --issues-path DIR --config {path}` or pass another --config."
                ) from None
            text = ""
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"configuration error: cannot read {path}: {exc}") from None
        file_entries, agent_names = _flatten_file(path, text)
    all_agents = tuple(dict.fromkeys((*BUILTIN_AGENTS, *agent_names)))
    base_dir = path.parent if path is not None else None
    for key, (raw, line) in file_entries.items():
        where = _Where("file", path, line)
        spec = spec_for(key)
        if spec is None:
            raise _unknown(key, where, all_agents)
        values[key] = parse_value(spec, key, raw, where, base_dir)
        sources[key] = where.short()
    # environment: scalar keys and comma lists only; maps come from the file
    for spec in KEYS:
        _from_env(spec, spec.key, environ, values, sources)
    for name in all_agents:
        for fname, fspec in AGENT_FIELDS.items():
            if fspec.kind == "map":
                continue
            key = f"agents.{name}.{fname}"
            _from_env(spec_for(key), key, environ, values, sources)  # type: ignore[arg-type]
    for key, raw in (overrides or {}).items():
        if raw is None:
            continue
        spec = spec_for(key)
        if spec is None:
            raise ConfigError(f"unknown configuration key `{key}`")
        values[key] = (
            parse_value(spec, key, raw, _Where("flag"), None) if isinstance(raw, str) else raw
        )
        sources[key] = "flag"
    # defaults for everything not set, so `config show` lists the whole table
    for spec in KEYS:
        if spec.key not in values:
            values[spec.key] = _default(spec, spec.key, values)
            sources[spec.key] = "default"
    _check_agents(values, sources, all_agents)
    _check_repos(values, sources)
    return Config(values=values, sources=sources, path=path, agent_names=all_agents)


def _from_env(
    spec: KeySpec,
    key: str,
    environ: Mapping[str, str],
    values: dict[str, Any],
    sources: dict[str, str],
) -> None:
    name = env_var(key)
    if name in environ:
        values[key] = parse_value(spec, key, environ[name], _Where(f"env:{name}"), None)
        sources[key] = f"env:{name}"


def _check_repos(values: dict[str, Any], sources: dict[str, str]) -> None:
    """Every `repos` entry is owner/name or owner/* (a path or an option is refused, exit 2)."""
    for name in values.get("repos") or ():
        try:
            validate_repo_or_pattern(str(name))
        except UsageError as exc:
            raise ConfigError(
                f"configuration error ({sources.get('repos', 'repos')}): `repos`: {exc}"
            ) from None


def _check_agents(values: dict[str, Any], sources: dict[str, str], names: tuple[str, ...]) -> None:
    for key in ("agent.default", *(f"agent.{p}" for p in PHASES)):
        name = values.get(key)
        if name is not None and name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            raise ConfigError(
                f"configuration error ({sources.get(key, key)}): `{key}` names the agent "
                f"`{name}`, which is neither built in ({', '.join(BUILTIN_AGENTS)}) nor configured "
                f"under `agents:`.{hint}"
            )
