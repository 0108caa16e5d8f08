"""Schema versions (``PRAGMA user_version``): create, migrate with a backup, refuse newer ones."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import aiosqlite

from ghw.errors import LedgerError, LedgerTooNewError, LedgerUnusableError

__all__ = [
    "MIGRATIONS",
    "REBUILT_AT",
    "SCHEMA_VERSION",
    "check_creatable",
    "check_readable",
    "migrate",
    "needs_rebuild",
    "projection_ddl",
    "schema_sql",
]

SCHEMA_VERSION = 3

# from version N to N+1: SQL run in one transaction after a backup copy of the file
MIGRATIONS: Mapping[int, str] = {
    # 2: the fold keeps an interrupted retry retryable and cycles record how they ended and who
    # ran them; no table changes by hand: the projections are rebuilt (REBUILT_AT)
    1: "",
    # 3: follow-up (§12): feedback once per GitHub item; the issues projection gains the
    # follow-up columns (rebuilt from the events: REBUILT_AT)
    2: """
CREATE UNIQUE INDEX IF NOT EXISTS events_feedback_once ON events (
    stream_id, json_extract(payload, '$.source'), json_extract(payload, '$.github_id')
) WHERE type = 'FeedbackReceived';
""",
}
# Versions whose fold differs from the one before: a ledger migrated across one of them has its
# projections rebuilt from the events (in the migration's transaction), so `replay --verify`
# keeps passing after an upgrade.
REBUILT_AT: frozenset[int] = frozenset({2, 3})


def needs_rebuild(old_version: int) -> bool:
    """Whether a ledger migrated from ``old_version`` needs its projections rebuilt."""
    return old_version != 0 and any(old_version < v <= SCHEMA_VERSION for v in REBUILT_AT)


def schema_sql() -> str:
    return resources.files("ghw.ledger").joinpath("schema.sql").read_text(encoding="utf-8")


def projection_ddl(table: str, new_name: str, *, indexes_only: bool = False) -> list[str]:
    """The CREATE statements of one projection table from schema.sql, under another name."""
    sql = schema_sql()
    out: list[str] = []
    if not indexes_only:
        match = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \((.*?)\n\);", sql, flags=re.DOTALL)
        if match is None:
            raise LedgerError(f"schema.sql has no table {table}")
        out.append(f"CREATE TABLE {new_name} ({match.group(1)}\n)")
    for index in re.finditer(rf"CREATE INDEX IF NOT EXISTS (\w+) ON {table} (\(.*?\));", sql):
        out.append(f"CREATE INDEX IF NOT EXISTS {index.group(1)} ON {new_name} {index.group(2)}")
    return out


def _too_new(path: Path, version: int) -> LedgerTooNewError:
    return LedgerTooNewError(
        f"the ledger {path} has schema version {version}, but this ghw understands up to "
        f"{SCHEMA_VERSION}: it was written by a newer ghw. Upgrade ghw (pip install -U ghw) "
        "or point `ledger` at another file; nothing was changed."
    )


async def _user_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _has_events_table(db: aiosqlite.Connection) -> bool:
    async with db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'"
    ) as cur:
        return await cur.fetchone() is not None


async def check_readable(db: aiosqlite.Connection, path: Path) -> int:
    """For read-only opens: refuse a newer ledger or a foreign file; never migrate."""
    version = await _user_version(db)
    if version > SCHEMA_VERSION:
        raise _too_new(path, version)
    if version == 0 or not await _has_events_table(db):
        raise _not_a_ledger(path)
    return version


def _not_a_ledger(path: Path, what: str = "holds no ghw schema") -> LedgerUnusableError:
    return LedgerUnusableError(
        f"the ledger {path} {what}: it is not a ghw ledger, and ghw does not create one over an "
        "existing file. If it held your history, restore it from a backup (docs/reliability.md, "
        "Backups); to start a new, empty ledger there, run `ghw ledger init` (or "
        "`ghw init --force`); or point `ledger` / `issues_path` at another place."
    )


async def check_creatable(db: aiosqlite.Connection, path: Path, *, create: bool) -> None:
    """For writing opens, before anything is written (even WAL mode's header): a database with
    no ghw schema version may get the schema only when it is empty and ``create`` is set."""
    version = await _user_version(db)
    if version > SCHEMA_VERSION:
        raise _too_new(path, version)
    if version != 0:
        return
    if await _has_events_table(db):
        raise _not_a_ledger(path, "has an events table but no ghw schema version")
    async with db.execute("SELECT COUNT(*) FROM sqlite_master") as cur:
        row = await cur.fetchone()
    if row and row[0]:
        raise _not_a_ledger(path, "is an SQLite database with other tables")
    if not create:
        raise _not_a_ledger(path, "exists but is empty")


def _backup(path: Path, version: int) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.v{version}-{stamp}.bak")
    src = sqlite3.connect(str(path))
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


async def migrate(
    db: aiosqlite.Connection,
    path: Path,
    *,
    create: bool = True,
    rebuild: Callable[[aiosqlite.Connection], Awaitable[None]] | None = None,
) -> int:
    """Bring the ledger to SCHEMA_VERSION. Returns the old version (0: created now).

    An empty database gets the schema only when ``create`` is set: for a file that did not exist
    before this open, or when initialisation was asked for explicitly (``ghw ledger init``). An
    existing empty file is otherwise refused: a ledger truncated or replaced by mistake must not
    silently start over (every agent would run again). ``rebuild`` refolds the projections, in
    the migration's transaction, when the fold changed between the two versions.
    """
    version = await _user_version(db)
    if version > SCHEMA_VERSION:
        raise _too_new(path, version)
    if version == SCHEMA_VERSION:
        return version
    if version == 0:
        await check_creatable(db, path, create=create)
        await db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(schema_sql()):
                await db.execute(statement)
            await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        return 0
    _backup(path, version)
    await db.execute("BEGIN IMMEDIATE")
    try:
        for step in range(version, SCHEMA_VERSION):
            for statement in _statements(MIGRATIONS[step]):
                await db.execute(statement)
        if rebuild is not None and needs_rebuild(version):
            await rebuild(db)
        await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        await db.execute("COMMIT")
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    return version


def _statements(script: str) -> list[str]:
    """Split a script into statements (triggers keep their BEGIN … END bodies)."""
    out: list[str] = []
    current: list[str] = []
    for line in script.splitlines():
        stripped = line.split("--", 1)[0].rstrip() if not line.lstrip().startswith("--") else ""
        if not stripped:
            continue
        current.append(stripped)
        text = "\n".join(current)
        if sqlite3.complete_statement(text):
            out.append(text)
            current = []
    return out
