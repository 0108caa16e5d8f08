"""A whole, consistent copy of a ledger while ghw may be running (SQLite's online backup)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from ghw.errors import LedgerError, UsageError
from ghw.ledger.migrations import SCHEMA_VERSION

__all__ = ["backup_ledger"]


def backup_ledger(source: Path, dest: Path, *, force: bool = False) -> int:
    """Copy the ledger at ``source`` (its WAL included) to ``dest``; returns the events copied.

    The source is opened read-only and copied page by page with SQLite's backup API, so writers
    may go on meanwhile (the copy is a snapshot of one moment). The copy is written next to
    ``dest`` and renamed into place once it is checked, so ``dest`` is never half a ledger.
    """
    if not source.exists():
        raise LedgerError(f"no ledger at {source}: nothing to back up")
    if dest.exists() and not force:
        raise UsageError(f"{dest} already exists; pass --force to replace it")
    if dest.is_dir():
        raise UsageError(f"{dest} is a directory: name the backup file, e.g. {dest / 'ghw.db'}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    src = sqlite3.connect(f"file:{quote(str(source.resolve()))}?mode=ro", uri=True)
    try:
        src.execute("PRAGMA busy_timeout = 5000")
        version = src.execute("PRAGMA user_version").fetchone()[0]
        if version == 0 or version > SCHEMA_VERSION:
            raise LedgerError(f"{source} is not a ghw ledger this ghw can read (schema {version})")
        out = sqlite3.connect(tmp)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
            problem = out.execute("PRAGMA quick_check").fetchone()[0]
            if problem != "ok":
                raise LedgerError(f"the copy of {source} failed its check: {problem}")
            events = int(out.execute("SELECT COUNT(*) FROM events").fetchone()[0])
        finally:
            out.close()
        os.replace(tmp, dest)
    except sqlite3.Error as exc:
        raise LedgerError(f"backing up {source} failed: {exc}; nothing was written") from None
    finally:
        src.close()
        if tmp.exists():
            tmp.unlink()
    return events
