"""The scripted agent's script: loading, validation, lookup and applying edits.

Format (documented in docs/agents.md)::

    issues:
      1:                       # issue number, or "owner/repo#N"
        plan:    {text: "..."}
        implement:
          text: "..."
          edits:
            - {path: calc/ops.py, replace: {old: "a - b", new: "a + b"}}
            - {path: NOTES.md, write: "content\\n"}
            - {path: other.txt, append: "more\\n"}
            - {path: obsolete.py, delete: true}
        review:  {text: "...\\nVERDICT: approve"}

Each phase entry may also have ``fail: {kind: transient|permanent, message}``, ``exit_code``,
``sleep`` (seconds), ``cost_usd`` (the cost the run reports) and ``wait_for`` (an absolute path:
the run waits, before its edits, until that file exists).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml  # here, not at the top: a run without a script never pays for it

from ghw.phase_names import AGENT_PHASE_NAMES

__all__ = [
    "PHASES",
    "Edit",
    "EditError",
    "Failure",
    "PhaseEntry",
    "Script",
    "ScriptError",
    "apply_edit",
    "load_script",
    "parse_script",
    "safe_target",
]

PHASES = AGENT_PHASE_NAMES  # the phases that run an agent (ghw/phase_names.py)
_ENTRY_KEYS = {"text", "edits", "fail", "exit_code", "sleep", "cost_usd", "wait_for"}
_OPS = ("replace", "write", "append", "delete")


class ScriptError(ValueError):
    """The script file is not valid; the message names the place."""


class EditError(ValueError):
    """One edit could not be applied (missing text, unsafe path...)."""


@dataclass(frozen=True)
class Edit:
    path: str
    op: Literal["replace", "write", "append", "delete"]
    old: str = ""
    new: str = ""  # the new text for replace, the content for write and append


@dataclass(frozen=True)
class Failure:
    kind: Literal["transient", "permanent"]
    message: str


@dataclass(frozen=True)
class PhaseEntry:
    text: str | None = None
    edits: tuple[Edit, ...] = ()
    fail: Failure | None = None
    exit_code: int | None = None
    sleep: float = 0.0
    cost_usd: float = 0.0  # reported as the run's total_cost_usd (budget tests)
    wait_for: str | None = None  # a file whose appearance ends the wait (tests acting mid-run)


@dataclass(frozen=True)
class Script:
    issues: Mapping[str, Mapping[str, PhaseEntry]]  # key: "N" or "owner/repo#N"

    def entry(self, issue: str | None, phase: str) -> PhaseEntry | None:
        """The entry for this issue and phase: the full reference wins over the bare number."""
        if not issue:
            return None
        keys = [issue]
        if "#" in issue:
            keys.append(issue.rsplit("#", 1)[1])
        for key in keys:
            phases = self.issues.get(key)
            if phases is not None and phase in phases:
                return phases[phase]
        return None


def _edit(where: str, raw: Any) -> Edit:
    if not isinstance(raw, dict) or not isinstance(raw.get("path"), str) or not raw["path"]:
        raise ScriptError(f"{where}: each edit needs a 'path' string")
    ops = [op for op in _OPS if op in raw]
    unknown = set(raw) - {"path", *_OPS}
    if len(ops) != 1 or unknown:
        raise ScriptError(
            f"{where}: exactly one of {', '.join(_OPS)} is needed (got {sorted(raw)})"
        )
    op = ops[0]
    path = raw["path"]
    if op == "replace":
        rep = raw["replace"]
        if not isinstance(rep, dict) or not isinstance(rep.get("old"), str) or not rep["old"]:
            raise ScriptError(f"{where}: replace needs {{old: <non-empty text>, new: <text>}}")
        new = rep.get("new", "")
        if not isinstance(new, str):
            raise ScriptError(f"{where}: replace.new must be text")
        return Edit(path, "replace", old=rep["old"], new=new)
    if op in ("write", "append"):
        if not isinstance(raw[op], str):
            raise ScriptError(f"{where}: {op} must be text")
        return Edit(path, op, new=raw[op])
    if raw["delete"] is not True:
        raise ScriptError(f"{where}: delete must be true")
    return Edit(path, "delete")


def _entry(where: str, raw: Any) -> PhaseEntry:
    if raw is None:
        return PhaseEntry()
    if not isinstance(raw, dict):
        raise ScriptError(f"{where}: expected a mapping with {sorted(_ENTRY_KEYS)}")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise ScriptError(
            f"{where}: unknown key(s) {sorted(unknown)}; allowed {sorted(_ENTRY_KEYS)}"
        )
    text = raw.get("text")
    if text is not None and not isinstance(text, str):
        raise ScriptError(f"{where}.text must be text")
    edits_raw = raw.get("edits") or []
    if not isinstance(edits_raw, list):
        raise ScriptError(f"{where}.edits must be a list")
    edits = tuple(_edit(f"{where}.edits[{i}]", e) for i, e in enumerate(edits_raw))
    fail = None
    if raw.get("fail") is not None:
        f = raw["fail"]
        if not isinstance(f, dict) or f.get("kind") not in ("transient", "permanent"):
            raise ScriptError(f"{where}.fail needs kind: transient|permanent")
        fail = Failure(f["kind"], str(f.get("message") or f"scripted {f['kind']} failure"))
    exit_code = raw.get("exit_code")
    if exit_code is not None and (not isinstance(exit_code, int) or not 0 <= exit_code <= 255):
        raise ScriptError(f"{where}.exit_code must be an integer 0-255")
    sleep = raw.get("sleep", 0)
    if not isinstance(sleep, int | float) or isinstance(sleep, bool) or sleep < 0:
        raise ScriptError(f"{where}.sleep must be a number of seconds >= 0")
    cost = raw.get("cost_usd", 0)
    if not isinstance(cost, int | float) or isinstance(cost, bool) or cost < 0:
        raise ScriptError(f"{where}.cost_usd must be a number of dollars >= 0")
    wait_for = raw.get("wait_for")
    if wait_for is not None and (not isinstance(wait_for, str) or not os.path.isabs(wait_for)):
        raise ScriptError(f"{where}.wait_for must be an absolute file path")
    return PhaseEntry(text, edits, fail, exit_code, float(sleep), float(cost), wait_for)


def parse_script(data: Any, *, source: str = "script") -> Script:
    if data is None:
        return Script({})
    if not isinstance(data, dict) or not isinstance(data.get("issues", {}), dict):
        raise ScriptError(f"{source}: expected a mapping with an 'issues' mapping")
    issues: dict[str, dict[str, PhaseEntry]] = {}
    for key, phases in (data.get("issues") or {}).items():
        k = str(key).strip().lstrip("#")
        where = f"{source}: issues.{key}"
        if not isinstance(phases, dict):
            raise ScriptError(f"{where}: expected a mapping of phases ({', '.join(PHASES)})")
        bad = set(phases) - set(PHASES)
        if bad:
            raise ScriptError(f"{where}: unknown phase(s) {sorted(bad)}; use {', '.join(PHASES)}")
        issues[k] = {p: _entry(f"{where}.{p}", e) for p, e in phases.items()}
    return Script(issues)


def load_script(path: Path) -> Script:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScriptError(f"cannot read scripted-agent script {path}: {exc}") from exc

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScriptError(f"{path}: not valid YAML: {exc}") from exc
    return parse_script(data, source=str(path))


def safe_target(root: Path, rel: str) -> Path:
    """The file ``rel`` inside ``root``; refuses absolute paths, ``..``, ``.git`` and symlinks
    that lead outside the workspace."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or os.path.isabs(rel):
        raise EditError(f"{rel}: absolute paths are refused")
    if ".." in pure.parts:
        raise EditError(f"{rel}: '..' is refused")
    if pure.parts and pure.parts[0] == ".git":
        raise EditError(f"{rel}: the .git directory is off limits")
    root_real = root.resolve()
    target = (root / pure).resolve()
    if target != root_real and root_real not in target.parents:
        raise EditError(f"{rel}: leads outside the workspace")
    return root / pure


def apply_edit(root: Path, edit: Edit) -> str:
    """Apply one edit under ``root``; returns a one-line description."""
    target = safe_target(root, edit.path)
    if edit.op == "replace":
        try:
            content = target.read_text(encoding="utf-8")
        except OSError as exc:
            raise EditError(f"{edit.path}: cannot read: {exc.strerror}") from exc
        if edit.old not in content:
            raise EditError(f"{edit.path}: text to replace not found: {edit.old!r}")
        target.write_text(content.replace(edit.old, edit.new, 1), encoding="utf-8")
        return f"replaced text in {edit.path}"
    if edit.op == "write":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(edit.new, encoding="utf-8")
        return f"wrote {edit.path}"
    if edit.op == "append":
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as fh:
            fh.write(edit.new)
        return f"appended to {edit.path}"
    try:
        target.unlink()
    except OSError as exc:
        raise EditError(f"{edit.path}: cannot delete: {exc.strerror}") from exc
    return f"deleted {edit.path}"
