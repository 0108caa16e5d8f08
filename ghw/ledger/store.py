"""The ledger: the only module that speaks SQL (§3).

One SQLite file in WAL mode. Every write is one ``BEGIN IMMEDIATE`` transaction that appends events,
folds them into the projections and, for claims, writes the lease — so the read model can never
disagree with the log, and two processes can never claim the same issue.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import os
import socket
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiosqlite

from ghw.errors import (
    ConcurrencyError,
    DuplicateFeedbackError,
    IllegalTransitionError,
    LeaseLostError,
    LedgerError,
    LedgerFullError,
    LedgerLockedError,
    LedgerUnusableError,
    StaleFenceError,
)
from ghw.ledger.encode import EVENT_COLUMNS, BatchEncoder, decode_row
from ghw.ledger.folder import Folder
from ghw.ledger.hashing import GENESIS
from ghw.ledger.migrations import (
    SCHEMA_VERSION,
    check_creatable,
    check_readable,
    migrate,
    projection_ddl,
)
from ghw.ledger.projection import (
    APPLIERS,
    FROM_ROW,
    ISSUE_COLUMNS,
    PROJECTION_TABLES,
    row_for,
)
from ghw.ledger.records import (
    AppendRequest,
    Claim,
    ClaimFilters,
    Holder,
    LeaseRow,
    RetryPolicy,
    StoredEvent,
    Takeover,
    process_start_time,
)
from ghw.machine.events import Event, LeaseExpired
from ghw.machine.fold import apply, stream_kind
from ghw.machine.states import FAILED, RUNNING, STEP_OF_RUNNING
from ghw.machine.view import IssueView

__all__ = [
    "EVENT_COLUMNS",
    "Ledger",
    "default_is_alive",
    "format_ts",
    "utcnow",
]

_EVENT_SELECT = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events"


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_ts(dt: datetime) -> str:
    """ISO-8601 UTC with microseconds and a Z: fixed width, so strings sort as times."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@functools.cache
