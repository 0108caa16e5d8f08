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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from ghw.config.schema import (
    AGENT_FIELDS,
    ASSOCIATIONS,
    BUILTIN_AGENTS,
    KEYS,
    KeySpec,
    env_var,
    spec_for,
)
from ghw.durations import ACCEPTED_FORMS, format_duration, parse_duration
from ghw.errors import ConfigError, InvalidDurationError, MissingIssuesPathError, UsageError
from ghw.phase_names import AGENT_PHASE_NAMES
from ghw.refs import validate_repo_or_pattern

__all__ = [
    "PHASES",
    "Config",
    "config_file_path",
    "describe_source",
    "format_value",
    "load_config",
    "parse_value",
    "redact_value",
    "yaml_error",
]

PHASES = AGENT_PHASE_NAMES  # the phases that run an agent (ghw/phase_names.py)


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
        """The issues directory; ConfigError when it is unset, a file, or cannot be created.

        Nothing is created here: reading commands only look."""
        value = self.values.get("issues_path")
        if value is None:
            where = str(self.path) if self.path else "the configuration"
            raise MissingIssuesPathError(
                f"{where}: `issues_path` is not set: ghw needs a directory for issue files, "
                "workspaces and its ledger. Set it with `ghw init --issues-path DIR` or "
                "`ghw config set issues_path DIR` (or the GHW_ISSUES_PATH environment variable)."
            )
        path = Path(value)
        problem = _directory_problem(path)
        if problem is not None:
            source = self.sources.get("issues_path", "default")
            raise ConfigError(
                f"{describe_source(source)}: `issues_path` is {path}, {problem}; ghw needs a "
                f"directory there (or a path where it can create one). "
                + _fix_hint("issues_path", "/var/lib/ghw", "/var/lib/ghw", source)
            )
        return path

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
        """(key, JSON-ready value, source) for `config show --json` and logs, secrets redacted."""
        rows = []
        for key in sorted(self.values):
            rows.append((key, _display(self._redacted(key)), self.sources.get(key, "default")))
        return rows

    def shown_text(self) -> list[tuple[str, str, str]]:
        """(key, value, source) as `config show` prints them: plain YAML-ish values (``[a, b]``,
        ``{K: v}``, ``true``, ``(not set)``), sources as ``FILE, line N`` / ``environment
        variable NAME`` / ``default``; derived defaults show the value ghw will use."""
        rows = []
        for key in sorted(self.values):
            value = self._redacted(key)
            source = describe_source(self.sources.get(key, "default"))
            if value is None and key == "ledger":
                source = "default: <issues_path>/ghw.db"
                try:
                    value = self.ledger_path
                except MissingIssuesPathError:
                    value = "(needs issues_path)"
                except ConfigError:
                    value = "(issues_path is unusable: see `ghw config validate`)"
            elif value is None and key.startswith("agent.") and key != "agent.default":
                value, source = self.values["agent.default"], "default: agent.default"
            elif value is None and key.startswith("prompts."):
                value = "(built in)"
            elif value is None and key == "policy.max_new_per_cycle":
                value = "none (unlimited)"
            rows.append((key, format_value(value), source))
        return rows

    def _redacted(self, key: str) -> Any:
        spec = spec_for(key)
        value = self.values[key]
        return redact_value(value) if spec is not None and spec.secret else value


def redact_value(value: Any) -> Any:
    """Hide literal secrets; ``${VAR}`` references are not secrets and stay readable."""
    if isinstance(value, Mapping):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, str) and not re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", value):
        return "***"
    return value


