"""Appending: the hash chain, optimistic concurrency, append-only triggers, fencing."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from ledger_helpers import synced

from ghw.errors import (
    ConcurrencyError,
    IllegalTransitionError,
    LeaseLostError,
    StaleFenceError,
)
from ghw.ledger.hashing import GENESIS, canonical_json, event_hash, event_hash_from_texts
from ghw.ledger.store import Ledger
from ghw.machine import events as ev


async def test_first_event_chains_from_genesis_and_hash_is_as_specified(ledger: Ledger) -> None:
    [first] = await ledger.append("o/r#1", 0, [synced()])
    [second] = await ledger.append("o/r#1", 1, [ev.Held(reason="x")])
    assert first.prev_hash == GENESIS and first.seq == 1 and first.version == 1
    assert second.prev_hash == first.hash
    fields = {k: v for k, v in first.as_dict().items() if k not in ("prev_hash", "hash")}
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first.hash == hashlib.sha256((GENESIS + body).encode()).hexdigest()


async def test_hash_from_stored_text_equals_hash_from_fields(ledger: Ledger) -> None:
    await ledger.append("o/r#1", 0, [synced(title='ünïcödé \u2028 "quoted"', body="x\x00y")])
    async for rows in ledger.read_raw():
        for row in rows:
            stored = await ledger.history(row[2])
            fields = {
                k: v for k, v in stored[0].as_dict().items() if k not in ("prev_hash", "hash")
            }
            assert event_hash_from_texts(row[12], row) == event_hash(row[12], fields) == row[13]


async def test_payload_is_stored_as_canonical_json(ledger: Ledger, tmp_path: Path) -> None:
    await ledger.append("o/r#1", 0, [synced(labels=["b", "a"])])
    conn = sqlite3.connect(tmp_path / "ghw.db")
    text = conn.execute("SELECT payload FROM events").fetchone()[0]
    conn.close()
    assert text == canonical_json(json.loads(text))


async def test_expected_version_conflict(ledger: Ledger) -> None:
    await ledger.append("o/r#1", 0, [synced()])
    with pytest.raises(ConcurrencyError) as info:
        await ledger.append("o/r#1", 0, [synced()])
    assert info.value.actual == 1
    assert await ledger.count_events() == 1


async def test_two_connections_same_expected_version_exactly_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "ghw.db"
    a = await Ledger.open(path)
    b = await Ledger.open(path)
    try:
        await a.append("o/r#1", 0, [synced()])
        results = await asyncio.gather(
            a.append("o/r#1", 1, [ev.Held(reason="a")]),
            b.append("o/r#1", 1, [ev.Held(reason="b")]),
            return_exceptions=True,
        )
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1 and isinstance(errors[0], ConcurrencyError | IllegalTransitionError)
        assert await a.count_events() == 2
    finally:
        await a.close()
        await b.close()


async def test_events_table_refuses_update_and_delete(ledger: Ledger, tmp_path: Path) -> None:
    await ledger.append("o/r#1", 0, [synced()])
    conn = sqlite3.connect(tmp_path / "ghw.db")
    try:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE events SET type = 'x'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM events")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO events SELECT seq + 100, event_id || 'x', stream_id, version, type, "
                "schema_version, payload, ts, actor, cycle_id, correlation_id, causation_id, "
                "prev_hash, hash FROM events"
            )
    finally:
        conn.close()


async def test_illegal_transition_writes_nothing(ledger: Ledger) -> None:
    await ledger.append("o/r#1", 0, [synced()])
    before = await ledger.issue("o/r#1")
    with pytest.raises(IllegalTransitionError):
        await ledger.append("o/r#1", 1, [ev.Held(reason="x"), ev.PlanCompleted(text="p")])
    assert await ledger.count_events() == 1
    assert await ledger.issue("o/r#1") == before


async def test_batch_is_all_or_nothing(ledger: Ledger) -> None:
    from ghw.ledger.records import AppendRequest

    with pytest.raises(IllegalTransitionError):
        await ledger.append_batch(
            [
                AppendRequest("o/r#1", 0, [synced()]),
                AppendRequest("o/r#2", 0, [ev.PlanStarted()]),
            ]
        )
    assert await ledger.count_events() == 0
    assert await ledger.issue("o/r#1") is None


async def _claimed(ledger: Ledger):
    await ledger.append("o/r#1", 0, [synced()])
    result = await ledger.claim("plan", ["synced"], started=ev.PlanStarted(agent="a"))
    assert result is not None
    return result[0]


async def test_step_events_need_the_lease(ledger: Ledger) -> None:
    claim = await _claimed(ledger)
    with pytest.raises(IllegalTransitionError, match="lease holder"):
        await ledger.append("o/r#1", claim.version, [ev.PlanCompleted(text="p")])
    await ledger.append("o/r#1", claim.version, [ev.PlanCompleted(text="p")], fence=claim)
    assert (await ledger.issue("o/r#1")).state == "planned"
    assert await ledger.leases() == []


async def test_hold_on_running_issue_deletes_lease_and_fences_the_holder(ledger: Ledger) -> None:
    claim = await _claimed(ledger)
    await ledger.append("o/r#1", None, [ev.Held(reason="operator")])
    assert await ledger.leases() == []
    with pytest.raises(LeaseLostError):
        await ledger.renew(claim)
    with pytest.raises(StaleFenceError):
        await ledger.append("o/r#1", None, [ev.PlanCompleted(text="late")], fence=claim)
    view = await ledger.issue("o/r#1")
    assert view.state == "held" and view.held_from == "synced"


async def test_close_on_running_issue_deletes_lease(ledger: Ledger) -> None:
    claim = await _claimed(ledger)
    await ledger.append("o/r#1", None, [ev.IssueClosed()])
    assert await ledger.leases() == []
    assert not await ledger.release(claim)


async def test_release_ends_step_interrupted_without_counting(ledger: Ledger) -> None:
    claim = await _claimed(ledger)
    assert await ledger.release(claim)
    view = await ledger.issue("o/r#1")
    assert (view.state, view.attempts) == ("synced", 0)
    history = await ledger.history("o/r#1")
    assert history[-1].type == "LeaseExpired" and history[-1].payload["reason"] == "interrupted"


async def test_history_and_read(ledger: Ledger) -> None:
    await ledger.append("o/r#1", 0, [synced()])
    await ledger.append("o/r#2", 0, [synced(number=2)])
    await ledger.append("o/r#1", 1, [ev.Held(reason="x")])
    assert [e.type for e in await ledger.history("o/r#1")] == ["IssueSynced", "Held"]
    seqs = [e.seq async for e in ledger.read(1, 3)]
    assert seqs == [2, 3]


async def test_batches_larger_than_a_statement_are_stored_whole(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows go many per INSERT; with a cap of 28 parameters an event row (14 columns) goes two
    per statement and a projection row one, remainders included: every row lands, once."""
    from ghw.ledger import store
    from ghw.ledger.records import AppendRequest
    from ghw.ledger.replay import replay

    monkeypatch.setattr(store, "_max_params", lambda: 28)
    requests = [
        AppendRequest(
            f"o/r#{n}", 0, [synced(number=n), ev.IssueClosed()] if n % 2 else [synced(number=n)]
        )
        for n in range(1, 8)
    ]
    stored = await ledger.append_batch(requests)
    assert [e.seq for e in stored] == list(range(1, 12))
    assert await ledger.count_events() == 11
    states = {v.stream_id: v.state for v in await ledger.issues()}
    assert states == {f"o/r#{n}": "closed" if n % 2 else "synced" for n in range(1, 8)}
    report = await replay(ledger, verify=True)
    assert report.verified, report.problem
