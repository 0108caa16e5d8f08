"""Issue 13, durability: cancellation-safe transactions (item 6), retryable after an interrupted
retry (item 5), empty or foreign ledger files refused (item 8), WAL checkpointed on close, and
the v1 → v2 migration that rebuilds projections."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from ledger_helpers import FakeClock, file_digest, synced

from ghw.errors import LedgerUnusableError
from ghw.ledger.migrations import SCHEMA_VERSION
from ghw.ledger.records import RetryPolicy
from ghw.ledger.replay import replay
from ghw.ledger.store import Ledger, format_ts
from ghw.machine import events as ev

# the claim writes the claimed issue's attempt number (view.attempts + 1) into it
PLAN_STARTED = ev.PlanStarted(agent="scripted", max_attempts=3)


# --- item 6: a cancelled write never wedges the connection ------------------------------------


async def test_cancelled_begin_rolls_back_and_the_connection_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "ghw.db"
    ledger = await Ledger.open(path)
    await ledger.append("o/r#1", 0, [synced()])
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        task = asyncio.create_task(ledger.append("o/r#2", 0, [synced(number=2)]))
        await asyncio.sleep(0.3)  # our BEGIN IMMEDIATE now waits in SQLite's busy handler
        task.cancel()
        asyncio.get_running_loop().call_later(0.2, other.execute, "ROLLBACK")
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
    assert not ledger._db.in_transaction
    # the same connection writes again, and other processes are not locked out
    await ledger.append("o/r#3", 0, [synced(number=3)])
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()
    assert {v.stream_id for v in await ledger.issues()} == {"o/r#1", "o/r#3"}
    await ledger.close()


async def test_a_cancellation_is_never_swallowed_by_the_statement_s_own_error(
    tmp_path: Path,
) -> None:
    """Cancelled while BEGIN waits, and BEGIN then times out (locked): the caller sees the
    cancellation, not a LedgerLockedError it would handle and carry on after."""
    path = tmp_path / "ghw.db"
    ledger = await Ledger.open(path, busy_timeout=0.3)
    await ledger.append("o/r#1", 0, [synced()])
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    try:
        task = asyncio.create_task(ledger.append("o/r#2", 0, [synced(number=2)]))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert not ledger._db.in_transaction
    await ledger.append("o/r#2", 0, [synced(number=2)])
    await ledger.close()


async def test_cancelled_renewal_mid_begin_leaves_the_lease_usable(tmp_path: Path) -> None:
    path = tmp_path / "ghw.db"
    ledger = await Ledger.open(path)
    await ledger.append("o/r#1", 0, [synced()])
    claim, _, _ = await ledger.claim("plan", ["synced"], started=PLAN_STARTED)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    renew = asyncio.create_task(ledger.renew(claim, 60))
    await asyncio.sleep(0.2)
    renew.cancel()
    asyncio.get_running_loop().call_later(0.2, other.execute, "ROLLBACK")
    with pytest.raises(asyncio.CancelledError):
        await renew
    other.close()
    assert not ledger._db.in_transaction
    await ledger.append("o/r#1", None, [ev.PlanCompleted(text="plan")], fence=claim)
    assert (await ledger.issue("o/r#1")).state == "planned"  # type: ignore[union-attr]
    await ledger.close()


# --- item 5: an interrupted retry stays retryable ----------------------------------------------


@pytest.mark.parametrize("how", ["release", "holder_dead"])
async def test_interrupted_retry_is_as_retryable_as_before(
    tmp_path: Path, clock: FakeClock, how: str
) -> None:
    alive = {"yes": True}
    ledger = await Ledger.open(tmp_path / "ghw.db", clock=clock, is_alive=lambda h: alive["yes"])
    await ledger.append("o/r#1", 0, [synced()])
    claim, _, _ = await ledger.claim("plan", ["synced"], started=PLAN_STARTED)
    retry_at = format_ts(clock.now)
    await ledger.append(
        "o/r#1",
        None,
        [
            ev.PlanFailed(
                error="GitHub 502",
                kind="transient",
                attempt=1,
                max_attempts=3,
                next_retry_at=retry_at,
            )
        ],
        fence=claim,
    )
    clock.advance(120)
    got = await ledger.claim("plan", ["synced", "plan_failed"], started=PLAN_STARTED)
    assert got is not None, "the failed issue is due for its retry"
    claim = got[0]
    clock.advance(5)
    if how == "release":
        assert await ledger.release(claim, "interrupted", max_attempts=3)
    else:
        alive["yes"] = False
        await ledger.reap(retry=RetryPolicy(max_attempts=3))
        alive["yes"] = True
    view = await ledger.issue("o/r#1")
    assert view is not None
    assert view.state == "plan_failed"
    assert view.attempts == 1  # no attempt counted
    assert view.next_retry_at is not None, "an interrupted retry must not wait for `ghw retry`"
    again = await ledger.claim("plan", ["synced", "plan_failed"], started=PLAN_STARTED)
    assert again is not None and again[0].stream_id == "o/r#1"
    assert (await replay(ledger, verify=True)).verified
    await ledger.close()


async def test_expired_lease_that_exhausts_attempts_says_so(
    tmp_path: Path, clock: FakeClock
) -> None:
    ledger = await Ledger.open(tmp_path / "ghw.db", clock=clock)
    await ledger.append("o/r#1", 0, [synced()])
    for _ in range(2):
        got = await ledger.claim("plan", ["synced", "plan_failed"], ttl=10, started=PLAN_STARTED)
        assert got is not None
        clock.advance(11)
        await ledger.reap(retry=RetryPolicy(max_attempts=2, backoff=0))
    view = await ledger.issue("o/r#1")
    assert view is not None and view.state == "plan_failed" and view.attempts == 2
    assert view.next_retry_at is None
    assert "attempts exhausted (2/2)" in (view.last_error or "")
    assert "ghw retry" in (view.last_error or "")
    await ledger.close()


# --- item 8: empty, foreign and garbage files are refused; nothing is created over them -------


async def test_an_empty_existing_file_is_refused_by_writers_and_readers(tmp_path: Path) -> None:
    path = tmp_path / "ghw.db"
    path.write_bytes(b"")
    for readonly in (False, True):
        with pytest.raises(LedgerUnusableError, match="ghw ledger init"):
            await Ledger.open(path, readonly=readonly)
    assert path.read_bytes() == b""
    assert LedgerUnusableError("x").exit_code == 2
    ledger = await Ledger.open(path, initialize=True)  # explicit initialisation works
    await ledger.append("o/r#1", 0, [synced()])
    await ledger.close()
    reopened = await Ledger.open(path)
    assert await reopened.count_events() == 1
    await reopened.close()


@pytest.mark.parametrize("kind", ["foreign", "garbage", "directory", "schemaless"])
async def test_unusable_ledger_paths_are_exit_2_and_untouched(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "ghw.db"
    if kind == "foreign":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE notes (x)")
        conn.commit()
        conn.close()
    elif kind == "garbage":
        path.write_bytes(b"this is not a database at all\n" * 200)
    elif kind == "directory":
        path.mkdir()
    else:  # a valid SQLite file with a journal but no tables: what a crash at creation leaves
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.close()
    before = None if kind == "directory" else file_digest(path)
    for readonly in (False, True):
        for initialize in (False, True) if kind != "schemaless" else (False,):
            with pytest.raises(LedgerUnusableError) as info:
                await Ledger.open(path, readonly=readonly, initialize=initialize)
            assert str(path) in str(info.value)
    if before is not None:
        assert file_digest(path) == before
    assert not (tmp_path / "ghw.db-wal").exists() or kind == "schemaless"


async def test_a_missing_file_is_still_created(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "ghw.db"
    ledger = await Ledger.open(path)
    await ledger.close()
    assert path.exists()


# --- WAL checkpoint on close: ghw.db alone is a whole copy --------------------------------------


async def test_close_checkpoints_so_the_main_file_alone_is_complete(tmp_path: Path) -> None:
    path = tmp_path / "ghw.db"
    ledger = await Ledger.open(path)
    for n in range(1, 51):
        await ledger.append(f"o/r#{n}", 0, [synced(number=n, body="x" * 2000)])
    wal = tmp_path / "ghw.db-wal"
    assert wal.exists() and wal.stat().st_size > 0  # the commits sit in the WAL until now
    await ledger.close()
    assert not wal.exists() or wal.stat().st_size == 0
    copy = tmp_path / "copy" / "ghw.db"
    copy.parent.mkdir()
    shutil.copyfile(path, copy)  # the main file alone, as a naive backup would take it
    reader = await Ledger.open(copy, readonly=True)
    assert await reader.count_events() == 50
    assert (await replay(reader, verify=True)).verified
    await reader.close()


# --- migration from schema 1: projections rebuilt in the migration's transaction ---------------


def _downgrade_to_v1(path: Path) -> None:
    """Turn a fresh ledger into what schema 1 wrote: the cycles table without the new columns,
    an interrupted retry parked by the old fold (next_retry_at NULL), user_version 1."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("DROP TABLE cycles")
    conn.execute(
        "CREATE TABLE cycles (stream_id TEXT PRIMARY KEY, version INTEGER NOT NULL, number "
        "INTEGER, started TEXT, ended TEXT, ok INTEGER, counts TEXT NOT NULL DEFAULT '{}', "
        "errors TEXT NOT NULL DEFAULT '[]', cost_usd REAL NOT NULL DEFAULT 0, last_seq INTEGER "
        "NOT NULL)"
    )
    conn.execute("UPDATE issues SET next_retry_at = NULL, ready_at = NULL")
    conn.execute("PRAGMA user_version = 1")
    conn.execute("COMMIT")
    conn.close()


