"""The scripted agent's process: ``python -P -m ghw.agents.scripted_runner --phase P --mode M``.

It is a real child process so that process groups, timeouts, kills and transcripts behave
exactly as with a real CLI. It reads the prompt on stdin, plays the script entry for its issue
and phase, and prints Claude Code's stream-json (init, assistant text, tool_use/tool_result per
edit, result with cost 0.0 and token counts), so the Claude parser and the accounting code path
are exercised too.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid
from pathlib import Path
from typing import Any

if __package__:
    from ghw.agents.scripted_script import (
        Edit,
        EditError,
        PhaseEntry,
        ScriptError,
        apply_edit,
        load_script,
    )
else:  # run by path: load only the script module, not the ghw.agents package (0.2 s of imports)
    import importlib.util

    _spec = importlib.util.spec_from_file_location(
        "ghw_scripted_script", Path(__file__).resolve().with_name("scripted_script.py")
    )
    assert _spec is not None and _spec.loader is not None
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = _mod
    _spec.loader.exec_module(_mod)
    Edit, EditError, PhaseEntry = _mod.Edit, _mod.EditError, _mod.PhaseEntry
    ScriptError, apply_edit, load_script = _mod.ScriptError, _mod.apply_edit, _mod.load_script

__all__ = [
    "DEFAULT_FILE",
    "Edit",
    "EditError",
    "PhaseEntry",
    "ScriptError",
    "apply_edit",
    "default_entry",
    "load_script",
    "main",
    "run",
]

DEFAULT_FILE = "GHW_SCRIPTED.md"


def default_entry(
    issue: str | None, phase: str, prompt: str = "", root: Path | None = None
) -> tuple[str, list[tuple[str, str]]]:
    """Text and (path, content) writes when the script has nothing for this issue and phase:
    implement leaves a file naming the issue (so a PR can open); plan and review approve; a
    revision appends the feedback it addresses (the prompt's ``- feedback <id>`` lines) to that
    file, so every round changes something."""
    who = issue or "this issue"
    if phase == "revise":
        ids = re.findall(r"^- feedback (\S+)", prompt, flags=re.MULTILINE)
        path = (root or Path.cwd()) / DEFAULT_FILE
        before = path.read_text(encoding="utf-8") if path.is_file() else ""
        lines = "".join(f"- addressed {i}\n" for i in ids) or "- addressed the review\n"
        content = f"{before.rstrip()}\n\n## Revision by ghw's scripted agent\n\n{lines}".lstrip()
        return f"Revised {who}: addressed {', '.join(ids) or 'the review'}.", [
            (DEFAULT_FILE, content)
        ]
    if phase == "implement":
        content = f"# Scripted change\n\nghw's scripted agent made this change for {who}.\n"
        return f"Wrote {DEFAULT_FILE} for {who}.", [(DEFAULT_FILE, content)]
    if phase == "review":
        return f"Review of {who} by the scripted agent: no findings.\nVERDICT: approve", []
    return f"Plan for {who} by the scripted agent: make the change.\nVERDICT: approve", []


class _Out:
    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.turn = 0

    def emit(self, obj: dict[str, Any]) -> None:
        obj.setdefault("session_id", self.session_id)
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def assistant(self, block: dict[str, Any]) -> None:
        self.turn += 1
        msg = {"id": f"msg_scripted{self.turn:04d}", "type": "message", "role": "assistant"}
        self.emit(
            {"type": "assistant", "message": {**msg, "model": "scripted", "content": [block]}}
        )

    def tool_result(self, tool_id: str, content: str, is_error: bool) -> None:
        block = {"type": "tool_result", "tool_use_id": tool_id, "content": content}
        if is_error:
            block["is_error"] = True
        self.emit({"type": "user", "message": {"role": "user", "content": [block]}})


def _result(
    out: _Out, text: str, prompt: str, denials: list[dict[str, Any]], cost: float = 0.0, **kw: Any
) -> None:
    out.emit(
        {
            "type": "result",
            "subtype": kw.pop("subtype", "success"),
            "is_error": kw.pop("is_error", False),
            "api_error_status": kw.pop("api_error_status", None),
            "num_turns": max(out.turn, 1),
            "result": text,
            "total_cost_usd": cost,
            "usage": {"input_tokens": len(prompt) // 4, "output_tokens": len(text) // 4},
            "permission_denials": denials,
            "terminal_reason": "completed",
        }
    )


def run(args: argparse.Namespace, prompt: str) -> int:
    out = _Out(str(uuid.uuid4()))
    root = Path.cwd()
    write = args.mode == "write"
    out.emit(
        {
            "type": "system",
            "subtype": "init",
            "cwd": str(root),
            "model": "scripted",
            "permissionMode": "bypassPermissions" if write else "default",
            "tools": ["Edit", "Write", "Delete"] if write else [],
        }
    )
    try:
        script = load_script(Path(args.script)) if args.script else None
    except ScriptError as exc:
        _result(
            out,
            f"invalid script: {exc}",
            prompt,
            [],
            is_error=True,
            subtype="error_during_execution",
        )
        return 1
    entry = script.entry(args.issue, args.phase) if script else None
    default_text, default_writes = default_entry(args.issue, args.phase, prompt, root)
    entry = entry or PhaseEntry()
    text = entry.text if entry.text is not None else default_text
    if entry.edits:
        ops: list[tuple[str, Any]] = [(e.path, e) for e in entry.edits]
    elif entry.text is None and entry.fail is None:
        ops = list(default_writes)
    else:
        ops = []
    out.assistant(
        {"type": "text", "text": f"Working on {args.issue or 'the task'} ({args.phase})."}
    )
    # The run takes `delay` seconds overall (plus the entry's own sleep); SIGTERM ends it at once.
    time.sleep(max(args.delay, 0.0) + entry.sleep)
    if entry.wait_for:
        # a test's cue: it acts while the agent runs, then lets it finish (timeout still applies)
        while not Path(entry.wait_for).exists():
            time.sleep(0.02)
    denials: list[dict[str, Any]] = []
    for i, (path, op) in enumerate(ops):
        tool_id = f"toolu_scripted{i:04d}"
        name = "Write" if isinstance(op, str) else op.op.capitalize()
        out.assistant({"type": "tool_use", "id": tool_id, "name": name, "input": {"path": path}})
        if not write:
            denials.append(
                {"tool_name": name, "tool_use_id": tool_id, "tool_input": {"path": path}}
            )
            out.tool_result(tool_id, "refused: read-only mode", True)
            continue
        try:
            if isinstance(op, str):
                done = apply_edit(root, Edit(path, "write", new=op))
            else:
                done = apply_edit(root, op)
        except EditError as exc:
            out.tool_result(tool_id, f"Error: {exc}", True)
            _result(
                out,
                f"edit failed: {exc}",
                prompt,
                denials,
                is_error=True,
                subtype="error_during_execution",
            )
            return 1
        out.tool_result(tool_id, done, False)
    if entry.fail is not None:
        # transient looks like an overloaded API (retryable), permanent like a crash of the CLI.
        how: dict[str, Any] = (
            {"api_error_status": 503}
            if entry.fail.kind == "transient"
            else {"subtype": "error_during_execution"}
        )
        _result(out, entry.fail.message, prompt, denials, entry.cost_usd, is_error=True, **how)
        return entry.exit_code if entry.exit_code is not None else 1
    out.assistant({"type": "text", "text": text})
    _result(out, text, prompt, denials, entry.cost_usd)
    return entry.exit_code if entry.exit_code is not None else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ghw-scripted-agent")
    ap.add_argument("--phase", required=True)
    ap.add_argument("--mode", choices=["read_only", "write"], required=True)
    ap.add_argument("--issue")
    ap.add_argument("--script")
    ap.add_argument("--delay", type=float, default=0.0)
    args = ap.parse_args(argv)
    prompt = sys.stdin.read() if not sys.stdin.isatty() else ""
    return run(args, prompt)


if __name__ == "__main__":
    sys.exit(main())
