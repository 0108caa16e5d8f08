"""Readable views of the ledger under ``issues_path``; written atomically, never read back."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

__all__ = ["issue_dir", "render_issue_md", "visible_line", "visible_text", "write_text_atomic"]

# Control characters (Unicode category Cc: C0, DEL, C1). In a file a person will `cat`, an ESC
# or a lone CR from an issue could drive their terminal (rewrite the title bar, hide lines), so
# they are written as visible \xNN escapes; a body keeps its tabs and line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_TAB_LF = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def visible_line(text: str) -> str:
    """``text`` on one line with every control character shown as ``\\xNN``."""
    return _CONTROL.sub(_escape, text)


def visible_text(text: str) -> str:
    """``text`` with CRLF as LF and every other control character but tab and LF as ``\\xNN``."""
    return _CONTROL_BUT_TAB_LF.sub(_escape, text.replace("\r\n", "\n"))


def issue_dir(issues_path: Path, repo: str, number: int) -> Path:
    owner, name = repo.split("/", 1)
    return issues_path / owner / name / str(number)


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_issue_md(
    *,
    repo: str,
    number: int,
    title: str,
    body: str | None,
    state: str,
    author: str | None,
    association: str | None,
    labels: list[str] | tuple[str, ...],
    url: str | None,
    updated_at: str | None,
    eligible: bool,
    reason: str,
) -> str:
    show = visible_line
    lines = [
        f"# {show(title)} (#{number})",
        "",
        f"- Repository: {show(repo)}",
        f"- State on GitHub: {show(state)}",
        f"- Author: {show(author or '?')} ({show(association or 'NONE')})",
        f"- Labels: {', '.join(map(show, labels)) if labels else '(none)'}",
        f"- URL: {show(url or '')}",
        f"- Updated: {show(updated_at or '')}",
        f"- Eligible for agents: {'yes' if eligible else 'no — ' + show(reason)}",
        "",
        "---",
        "",
        visible_text(body or ""),
        "",
    ]
    return "\n".join(lines)