async def test_a_v1_ledger_is_migrated_and_its_projections_rebuilt(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "ghw.db"
    ledger = await Ledger.open(path, clock=clock)
    await ledger.append("o/r#1", 0, [synced()])
    claim, _, _ = await ledger.claim("plan", ["synced"], started=PLAN_STARTED)
    await ledger.append(
        "o/r#1",
        None,
        [
            ev.PlanFailed(
                error="502", kind="transient", attempt=1, next_retry_at=format_ts(clock.now)
            )
        ],
        fence=claim,
    )
    claim, _, _ = await ledger.claim("plan", ["plan_failed"], started=PLAN_STARTED)  # type: ignore[misc]
    # an interruption recorded the old way: no retry time in the payload
    await ledger.append(
        "o/r#1", None, [ev.LeaseExpired(reason="interrupted", phase="plan")], fence=claim
    )
    await ledger.append("cycle:c1", 0, [ev.CycleStarted(number=1)], cycle_id="c1")
    await ledger.close()
    _downgrade_to_v1(path)

    ledger = await Ledger.open(path, clock=clock)  # a writing open migrates
    assert ledger.schema_version == SCHEMA_VERSION == 3
    backups = list(tmp_path.glob("ghw.db.v1-*.bak"))
    assert len(backups) == 1
    report = await replay(ledger, verify=True)
    assert report.verified, report.problem
    view = await ledger.issue("o/r#1")
    assert view is not None and view.state == "plan_failed"
    assert view.next_retry_at is not None  # the old parked retry is retryable again
    [cycle] = await ledger.cycles()
    assert cycle.holder.get("pid") is not None and cycle.interrupted is False
    await ledger.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    cols = [r[1] for r in conn.execute("PRAGMA table_info(cycles)")]
    assert "interrupted" in cols and "holder" in cols
    assert json.loads(conn.execute("SELECT holder FROM cycles").fetchone()[0])["pid"]
    conn.close()


# --- item 11: label filters ignore case, as GitHub does ------------------------------------------


async def test_claim_label_filter_ignores_case(tmp_path: Path) -> None:
    from ghw.ledger.records import ClaimFilters

    ledger = await Ledger.open(tmp_path / "ghw.db")
    await ledger.append("o/r#1", 0, [synced(labels=["Bug"])])
    await ledger.append("o/r#2", 0, [synced(number=2, labels=["ÉCOLE"])])
    await ledger.append("o/r#3", 0, [synced(number=3, labels=["docs"])])
    ready = await ledger.ready_issues(["synced"], ClaimFilters(labels=("bug", "école")))
    assert [v.stream_id for v in ready] == ["o/r#1", "o/r#2"]
    reader = await Ledger.open(tmp_path / "ghw.db", readonly=True)
    ready = await reader.ready_issues(["synced"], ClaimFilters(labels=("BUG",)))
    assert [v.stream_id for v in ready] == ["o/r#1"]
    await reader.close()
    await ledger.close()


_V3_COLUMNS = (
    "pr_opened_ts",
    "pr_seen_updated_at",
    "pr_head_sha",
    "ci",
    "feedback_waiting",
    "feedback_handled",
    "feedback_ignored",
    "rounds",
    "rounds_base",
    "pr_merged_at",
)


def _downgrade_to_v2(path: Path) -> None:
    """What schema 2 had: no follow-up columns in the issues projection, no feedback index."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("DROP INDEX events_feedback_once")
    for column in _V3_COLUMNS:
        conn.execute(f"ALTER TABLE issues DROP COLUMN {column}")
    conn.execute("PRAGMA user_version = 2")
    conn.execute("COMMIT")
    conn.close()


async def test_a_v2_ledger_gains_the_follow_up_columns_and_the_feedback_index(tmp_path) -> None:
    path = tmp_path / "ghw.db"
    ledger = await Ledger.open(path)
    await ledger.append("o/r#1", 0, [synced()])
    await ledger.close()
    _downgrade_to_v2(path)

    ledger = await Ledger.open(path)  # a writing open migrates
    assert ledger.schema_version == SCHEMA_VERSION == 3
    report = await replay(ledger, verify=True)
    assert report.verified, report.problem
    view = await ledger.issue("o/r#1")
    assert view is not None and view.feedback_waiting == [] and view.rounds == 0
    await ledger.close()
    conn = sqlite3.connect(path)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(issues)")}
    indexes = {row[1] for row in conn.execute("PRAGMA index_list(events)")}
    conn.close()
    assert set(_V3_COLUMNS) <= columns
    assert "events_feedback_once" in indexes
