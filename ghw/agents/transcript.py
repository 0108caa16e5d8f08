"""Transcripts: every line an agent printed, as JSONL, with secrets redacted.

stdout lines that are JSON objects are written verbatim (so a transcript can be parsed again by
the same parser); anything else is wrapped in a record. ghw's own records carry a ``"ghw"`` key.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from ghw.agents.env import MIN_SECRET_LEN

__all__ = ["REDACTED", "Redactor", "TranscriptWriter", "transcript_path"]

REDACTED = "***"


def transcript_path(issues_path: Path, issue: str, phase: str, seq: int) -> Path:
    """``<issues_path>/<o>/<r>/<N>/transcripts/<phase>-<seq>.jsonl`` for ``issue`` "o/r#N"
    (``seq``: the step's ``*Started`` event)."""
    repo, sep, number = issue.rpartition("#")
    owner, slash, name = repo.partition("/")
    if not (sep and slash and owner and name and number.isdigit()) or "/" in name:
        raise ValueError(f"not an issue reference owner/repo#N: {issue!r}")
    for part in (owner, name):
        if part in (".", "..") or part.startswith("-"):
            raise ValueError(f"unsafe repository name in {issue!r}")
    return issues_path / owner / name / number / "transcripts" / f"{phase}-{seq}.jsonl"


class Redactor:
    """Replaces every secret, raw or as it appears JSON-escaped, with ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        for s in secrets:
            if not s or len(s) < MIN_SECRET_LEN:
                continue
            forms.add(s)
            forms.add(json.dumps(s)[1:-1])  # how the secret looks inside a JSON string
        # Longest first, so a secret that contains another is replaced whole.
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def __bool__(self) -> bool:
        return bool(self._forms)


class TranscriptWriter:
    """Appends redacted records to a JSONL file and hashes exactly the bytes written."""

    def __init__(self, path: Path | None, redact: Redactor) -> None:
        self.path = path
        self._redact = redact
        self._sha = hashlib.sha256()
        self._fh: IO[bytes] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            # 0600: a transcript can hold code and prompts the user may not want world-readable.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self._fh = os.fdopen(fd, "wb")

    def _write(self, line: str) -> None:
        if self._fh is None:
            return
        data = (line + "\n").encode("utf-8", errors="replace")
        self._sha.update(data)
        self._fh.write(data)

    def meta(self, record: str, **fields: Any) -> None:
        """A ghw record (start, end, notes)."""
        rec = {"ghw": record, "ts": round(time.time(), 3), **fields}
        self._write(self._redact(json.dumps(rec, ensure_ascii=False, default=str)))

    def stdout(self, line: str) -> None:
        """One stdout line, already redacted by the caller."""
        stripped = line.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            try:
                json.loads(stripped)
            except ValueError:
                pass
            else:
                self._write(stripped)
                return
        self._write(json.dumps({"ghw": "stdout", "text": line}, ensure_ascii=False))

    def stderr(self, line: str) -> None:
        self._write(json.dumps({"ghw": "stderr", "text": line}, ensure_ascii=False))

    def close(self) -> str | None:
        """Close the file; the sha256 of its content, or None when no file was written."""
        if self._fh is None:
            return None
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
        return self._sha.hexdigest()