def _display(value: Any) -> Any:
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def format_value(value: Any, *, none: str = "(not set)") -> str:
    """A value as a person reads it: YAML-ish, never a Python repr."""
    if value is None:
        return none
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v, none="null") for v in value) + "]"
    if isinstance(value, Mapping):
        items = (f"{k}: {format_value(v, none='null')}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, str) and value == "":
        return '""'
    return str(value)


def describe_source(source: str) -> str:
    """A source as `config show` stores it (``file:PATH:LINE``, ``env:NAME``, ``flag``,
    ``default``) in words: ``PATH, line LINE``, ``environment variable NAME``…"""
    if source.startswith("file:"):
        path, _, line = source[len("file:") :].rpartition(":")
        return f"{path}, line {line}"
    if source.startswith("env:"):
        return f"environment variable {source[len('env:') :]}"
    if source == "flag":
        return "command line"
    return source


def _fix_hint(key: str, yaml_example: str, text_example: str | None, source: str) -> str:
    """How to fix `key`, in the terms of where its value came from."""
    if text_example is None and not source.startswith("file:"):
        text_example = yaml_example
    if source.startswith("env:"):
        return f"Set {source[len('env:') :]}={text_example}, or unset it."
    if source == "flag":
        return f"Pass a valid value instead, e.g. {text_example}."
    if source == "command line":
        return f"Run e.g. `ghw config set {key} {text_example}`."
    if text_example is None:  # maps: `ghw config set` cannot write them
        return f"Fix it, e.g. `{key}: {yaml_example}`."
    return f"Fix it, e.g. `{key}: {yaml_example}`, or run `ghw config set {key} {text_example}`."


def _directory_problem(path: Path) -> str | None:
    """Why ``path`` cannot be (or become) a directory, or None. Creates nothing."""
    try:
        if path.exists():
            return None if path.is_dir() else "which is a file, not a directory"
        ancestor = path.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            return f"which cannot be created: {ancestor} is a file, not a directory"
        if not os.access(ancestor, os.W_OK | os.X_OK):
            return f"which cannot be created: {ancestor} is not writable"
    except OSError as exc:
        return f"which cannot be used: {exc.strerror or exc}"
    return None


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
        return describe_source(self.short())

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
    elif spec.kind in ("int", "duration", "url") and spec.default is not None:
        example = str(spec.default)
    text_example: str | None = example
    if spec.kind == "list":
        text_example = example.strip("[]").replace(", ", ",")
    elif spec.kind == "map":
        text_example = None
    got = format_value(value, none="null")
    return ConfigError(
        f"{where.describe()}: `{key}` must be {expected}, got `{got}`. "
        + _fix_hint(key, example, text_example, where.short())
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
        if spec.maximum is not None and value > spec.maximum:
            low = int(spec.minimum) if spec.minimum is not None else 0
            raise _type_error(
                spec, key, value, where, f"an integer from {low} to {int(spec.maximum)}"
            )
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
        if isinstance(value, bool):
            raise _type_error(spec, key, value, where, f"a duration ({ACCEPTED_FORMS})")
        try:
            duration = parse_duration(str(value))
        except InvalidDurationError:
            raise _type_error(spec, key, value, where, f"a duration ({ACCEPTED_FORMS})") from None
        if spec.nonzero and duration <= timedelta(0):
            raise _type_error(
                spec, key, value, where, f"a duration longer than 0s (with 0s {spec.nonzero})"
            )
        return duration
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


def _did_you_mean(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str:
    """`` Did you mean `x`?`` for the closest of ``choices``, or "" when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f" Did you mean `{close[0]}`?" if close else ""


def _unknown(key: str, where: _Where, agent_names: tuple[str, ...]) -> ConfigError:
    hint = _did_you_mean(key, _known_keys(agent_names), cutoff=0.5) or (
        " See `ghw config show` for every key."
    )
    return ConfigError(f"{where.describe()}: unknown key `{key}`.{hint}")


def yaml_error(path: Path, exc: yaml.YAMLError) -> ConfigError:
    """A YAML syntax error as a ConfigError naming the file, line and column."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return ConfigError(
        f"{path}{where}: the file is not valid YAML: {problem}. "
        "Fix the syntax there (indentation, a missing ':' or an unclosed quote)."
    )


def _flatten_file(path: Path, text: str) -> tuple[dict[str, tuple[Any, int]], dict[str, int]]:
    """Dotted key -> (raw value, line) from the YAML text, with exact line numbers; and each
    agent named under ``agents:`` -> its line. A key written twice in one mapping (YAML would
    keep only the last) is an error naming both lines."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise yaml_error(path, exc) from None
    if root is None or data is None:
        return {}, {}
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        raise ConfigError(
            f"{path}, line 1: the file must be a mapping of keys to values "
            "(e.g. `issues_path: /var/lib/ghw`)."
        )
    flat: dict[str, tuple[Any, int]] = {}
    agent_lines: dict[str, int] = {}

    def no_duplicates(node: yaml.MappingNode, prefix: str) -> None:
        seen: dict[str, int] = {}
        for key_node, _value_node in node.value:
            name = str(key_node.value)
            line = key_node.start_mark.line + 1
            if name in seen:
                raise ConfigError(
                    f"{path}, line {line}: `{prefix}{name}` is set twice (lines {seen[name]} and "
                    f"{line}); YAML would silently keep only the last. Remove one of them."
                )
            seen[name] = line

    def walk(node: yaml.MappingNode, value: dict[str, Any], prefix: str) -> None:
        no_duplicates(node, prefix)
        for key_node, value_node in node.value:
            name = str(key_node.value)
            key = f"{prefix}{name}"
            line = key_node.start_mark.line + 1
            raw = value.get(key_node.value) if isinstance(value, dict) else None
            if key == "agents":
                if not isinstance(value_node, yaml.MappingNode) or not isinstance(raw, dict):
                    raise ConfigError(
                        f"{path}, line {line}: `agents` must map agent names to their settings, "
                        "e.g. `agents: {claude-code: {model: sonnet}}`."
                    )
                no_duplicates(value_node, "agents.")
                for agent_key, agent_node in value_node.value:
                    agent = str(agent_key.value)
                    agent_line = agent_key.start_mark.line + 1
                    agent_lines[agent] = agent_line
                    agent_raw = raw.get(agent_key.value)
                    if not isinstance(agent_node, yaml.MappingNode) or not isinstance(
                        agent_raw, dict
                    ):
                        raise ConfigError(
                            f"{path}, line {agent_line}: `agents.{agent}` must map its settings "
                            f"to values, e.g. `agents: {{{agent}: {{model: sonnet}}}}`."
                        )
                    walk(agent_node, agent_raw, f"agents.{agent}.")
                continue
            spec = spec_for(key)
            if spec is None and isinstance(value_node, yaml.MappingNode) and isinstance(raw, dict):
                walk(value_node, raw, f"{key}.")
            else:
                flat[key] = (raw, line)

    walk(root, data, "")
    return flat, agent_lines


def load_config(
    path: Path | None,
    environ: Mapping[str, str],
    overrides: Mapping[str, Any] | None = None,
    *,
    must_exist: bool = False,
    text: str | None = None,
) -> Config:
    """Build the effective configuration.

    ``overrides`` are command-line flags (strings or already-typed values) and win over all.
    A missing file is an empty one unless ``must_exist`` (an explicit ``--config``) or the path
    is the one ``$GHW_CONFIG`` names. ``text``, when given, is used as the file's content instead
    of reading ``path`` (``config set`` checks the file it is about to write).
    """
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    file_entries: dict[str, tuple[Any, int]] = {}
    agent_lines: dict[str, int] = {}
    if path is not None:
        if text is None:
            text = _read_config_file(path, environ, must_exist=must_exist)
        file_entries, agent_lines = _flatten_file(path, text)
    all_agents = tuple(dict.fromkeys((*BUILTIN_AGENTS, *agent_lines)))
    base_dir = path.absolute().parent if path is not None else None
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
            raise _unknown(key, _Where("flag"), all_agents)
        values[key] = (
            parse_value(spec, key, raw, _Where("flag"), None) if isinstance(raw, str) else raw
        )
        sources[key] = "flag"
    # defaults for everything not set, so `config show` lists the whole table
    for spec in KEYS:
        if spec.key not in values:
            values[spec.key] = _default(spec, spec.key, values)
            sources[spec.key] = "default"
    _check_agent_types(values, sources, all_agents, path, agent_lines)
    _check_agents(values, sources, all_agents)
    _check_associations(values, sources)
    _check_repos(values, sources)
    return Config(values=values, sources=sources, path=path, agent_names=all_agents)


def _read_config_file(path: Path, environ: Mapping[str, str], *, must_exist: bool) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if must_exist:
            raise ConfigError(
                f"{path}: the config file does not exist. Create it with "
                f"`ghw --config {path} init --issues-path DIR`, or pass another --config."
            ) from None
        named = environ.get("GHW_CONFIG")
        if named and Path(named).expanduser() == path:
            raise ConfigError(
                f"{path}: the config file named by GHW_CONFIG does not exist. Create it with "
                "`ghw init --issues-path DIR` (it is written where GHW_CONFIG points), point "
                "GHW_CONFIG at an existing file, or unset it to use ~/.config/ghw/config.yaml."
            ) from None
        return ""
    except IsADirectoryError:
        raise ConfigError(
            f"{path}: the config file is a directory. Pass the YAML file itself "
            "(--config FILE or GHW_CONFIG=FILE)."
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: the config file is not UTF-8 text ({exc.reason} at byte {exc.start}). "
            "Save it as UTF-8 YAML."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the config file: {exc.strerror or exc}. "
            "Check the path and its permissions."
        ) from None


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
    """Every `repos` entry is owner/name or owner/* (a path or an option is refused, exit 2),
    kept as the validator returns it (GitHub's names are case-insensitive), once."""
    source = sources.get("repos", "default")
    checked = []
    for name in values.get("repos") or ():
        try:
            checked.append(validate_repo_or_pattern(str(name)))
        except UsageError as exc:
            raise ConfigError(f"{describe_source(source)}: `repos`: {exc.message}") from None
    values["repos"] = tuple(dict.fromkeys(checked))


def _check_associations(values: dict[str, Any], sources: dict[str, str]) -> None:
    """`policy.trusted_associations` holds GitHub's association names (any case; kept upper)."""
    key = "policy.trusted_associations"
    source = sources.get(key, "default")
    checked = []
    for item in values.get(key) or ():
        name = str(item).strip().upper()
        if name not in ASSOCIATIONS:
            hint = _did_you_mean(name, ASSOCIATIONS)
            raise ConfigError(
                f"{describe_source(source)}: `{key}` holds `{item}`, which is not one of GitHub's "
                f"author associations ({', '.join(ASSOCIATIONS)}).{hint} "
                + _fix_hint(
                    key, "[OWNER, MEMBER, COLLABORATOR]", "OWNER,MEMBER,COLLABORATOR", source
                )
            )
        checked.append(name)
    values[key] = tuple(dict.fromkeys(checked))


def _check_agent_types(
    values: dict[str, Any],
    sources: dict[str, str],
    names: tuple[str, ...],
    path: Path | None,
    agent_lines: Mapping[str, int],
) -> None:
    """A user-named agent needs `type`, a built-in adapter; a built-in agent runs its own."""
    builtins = ", ".join(BUILTIN_AGENTS)
    for name in names:
        key = f"agents.{name}.type"
        kind = values.get(key)
        where = describe_source(sources.get(key, "default"))
        if kind is None:
            if name not in BUILTIN_AGENTS:
                raise ConfigError(
                    f"{path}, line {agent_lines.get(name, 1)}: the agent `{name}` is not built in, "
                    f"so it needs `agents.{name}.type`: the built-in adapter it runs ({builtins}), "
                    f"e.g. `agents: {{{name}: {{type: claude-code}}}}`."
                )
            continue
        if kind not in BUILTIN_AGENTS:
            hint = _did_you_mean(kind, BUILTIN_AGENTS)
            raise ConfigError(
                f"{where}: `{key}` is `{kind}`, which is not a built-in adapter: use one of "
                f"{builtins}.{hint}"
            )
        if name in BUILTIN_AGENTS and kind != name:
            raise ConfigError(
                f"{where}: `{key}` is `{kind}`, but `{name}` is a built-in agent and always runs "
                f"its own adapter. Remove the key, or name the agent differently, e.g. "
                f"`agents: {{my-{kind}: {{type: {kind}}}}}`."
            )


def _check_agents(values: dict[str, Any], sources: dict[str, str], names: tuple[str, ...]) -> None:
    for key in ("agent.default", *(f"agent.{p}" for p in PHASES)):
        name = values.get(key)
        if name is not None and name not in names:
            hint = _did_you_mean(name, names)
            raise ConfigError(
                f"{describe_source(sources.get(key, 'default'))}: `{key}` names the agent "
                f"`{name}`, which is neither built in ({', '.join(BUILTIN_AGENTS)}) nor configured "
                f"under `agents:` (with a `type`).{hint}"
            )