def _max_params() -> int:
    """This SQLite's cap on a statement's parameters (32766 by default since 3.32, 999 before;
    a build may set another)."""
    conn = sqlite3.connect(":memory:")
    try:
        return int(conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    finally:
        conn.close()


@functools.lru_cache(maxsize=64)
def _multi_row_sql(verb: str, table: str, columns: tuple[str, ...], rows: int) -> str:
    row = f"({', '.join('?' * len(columns))})"
    return f"{verb} INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * rows)}"


async def _insert_rows(
    db: aiosqlite.Connection,
    verb: str,
    table: str,
    columns: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """Many rows, a few hundred per statement rather than one statement per row.

    A statement runs as one ``sqlite3_step`` with the GIL released; executemany releases and
    retakes it for every row, and each retake can wait out the interpreter's switch interval
    (5 ms) while the event loop parses the next page (docs/adr/0032-sync-throughput.md).
    """
    per = max(1, min(500, _max_params() // len(columns)))
    for at in range(0, len(rows), per):
        chunk = rows[at : at + per]
        params = [value for row in chunk for value in row]
        await db.execute(_multi_row_sql(verb, table, columns, len(chunk)), params)


_UNUSABLE = ("not a database", "unable to open", "malformed", "readonly database", "disk I/O")


def _unusable(exc: sqlite3.Error, path: Path) -> LedgerUnusableError | None:
    """An open that failed because of the file itself (not a lock): exit 2, with the fix."""
    text = str(exc)
    if not any(marker in text for marker in _UNUSABLE):
        return None
    if path.is_dir():
        what = "is a directory"
        fix = "point `ledger` (or `issues_path`) at a file path, e.g. <issues_path>/ghw.db"
    elif "unable to open" in text or "readonly" in text:
        what = f"cannot be opened ({text})"
        fix = "check that its directory exists and that ghw may read and write it"
    else:
        what = f"is not a usable SQLite database ({text})"
        fix = (
            "restore it from a backup (docs/reliability.md, Backups), or point `ledger` at "
            "another file"
        )
    return LedgerUnusableError(f"the ledger {path} {what}: {fix}; nothing was changed.")


def _translate(exc: sqlite3.Error, path: Path) -> LedgerError:
    text = str(exc)
    if "locked" in text or "busy" in text:
        return LedgerLockedError(
            f"the ledger {path} is locked by another writer and stayed locked past busy_timeout; "
            "nothing was written. Retry when the other ghw process has finished "
            "(`ghw status` shows its leases)."
        )
    if "events_feedback_once" in text:
        return DuplicateFeedbackError(
            "feedback already recorded: the issue has a FeedbackReceived for this GitHub item "
            "(same source and id); nothing was written"
        )
    if "full" in text:
        return LedgerFullError(
            f"the ledger {path} is full ({text}); nothing was written. Free disk space or raise "
            "`ledger_max_pages`, then run the command again."
        )
    return LedgerError(f"ledger {path}: {text}")


_WAL_SIZE_LIMIT = 64 * 1024 * 1024


def _fold_case(value: Any) -> Any:
    """SQL ``ghw_fold(x)``: Python's casefold (SQLite's lower() knows ASCII only)."""
    return value.casefold() if isinstance(value, str) else value


async def _to_the_end(awaitable: Awaitable[Any]) -> Any:
    """Await ``awaitable`` to its outcome even when the calling task is cancelled meanwhile;
    the cancellation is raised afterwards. For statements that run on aiosqlite's thread
    anyway: the caller must learn how they ended before it decides what to do next."""
    task = asyncio.ensure_future(awaitable)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # the statement's own error, if any, is dropped: the cancellation is what the caller
        # must see (its handler rolls back whatever the statement left open)
        if not task.done():
            with contextlib.suppress(BaseException):
                await asyncio.wait({task})
        if task.done() and not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it as never retrieved
        raise


async def _rebuild_projections(db: aiosqlite.Connection) -> None:
    """Refold every event into fresh projections, inside the caller's transaction (a migration
    across a fold change)."""
    folder = Folder()
    after = 0
    while True:
        rows = list(
            await db.execute_fetchall(
                f"{_EVENT_SELECT} WHERE seq > ? ORDER BY seq LIMIT 20000", (after,)
            )
        )
        if not rows:
            break
        folder.feed(rows)
        after = rows[-1][0]
    await _replace_projections_in_tx(db, folder.rows())


async def _replace_projections_in_tx(
    db: aiosqlite.Connection, rows_by_kind: dict[str, list[tuple[Any, ...]]]
) -> None:
    for kind, (table, columns) in PROJECTION_TABLES.items():
        new = f"{table}_rebuild"
        await db.execute(f"DROP TABLE IF EXISTS {new}")
        for statement in projection_ddl(table, new):
            await db.execute(statement)
        await _insert_rows(db, "INSERT OR REPLACE", new, columns, rows_by_kind.get(kind, []))
        await db.execute(f"DROP TABLE {table}")
        await db.execute(f"ALTER TABLE {new} RENAME TO {table}")
        for statement in projection_ddl(table, table, indexes_only=True):
            await db.execute(statement)


def _check(req: AppendRequest, kind: str, view: Any, tokens: dict[str, int]) -> bool:
    """Refuse a request written against another version or under a stale fence; True when the
    stream is an issue whose step is running, so only its lease holder may end that step.

    (A request that starts and ends a step in one transaction cannot race anyone.)
    """
    sid = req.stream_id
    version = view.version if view is not None else 0
    if req.expected_version is not None and req.expected_version != version:
        raise ConcurrencyError(sid, req.expected_version, version)
    if req.fence is not None and tokens.get(sid) != req.fence.token:
        raise StaleFenceError(sid, req.fence.token)
    return kind == "issue" and view is not None and view.state in RUNNING


def _fold_issue(view: IssueView | None, record: StoredEvent) -> IssueView:
    # the view was loaded (or built) for this append alone: fold into it without a copy
    return apply(view, record, in_place=True)


# kind -> fold one stored event into that kind's view
_FOLDS: dict[str, Callable[[Any, StoredEvent], Any]] = {**APPLIERS, "issue": _fold_issue}


_NO_RETRY = RetryPolicy()


def _started_for(started: Event, view: IssueView) -> Event:
    """A step's ``*Started`` event for the issue it claims: its attempt number and, for a step
    that works on a branch, the issue's branch."""
    changes: dict[str, Any] = {"attempt": view.attempts + 1}
    if hasattr(started, "branch"):
        changes["branch"] = view.branch()
    if hasattr(started, "round"):  # a revision: the PR's next round
        changes["round"] = view.rounds + 1
    return dataclasses.replace(started, **changes)  # type: ignore[type-var]


def default_is_alive(holder: Holder, host: str) -> bool:
    """A holder on another host is presumed alive until its lease expires."""
    if holder.host != host:
        return True
    start = process_start_time(holder.pid)
    if start is None:
        return False
    return holder.start is None or start == holder.start


class Ledger:
    """Async access to one ledger file. Create with :meth:`open`; close with :meth:`close`."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        path: Path,
        *,
        readonly: bool,
        clock: Callable[[], datetime],
        worker: str,
        is_alive: Callable[[Holder], bool] | None,
        host: str,
    ) -> None:
        self._db = db
        self.path = path
        self.readonly = readonly
        self._clock = clock
        self._host = host
        self._actor = {"host": host, "pid": os.getpid(), "worker": worker}
        self._is_alive = is_alive or (lambda h: default_is_alive(h, host))
        self._lock = asyncio.Lock()
        self._busy_ms = 5000

    # --- lifecycle --------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        readonly: bool = False,
        clock: Callable[[], datetime] = utcnow,
        worker: str = "",
        busy_timeout: float = 5.0,
        max_page_count: int | None = None,
        is_alive: Callable[[Holder], bool] | None = None,
        host: str | None = None,
        initialize: bool = False,
    ) -> Ledger:
        """Open (and, when writing, create or migrate) the ledger at ``path``.

        Read-only opens use ``mode=ro``: they never create, migrate or checkpoint, so the file's
        bytes stay as they are. A writing open creates the ledger only where no file exists; an
        existing file that is empty or holds no ghw schema is refused
        (:class:`LedgerUnusableError`, exit 2) unless ``initialize`` asks for it explicitly
        (``ghw ledger init``, ``ghw init --force``).
        """
        p = Path(path)
        memory = str(path) == ":memory:"
        if not memory and p.is_dir():
            raise LedgerUnusableError(
                f"the ledger {p} is a directory: point `ledger` (or `issues_path`) at a file "
                "path, e.g. <issues_path>/ghw.db; nothing was changed."
            )
        if readonly:
            if not p.exists():
                raise LedgerError(
                    f"no ledger at {p}: create it with `ghw init --issues-path DIR` "
                    "(or check `issues_path` / `ledger` in the config)"
                )
            db = await aiosqlite.connect(
                f"file:{quote(str(p.resolve()))}?mode=ro", uri=True, isolation_level=None
            )
        else:
            create = memory or initialize or not p.exists()
            if not memory:
                try:
                    p.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise LedgerUnusableError(
                        f"the ledger's directory {p.parent} cannot be created ({exc.strerror}): "
                        "point `ledger` or `issues_path` at a writable place; nothing was changed."
                    ) from None
            try:
                db = await aiosqlite.connect(str(p), isolation_level=None)
            except sqlite3.Error as exc:
                raise (_unusable(exc, p) or _translate(exc, p)) from None
        try:
            await db.create_function("ghw_fold", 1, _fold_case, deterministic=True)
            await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if readonly:
                await db.execute("PRAGMA query_only = 1")
                await check_readable(db, p)
            else:
                await check_creatable(db, p, create=create)
                await db.execute("PRAGMA journal_mode = WAL")
                # NORMAL in WAL: a power cut may lose the last commits, never corrupt (ADR 0001)
                await db.execute("PRAGMA synchronous = NORMAL")
                # after each checkpoint that resets the WAL, truncate it back to this size, so a
                # burst behind a long reader does not keep a huge -wal file for ever
                await db.execute(f"PRAGMA journal_size_limit = {_WAL_SIZE_LIMIT}")
                if max_page_count:
                    await db.execute(f"PRAGMA max_page_count = {int(max_page_count)}")
                await migrate(db, p, create=create, rebuild=_rebuild_projections)
        except sqlite3.Error as exc:
            await db.close()
            raise (_unusable(exc, p) or _translate(exc, p)) from None
        except BaseException:
            await db.close()
            raise
        ledger = cls(
            db,
            p,
            readonly=readonly,
            clock=clock,
            worker=worker,
            is_alive=is_alive,
            host=host or socket.gethostname(),
        )
        ledger._busy_ms = int(busy_timeout * 1000)
        return ledger

    async def close(self) -> None:
        """Close the connection; a writer first checkpoints the WAL into the main file, so that
        ``ghw.db`` alone is a whole copy once no ghw process has it open."""
        try:
            if not self.readonly:
                await self.checkpoint()
        finally:
            await self._db.close()

    async def checkpoint(self) -> bool:
        """Copy the WAL into the database file and truncate it; True when it was complete.

        Never waits long: a reader still inside a transaction (another process) keeps part of
        the WAL, which a later checkpoint copies.
        """
        async with self._lock:
            if self._db.in_transaction:
                return False
            try:
                await self._db.execute("PRAGMA busy_timeout = 200")
                rows = await self._db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error:
                return False
            finally:
                with contextlib.suppress(sqlite3.Error):
                    await self._db.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        row = next(iter(rows), None)
        return bool(row is not None and row[0] == 0 and row[1] == row[2])

    async def __aenter__(self) -> Ledger:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def now(self) -> datetime:
        return self._clock()

    # --- transactions -----------------------------------------------------------------------

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction, safe under cancellation.

        Every statement runs on aiosqlite's thread whether or not its awaiting task is cancelled,
        so a cancellation can never be allowed to skip the end of a transaction: cancelled while
        BEGIN waits for the lock (or anywhere in the body), the transaction is rolled back before
        the cancellation goes on; cancelled while COMMIT runs, the commit's outcome is awaited
        first. The connection is never left inside a transaction.
        """
        if self.readonly:
            raise LedgerError(f"the ledger {self.path} was opened read-only")
        async with self._lock:
            try:
                await _to_the_end(self._db.execute("BEGIN IMMEDIATE"))
            except sqlite3.Error as exc:
                raise _translate(exc, self.path) from None
            except BaseException:
                await self._rollback()
                raise
            try:
                yield self._db
            except BaseException as exc:
                await self._rollback()
                if isinstance(exc, sqlite3.Error):
                    raise _translate(exc, self.path) from None
                raise
            try:
                await _to_the_end(self._db.execute("COMMIT"))
            except sqlite3.Error as exc:
                await self._rollback()
                raise _translate(exc, self.path) from None
            except BaseException:
                await self._rollback()
                raise

    async def _rollback(self) -> None:
        """Roll back whatever transaction is open, even from a cancelled task."""
        # SQLite rolls back by itself on some errors (SQLITE_FULL): a second ROLLBACK would fail
        # and hide the real error; a BEGIN that never ran leaves nothing to roll back.
        with contextlib.suppress(sqlite3.Error):
            await _to_the_end(self._rollback_if_open())

    async def _rollback_if_open(self) -> None:
        if self._db.in_transaction:
            await self._db.execute("ROLLBACK")

    # Reads run start to finish in one call on aiosqlite's thread. With a cursor kept across
    # awaits, another task's BEGIN IMMEDIATE could run while the SELECT is still open: the
    # connection then holds a read transaction, and SQLite answers SQLITE_BUSY at once (no busy
    # handler: it would be a deadlock) whenever another process is writing.

    async def _fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return list(await self._db.execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise _translate(exc, self.path) from None

    async def _fetchone(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = await self._fetchall(sql, params)
        return rows[0] if rows else None

    # --- appending --------------------------------------------------------------------------

    async def append(
        self,
        stream_id: str,
        expected_version: int | None,
        events: Sequence[Event],
        *,
        fence: Claim | None = None,
        cycle_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> list[StoredEvent]:
        """Append ``events`` to one stream atomically, folding them into its projection.

        ``expected_version`` None skips the optimistic check (the fold still refuses illegal
        transitions). ``fence`` is the claim under which a step writes; a stale one is refused.
        """
        request = AppendRequest(stream_id, expected_version, events, fence)
        return await self.append_batch(
            [request], cycle_id=cycle_id, correlation_id=correlation_id, causation_id=causation_id
        )

    async def append_batch(
        self,
        requests: Sequence[AppendRequest],
        *,
        cycle_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> list[StoredEvent]:
        """Several appends in one transaction: all of them or none."""
        async with self._write():  # (which translates SQLite's errors)
            return await self._append_in_tx(requests, cycle_id, correlation_id, causation_id)

    async def _load_views(self, stream_ids: Iterable[str]) -> dict[str, Any]:
        by_kind: dict[str, list[str]] = {}
        for sid in stream_ids:
            by_kind.setdefault(stream_kind(sid), []).append(sid)
        views: dict[str, Any] = {}
        for kind, ids in by_kind.items():
            table, columns = PROJECTION_TABLES[kind]
            decode = FROM_ROW[kind]
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" * len(chunk))
                rows = await self._fetchall(
                    f"SELECT {', '.join(columns)} FROM {table} WHERE stream_id IN ({marks})",
                    chunk,
                )
                for row in rows:
                    views[row[0]] = decode(row)
        return views

    async def _append_in_tx(
        self,
        requests: Sequence[AppendRequest],
        cycle_id: str | None,
        correlation_id: str | None,
        causation_id: str | None,
    ) -> list[StoredEvent]:
        """Check, encode, fold, write: the events of ``requests`` and their projections, in the
        caller's transaction."""
        views = await self._load_views({r.stream_id for r in requests})
        tokens = await self._fence_tokens(requests)
        encoder = BatchEncoder(
            await self._chain_head(),
            sum(len(r.events) for r in requests),
            ts=format_ts(self._clock()),
            actor=self._actor,
            cycle_id=cycle_id,
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        stored: list[StoredEvent] = []
        touched: dict[str, tuple[str, Any]] = {}
        released: list[str] = []
        for req in requests:
            sid = req.stream_id
            kind = stream_kind(sid)
            fold = _FOLDS[kind]
            view = views.get(sid)
            leased = _check(req, kind, view, tokens)
            version = view.version if view is not None else 0
            for event in req.events:
                # (which events only the holder may append: their classes say, Event.LEASED)
                if leased and event.LEASED and req.fence is None:
                    raise IllegalTransitionError(
                        sid, view.state, event.TYPE, "only the lease holder may append it"
                    )
                version += 1
                record = encoder.encode(sid, version, event)
                view = fold(view, record)
                stored.append(record)
            views[sid] = view
            touched[sid] = (kind, view)
            # A lease exists only while a step runs (reap clears any other): only a stream that
            # was running, or a fenced step's end, can leave one behind.
            if (leased or req.fence is not None) and view.state not in RUNNING:
                released.append(sid)
        await self._write_rows(encoder.rows, touched.values(), released)
        return stored

    async def _fence_tokens(self, requests: Sequence[AppendRequest]) -> dict[str, int]:
        """The lease token each fenced request's stream holds now (-1: no lease)."""
        tokens: dict[str, int] = {}
        for r in requests:
            if r.fence is not None:
                row = await self._fetchone(
                    "SELECT token FROM leases WHERE stream_id = ?", (r.stream_id,)
                )
                tokens[r.stream_id] = row[0] if row else -1
        return tokens

    async def _chain_head(self) -> tuple[int, str]:
        """(seq, hash) of the last stored event: where the next one chains on."""
        last = await self._fetchone("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        return (last[0], last[1]) if last else (0, GENESIS)

    async def _write_rows(
        self,
        event_rows: Sequence[tuple[Any, ...]],
        views: Iterable[tuple[str, Any]],
        released: Sequence[str],
    ) -> None:
        """Insert the events, replace the projection rows of ``views`` ((kind, view) pairs) and
        delete the leases of the steps that ended."""
        await _insert_rows(self._db, "INSERT", "events", EVENT_COLUMNS, event_rows)
        by_kind: dict[str, list[tuple[Any, ...]]] = {}
        for kind, view in views:
            by_kind.setdefault(kind, []).append(row_for(kind, view))
        for kind, rows in by_kind.items():
            table, columns = PROJECTION_TABLES[kind]
            await _insert_rows(self._db, "INSERT OR REPLACE", table, columns, rows)
        if released:
            await self._db.executemany(
                "DELETE FROM leases WHERE stream_id = ?", [(s,) for s in released]
            )

    # --- leases -----------------------------------------------------------------------------

    async def _lease_rows(self, where: str = "", params: Sequence[Any] = ()) -> list[LeaseRow]:
        rows = await self._fetchall(
            "SELECT stream_id, repo, phase, token, holder_host, holder_pid, holder_start, worker, "
            f"claimed_at, expires_at, pgid, leader_start FROM leases {where} ORDER BY stream_id",
            params,
        )
        return [
            LeaseRow(
                stream_id=r[0],
                repo=r[1],
                phase=r[2],
                token=r[3],
                holder=Holder(r[4], r[5], r[6], r[7]),
                claimed_at=r[8],
                expires_at=r[9],
                pgid=r[10],
                leader_start=r[11],
            )
            for r in rows
        ]

    async def leases(self) -> list[LeaseRow]:
        return await self._lease_rows()

    async def _reap_in_tx(self, retry: RetryPolicy) -> list[Takeover]:
        now = self._clock().timestamp()
        takeovers: list[Takeover] = []
        requests: list[AppendRequest] = []
        for lease in await self._lease_rows():
            if not self._is_alive(lease.holder):
                reason = "holder_dead"
            elif lease.expires_at <= now:
                reason = "expired"
            else:
                continue
            view = (await self._load_views([lease.stream_id])).get(lease.stream_id)
            if view is None or view.state not in RUNNING:
                await self._db.execute("DELETE FROM leases WHERE stream_id = ?", (lease.stream_id,))
                continue
            if reason == "expired":
                next_retry = self._retry_at(retry.delay(view.attempts + 1))
            else:
                next_retry = self._ready_again(view)
            event = LeaseExpired(
                reason=reason,
                holder=lease.holder.as_dict(),
                phase=lease.phase,
                max_attempts=retry.max_attempts,
                next_retry_at=next_retry,
                pgid=lease.pgid,
                leader_start=lease.leader_start,
            )
            requests.append(AppendRequest(lease.stream_id, view.version, [event]))
            takeovers.append(
                Takeover(
                    lease.stream_id,
                    reason,
                    lease.phase,
                    lease.pgid,
                    lease.leader_start,
                    lease.holder.as_dict(),
                )
            )
        if requests:
            await self._append_in_tx(requests, None, None, None)
        return takeovers

    async def reap(self, *, retry: RetryPolicy = _NO_RETRY) -> list[Takeover]:
        """Take over every lease whose holder is dead or whose time is up.

        A step whose time is up counts an attempt (of ``retry.max_attempts``) and may run again
        after ``retry``'s back-off. Returns what was taken over so the caller can kill the old
        agent's process group.
        """
        async with self._write():
            return await self._reap_in_tx(retry)

    async def claim(
        self,
        phase: str,
        from_states: Sequence[str],
        filters: ClaimFilters | None = None,
        holder: Holder | None = None,
        ttl: float = 300.0,
        *,
        started: Event,
        retry: RetryPolicy = _NO_RETRY,
    ) -> tuple[Claim, IssueView, list[Takeover]] | None:
        """Claim the oldest ready issue in ``from_states`` that matches ``filters``.

        One transaction: take over dead or expired leases (as :meth:`reap` with ``retry``), pick
        the issue, append the step's ``*Started`` event and write the lease, whose fencing token
        is that event's seq.

        ``started`` is that event as a value, less what only the claimed issue knows: the claim
        writes the issue's attempt number into it, and its branch when the event has one. No
        caller's code runs inside the transaction.
        """
        filters = filters or ClaimFilters()
        holder = holder or Holder.current()
        async with self._write():
            takeovers = await self._reap_in_tx(retry)
            view = await self._next_ready(from_states, filters)
            if view is None:
                return None
            event = _started_for(started, view)
            [record] = await self._append_in_tx(
                [AppendRequest(view.stream_id, view.version, [event])], None, None, None
            )
            now = self._clock().timestamp()
            await self._db.execute(
                "INSERT INTO leases (stream_id, repo, phase, token, holder_host, holder_pid, "
                "holder_start, worker, claimed_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    view.stream_id,
                    view.repo,
                    phase,
                    record.seq,
                    holder.host,
                    holder.pid,
                    holder.start,
                    holder.worker,
                    now,
                    now + ttl,
                ),
            )
            claim = Claim(
                stream_id=view.stream_id,
                phase=phase,
                token=record.seq,
                holder=holder,
                expires_at=now + ttl,
                from_state=view.state,
                version=record.version,
            )
            views = await self._load_views([view.stream_id])
            return claim, views[view.stream_id], takeovers

    async def ready_issues(
        self, from_states: Sequence[str], filters: ClaimFilters | None = None, limit: int = 1000
    ) -> list[IssueView]:
        """What claims would take now, oldest first, without claiming (``--dry-run``)."""
        return await self._ready(from_states, filters or ClaimFilters(), limit)

    async def _next_ready(
        self, from_states: Sequence[str], filters: ClaimFilters
    ) -> IssueView | None:
        found = await self._ready(from_states, filters, 1)
        return found[0] if found else None

    async def _ready(
        self, from_states: Sequence[str], filters: ClaimFilters, limit: int
    ) -> list[IssueView]:
        now = format_ts(self._clock())
        where = [
            "ready_at IS NOT NULL",
            "ready_at <= ?",
            "NOT EXISTS (SELECT 1 FROM leases l WHERE l.stream_id = issues.stream_id)",
        ]
        params: list[Any] = [now]
        if filters.repos:
            where.append(f"repo IN ({', '.join('?' * len(filters.repos))})")
            params.extend(filters.repos)
        if filters.numbers:
            ors = []
            for n in filters.numbers:
                if isinstance(n, tuple):
                    ors.append("number BETWEEN ? AND ?")
                    params.extend(n)
                else:
                    ors.append("number = ?")
                    params.append(n)
            where.append(f"({' OR '.join(ors)})")
        if filters.labels:
            # GitHub's labels are case-insensitive: `--label Bug` takes issues labelled `bug`
            marks = ", ".join("?" * len(filters.labels))
            where.append(
                f"EXISTS (SELECT 1 FROM json_each(labels) WHERE ghw_fold(value) IN ({marks}))"
            )
            params.extend(label.casefold() for label in filters.labels)
        if filters.since:
            where.append("gh_updated_at >= ?")
            params.append(filters.since)
        if filters.exclude:
            where.append(f"stream_id NOT IN ({', '.join('?' * len(filters.exclude))})")
            params.extend(filters.exclude)
        found: list[IssueView] = []
        decode = FROM_ROW["issue"]
        # one indexed query per state, each stopping at its first ready rows
        for state in from_states:
            rows = await self._fetchall(
                f"SELECT {', '.join(ISSUE_COLUMNS)} FROM issues WHERE state = ? AND "
                + " AND ".join(where)
                + " ORDER BY number, repo LIMIT ?",
                [state, *params, limit],
            )
            found.extend(decode(row) for row in rows)
        found.sort(key=lambda v: (v.number, v.repo))
        return found[:limit]

    async def renew(self, claim: Claim, ttl: float = 300.0) -> Claim:
        """Extend the lease; LeaseLostError when it was taken over, held or closed."""
        expires = self._clock().timestamp() + ttl
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE leases SET expires_at = ? WHERE stream_id = ? AND token = ?",
                (expires, claim.stream_id, claim.token),
            )
            if cur.rowcount != 1:
                raise LeaseLostError(
                    f"{claim.stream_id}: the lease (token {claim.token}) is gone; stop working"
                )
        return dataclasses.replace(claim, expires_at=expires)

    async def record_agent(self, claim: Claim, pgid: int, leader_start: float | None) -> None:
        """Write the agent's process group into the lease, so a takeover can kill it."""
        async with self._write() as db:
            await db.execute(
                "UPDATE leases SET pgid = ?, leader_start = ? WHERE stream_id = ? AND token = ?",
                (pgid, leader_start, claim.stream_id, claim.token),
            )

    def _retry_at(self, delay: float | None) -> str | None:
        """The time ``delay`` seconds from now on the ledger's clock (None stays None)."""
        return None if delay is None else format_ts(self._clock() + timedelta(seconds=delay))

    def _ready_again(self, view: IssueView) -> str | None:
        """The retry time of a step that ends without counting an attempt: a retry claimed from
        a failed state was ready (its back-off over), so it is ready again now; a first attempt
        goes back to a state that needs no retry time."""
        return format_ts(self._clock()) if view.claimed_from in FAILED else None

    async def release(
        self, claim: Claim, reason: str = "interrupted", *, max_attempts: int = 3
    ) -> bool:
        """End an unfinished step: ``LeaseExpired{reason}`` and the lease deleted, atomically.

        No attempt is counted, and the issue is exactly as retryable as before its claim.

        Returns False when the lease was already gone (nothing to do).
        """
        async with self._write():
            row = await self._fetchone(
                "SELECT token FROM leases WHERE stream_id = ?", (claim.stream_id,)
            )
            if row is None or row[0] != claim.token:
                return False
            view = (await self._load_views([claim.stream_id]))[claim.stream_id]
            if view.state not in RUNNING:
                await self._db.execute("DELETE FROM leases WHERE stream_id = ?", (claim.stream_id,))
                return True
            event = LeaseExpired(
                reason=reason,
                holder=claim.holder.as_dict(),
                phase=STEP_OF_RUNNING[view.state][0],
                max_attempts=max_attempts,
                next_retry_at=self._ready_again(view),
            )
            await self._append_in_tx(
                [AppendRequest(claim.stream_id, view.version, [event], claim)], None, None, None
            )
            return True

    # --- reading ----------------------------------------------------------------------------

    async def history(self, stream_id: str) -> list[StoredEvent]:
        rows = await self._fetchall(
            f"{_EVENT_SELECT} WHERE stream_id = ? ORDER BY version", (stream_id,)
        )
        return [decode_row(r) for r in rows]

    async def read(
        self, after_seq: int = 0, until_seq: int | None = None, *, chunk: int = 5000
    ) -> AsyncIterator[StoredEvent]:
        """Every event with ``after_seq < seq <= until_seq``, in order."""
        seq = after_seq
        while True:
            if until_seq is not None:
                rows = await self._fetchall(
                    f"{_EVENT_SELECT} WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                    (seq, until_seq, chunk),
                )
            else:
                rows = await self._fetchall(
                    f"{_EVENT_SELECT} WHERE seq > ? ORDER BY seq LIMIT ?", (seq, chunk)
                )
            if not rows:
                return
            for row in rows:
                yield decode_row(row)
            seq = rows[-1][0]

    async def read_raw(
        self, after_seq: int = 0, until_seq: int | None = None, *, chunk: int = 20000
    ) -> AsyncIterator[list[tuple[Any, ...]]]:
        """Raw event rows in chunks (for replay, which checks hashes on the stored text).

        The next chunk is fetched (on aiosqlite's thread) while the caller folds this one.
        """
        limit = until_seq if until_seq is not None else 2**62

        def fetch(after: int) -> asyncio.Future[list[Any]]:
            return asyncio.ensure_future(
                self._fetchall(
                    f"{_EVENT_SELECT} WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                    (after, limit, chunk),
                )
            )

        pending = fetch(after_seq)
        while True:
            rows = await pending
            if not rows:
                return
            pending = fetch(rows[-1][0])
            try:
                yield rows
            except BaseException:
                pending.cancel()
                raise

    async def issue(self, stream_id: str) -> IssueView | None:
        return (await self._load_views([stream_id])).get(stream_id)

    async def issues(
        self, *, repo: str | None = None, states: Sequence[str] | None = None
    ) -> list[IssueView]:
        where, params = [], []
        if repo:
            where.append("repo = ?")
            params.append(repo)
        if states:
            where.append(f"state IN ({', '.join('?' * len(states))})")
            params.extend(states)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = await self._fetchall(
            f"SELECT {', '.join(ISSUE_COLUMNS)} FROM issues {clause} ORDER BY repo, number",
            params,
        )
        return [FROM_ROW["issue"](r) for r in rows]

    async def view(self, stream_id: str) -> Any:
        """The projection of any stream (issue, repository, cycle or loop), or None."""
        return (await self._load_views([stream_id])).get(stream_id)

    async def repos(self) -> list[Any]:
        table, columns = PROJECTION_TABLES["repo"]
        rows = await self._fetchall(f"SELECT {', '.join(columns)} FROM {table} ORDER BY stream_id")
        return [FROM_ROW["repo"](r) for r in rows]

    async def cycles(self, limit: int = 10) -> list[Any]:
        table, columns = PROJECTION_TABLES["cycle"]
        rows = await self._fetchall(
            f"SELECT {', '.join(columns)} FROM {table} ORDER BY started DESC LIMIT ?", (limit,)
        )
        return [FROM_ROW["cycle"](r) for r in rows]

    async def state_counts(self) -> list[tuple[str, str, int]]:
        rows = await self._fetchall(
            "SELECT repo, state, COUNT(*) FROM issues GROUP BY repo, state ORDER BY repo, state"
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def total_cost(self) -> float:
        row = await self._fetchone("SELECT COALESCE(SUM(cost_usd), 0) FROM issues")
        return float(row[0])

    async def last_seq(self) -> int:
        row = await self._fetchone("SELECT COALESCE(MAX(seq), 0) FROM events")
        return int(row[0])

    async def count_events(self) -> int:
        row = await self._fetchone("SELECT COUNT(*) FROM events")
        return int(row[0])

    async def projection_rows(self, kind: str) -> list[tuple[Any, ...]]:
        table, columns = PROJECTION_TABLES[kind]
        return [
            tuple(r)
            for r in await self._fetchall(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY stream_id"
            )
        ]

    async def replace_projections(self, rows_by_kind: dict[str, list[tuple[Any, ...]]]) -> None:
        """Swap in rebuilt projections: fill new tables, then drop and rename, one transaction."""
        async with self._write() as db:
            await _replace_projections_in_tx(db, rows_by_kind)

    @property
    def schema_version(self) -> int:
        return SCHEMA_VERSION
