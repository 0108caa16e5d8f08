"""Readable views of the ledger under ``issues_path``; written atomically, never read back."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["issue_dir", "render_issue_md", "write_text_atomic"]


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
    lines = [
        f"# {title} (#{number})",
        "",
        f"- Repository: {repo}",
        f"- State on GitHub: {state}",
        f"- Author: {author or '?'} ({association or 'NONE'})",
        f"- Labels: {', '.join(labels) if labels else '(none)'}",
        f"- URL: {url or ''}",
        f"- Updated: {updated_at or ''}",
        f"- Eligible for agents: {'yes' if eligible else 'no — ' + reason}",
        "",
        "---",
        "",
        (body or "").replace("\x00", "\\0"),
        "",
    ]
    return "\n".join(lines)
