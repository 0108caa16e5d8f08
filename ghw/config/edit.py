"""`ghw config set`: change one key in the YAML file, keeping its comments where it can.

An existing scalar is replaced in place (the text between its YAML marks); a new key is added as
a nested block under its existing section, or at the end of the file. Only when the value sits in
a form we cannot edit safely (a flow mapping, a multi-line scalar) is the file re-dumped.

The new text is loaded and validated as a whole before anything is written; the write is atomic
(a temporary file renamed over the old one) and goes through a symlink to its target.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import yaml

from ghw.config.loader import Config, _unknown, _Where, load_config, parse_value, yaml_error
from ghw.config.schema import spec_for
from ghw.errors import ConfigError

__all__ = ["render_value", "set_key", "write_atomic"]


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path``'s content with ``text`` at once. A symlink is followed: its target is
    replaced and the link stays. An existing file keeps its permission bits."""
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_value(raw: str, kind: str) -> str:
    """The YAML text for a value given on the command line."""
    if kind == "list":
        items = [v.strip() for v in raw.strip("[]").split(",") if v.strip()]
        return (
            "["
            + ", ".join(
                yaml.safe_dump(i, default_flow_style=True).strip().removesuffix("\n...")
                for i in items
            )
            + "]"
        )
    if kind in ("int", "float", "bool") or raw.lower() in ("null", "none"):
        return "null" if raw.lower() in ("null", "none") else raw
    dumped = yaml.safe_dump(raw, default_flow_style=True, allow_unicode=True).strip()
    return dumped.removesuffix("\n...").strip()


def _typed(raw: str, kind: str) -> Any:
    try:
        return yaml.safe_load(render_value(raw, kind))
    except yaml.YAMLError:
        return raw  # not YAML at all: parse_value refuses it with the key's expected type


def set_key(path: Path, key: str, raw: str) -> Config:
    """Set ``key`` to ``raw`` in the file at ``path`` (created when missing) and return the
    file's configuration (without the environment). The whole resulting file is validated
    first: when it would not load, ConfigError says why and the file is left unchanged."""
    spec = spec_for(key)
    if spec is None:
        raise _unknown(key, _Where("command line"), ())
    if spec.kind == "map":
        raise ConfigError(
            f"{path}: `{key}` is a map; `ghw config set` cannot edit it. Edit it in the file, "
            f"e.g. `{key}: {{NAME: value}}`."
        )
    value = _typed(raw, spec.kind)
    text = _read(path)
    try:
        # the value alone first: the clearest message for a value that is wrong by itself
        parse_value(spec, key, value, _Where("command line"), path.parent)
        new_text = _edited(path, text, key.split("."), render_value(raw, spec.kind), value)
        config = load_config(path, {}, text=new_text)
        if key == "issues_path" and value is not None:
            config.issues_path  # noqa: B018 - a file there, or a path that cannot be created
    except ConfigError as exc:
        raise ConfigError(f"{exc.message} Nothing was written: {path} is unchanged.") from None
    write_atomic(path, new_text)
    return config


def _read(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read the config file: {getattr(exc, 'strerror', None) or exc}. "
            "Check the path and its permissions."
        ) from None
    try:
        yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        err = yaml_error(path, exc)
        raise ConfigError(f"{err.message} `ghw config set` edits only valid YAML.") from None
    return text


def _edited(path: Path, text: str, parts: list[str], rendered: str, value: Any) -> str:
    new_text = _replace_in_place(text, parts, rendered)
    if new_text is None:
        new_text = _insert(text, parts, rendered)
    if new_text is not None:
        return new_text
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}, line 1: the file must be a mapping of keys to values "
            "(e.g. `issues_path: /var/lib/ghw`)."
        )
    node: dict[str, Any] = data
    for i, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            section = ".".join(parts[: i + 1])
            raise ConfigError(
                f"{path}: `{section}` is not a section of keys, so `{'.'.join(parts)}` cannot "
                f"be set under it. Edit the file: make `{section}` a mapping, e.g. "
                f"`{section}: {{{parts[i + 1]}: ...}}`."
            )
        node = child
    node[parts[-1]] = value
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _find(root: yaml.Node | None, parts: list[str]) -> tuple[yaml.Node | None, yaml.Node | None]:
    """(mapping node holding the deepest existing part, value node of the full key or None)."""
    node = root
    for i, part in enumerate(parts):
        if not isinstance(node, yaml.MappingNode):
            return None, None
        for key_node, value_node in node.value:
            if key_node.value == part:
                if i == len(parts) - 1:
                    return node, value_node
                node = value_node
                break
        else:
            return node, None
    return None, None


def _replace_in_place(text: str, parts: list[str], rendered: str) -> str | None:
    if not text.strip():
        return None
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    _parent, value = _find(root, parts)
    if value is None or isinstance(value, yaml.MappingNode):
        return None
    start, end = value.start_mark.index, value.end_mark.index
    if "\n" in text[start:end] and not isinstance(value, yaml.SequenceNode):
        return None
    if isinstance(value, yaml.SequenceNode) and not value.flow_style:
        return None
    return text[:start] + rendered + text[end:]


def _insert(text: str, parts: list[str], rendered: str) -> str | None:
    root = yaml.compose(text, Loader=yaml.SafeLoader) if text.strip() else None
    lines = text.splitlines(keepends=True)
    if root is None:
        block = _block(parts, rendered, 0)
        return text + ("" if not text or text.endswith("\n") else "\n") + block
    # walk to the deepest existing mapping
    node: yaml.Node = root
    depth = 0
    for part in parts[:-1]:
        if not isinstance(node, yaml.MappingNode):
            return None
        child = next((v for k, v in node.value if k.value == part), None)
        if child is None:
            break
        node = child
        depth += 1
    if not isinstance(node, yaml.MappingNode) or node.flow_style:
        return None
    if depth == 0:
        block = _block(parts, rendered, 0)
        return text + ("" if text.endswith("\n") else "\n") + block
    first_key = node.value[0][0] if node.value else None
    indent = first_key.start_mark.column if first_key is not None else 2 * depth
    insert_at = node.end_mark.line if node.end_mark.column == 0 else node.end_mark.line + 1
    block = _block(parts[depth:], rendered, indent, step=2)
    lines[insert_at:insert_at] = [block]
    return "".join(lines)


def _block(parts: list[str], rendered: str, indent: int, step: int = 2) -> str:
    out = []
    for i, part in enumerate(parts):
        pad = " " * (indent + i * step)
        if i == len(parts) - 1:
            out.append(f"{pad}{part}: {rendered}\n")
        else:
            out.append(f"{pad}{part}:\n")
    return "".join(out)
