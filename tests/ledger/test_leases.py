"""Claims, leases, fencing and takeover (§3)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from ledger_helpers import FakeClock, synced

from ghw.errors import StaleFenceError
from ghw.ledger.records import ClaimFilters, Holder, RetryPolicy, process_start_time
from ghw.ledger.store import Ledger, format_ts
from ghw.machine import events as ev

# the claim writes the claimed issue's attempt number (view.attempts + 1) into it
PLAN_STARTED = ev.PlanStarted(agent="scripted")


async def seed(ledger: Ledger, repo: str, numbers: range, **kw) -> None:  # type: ignore[no-untyped-def]
    for n in numbers:
        await ledger.append(f"{repo}#{n}", 0, [synced(repo, n, **kw)])


async def test_claims_oldest_first_and_never_twice(ledger: Ledger) -> None:
    await seed(ledger, "o/r", range(3, 0, -1))
    got = []
    while (result := await ledger.claim("plan", ["synced"], started=PLAN_STARTED)) is not None:
        got.append(result[0].stream_id)
    assert got == ["o/r#1", "o/r#2", "o/r#3"]
    assert len(await ledger.leases()) == 3


async def test_claim_filters(ledger: Ledger, clock: FakeClock) -> None:
    await seed(ledger, "a/x", range(1, 6), labels=["bug"], updated_at="2026-01-01T00:00:00Z")
    await seed(ledger, "b/y", range(1, 6), labels=["docs"], updated_at="2026-02-01T00:00:00Z")

    async def ids(filters: ClaimFilters) -> list[str]:
        out = []
        while (
            r := await ledger.claim("plan", ["synced"], filters, started=PLAN_STARTED)
        ) is not None:
            out.append(r[0].stream_id)
            await ledger.release(r[0])
        return out

    # release puts the issue back as ready, so exclude what we saw to walk the set once
    async def walk(**kw) -> list[str]:  # type: ignore[no-untyped-def]
        seen: list[str] = []
        while True:
            r = await ledger.claim(
                "plan", ["synced"], ClaimFilters(exclude=seen, **kw), started=PLAN_STARTED
            )
            if r is None:
                return sorted(seen)
            seen.append(r[0].stream_id)
            await ledger.release(r[0])

    assert await walk(repos=["b/y"]) == [f"b/y#{n}" for n in range(1, 6)]
    assert await walk(numbers=[2, (4, 5)], repos=["a/x"]) == ["a/x#2", "a/x#4", "a/x#5"]
    assert await walk(labels=["docs"]) == [f"b/y#{n}" for n in range(1, 6)]
    assert await walk(since="2026-01-15T00:00:00Z") == [f"b/y#{n}" for n in range(1, 6)]
    assert await ids(ClaimFilters(repos=["nobody/none"])) == []


async def test_skipped_and_permanently_failed_issues_are_never_claimed(
    ledger: Ledger, clock: FakeClock
) -> None:
    await ledger.append("o/r#1", 0, [synced(eligible=False, reason="untrusted")])
    await ledger.append("o/r#2", 0, [synced(number=2)])
    claim, _, _ = await ledger.claim("plan", ["synced", "plan_failed"], started=PLAN_STARTED)
    await ledger.append("o/r#2", None, [ev.PlanFailed(error="no", kind="permanent")], fence=claim)
    assert await ledger.claim("plan", ["synced", "plan_failed"], started=PLAN_STARTED) is None


async def test_back_off_is_honoured(ledger: Ledger, clock: FakeClock) -> None:
    await ledger.append("o/r#1", 0, [synced()])
    claim, _, _ = await ledger.claim("plan", ["synced"], started=PLAN_STARTED)
    clock.advance(1)
    retry_at = format_ts(clock.now.replace(minute=clock.now.minute + 5))
    await ledger.append(
        "o/r#1", None, [ev.PlanFailed(error="timeout", next_retry_at=retry_at)], fence=claim
    )
    assert await ledger.claim("plan", ["plan_failed"], started=PLAN_STARTED) is None
    clock.advance(301)
    result = await ledger.claim("plan", ["plan_failed"], started=PLAN_STARTED)
    assert result is not None and result[1].state == "planning"


async def test_expired_lease_taken_over_counts_an_attempt_and_fences_old_holder(
    ledger: Ledger, clock: FakeClock
) -> None:
    await ledger.append("o/r#1", 0, [synced()])
    old, _, _ = await ledger.claim("plan", ["synced"], ttl=60, started=PLAN_STARTED)
    clock.advance(30)
    assert await ledger.claim("plan", ["synced"], started=PLAN_STARTED) is None  # still held
    clock.advance(31)
    result = await ledger.claim("plan", ["synced"], started=PLAN_STARTED)
    assert result is not None
    new, view, takeovers = result
    assert [t.reason for t in takeovers] == ["expired"]
    assert view.attempts == 1 and new.token > old.token
    with pytest.raises(StaleFenceError):
        await ledger.append("o/r#1", None, [ev.PlanCompleted(text="late")], fence=old)
    await ledger.append("o/r#1", None, [ev.PlanCompleted(text="ok")], fence=new)
    assert (await ledger.issue("o/r#1")).state == "planned"


async def test_dead_holder_is_taken_over_at_once_without_an_attempt(ledger: Ledger) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    start = process_start_time(proc.pid)
    dead = Holder(socket.gethostname(), proc.pid, start, "w")
    await ledger.append("o/r#1", 0, [synced()])
    old, _, _ = await ledger.claim("plan", ["synced"], holder=dead, ttl=3600, started=PLAN_STARTED)
    await ledger.record_agent(old, 4242, 1.0)
    assert await ledger.claim("plan", ["synced"], started=PLAN_STARTED) is None  # alive: kept
    proc.kill()
    proc.wait()
    result = await ledger.claim("plan", ["synced"], started=PLAN_STARTED)
    assert result is not None
    _, view, takeovers = result
    assert [(t.reason, t.pgid, t.leader_start) for t in takeovers] == [("holder_dead", 4242, 1.0)]
    assert view.attempts == 0
    with pytest.raises(StaleFenceError):
        await ledger.append("o/r#1", None, [ev.PlanCompleted(text="late")], fence=old)


async def test_reused_pid_with_other_start_time_counts_as_dead(ledger: Ledger) -> None:
    me = Holder.current()
    impostor = Holder(me.host, me.pid, (me.start or 0) + 1, "old")
    await ledger.append("o/r#1", 0, [synced()])
    await ledger.claim("plan", ["synced"], holder=impostor, ttl=3600, started=PLAN_STARTED)
    takeovers = await ledger.reap()
    assert [t.reason for t in takeovers] == ["holder_dead"]


async def test_renew_extends_the_lease(ledger: Ledger, clock: FakeClock) -> None:
    await ledger.append("o/r#1", 0, [synced()])
    claim, _, _ = await ledger.claim("plan", ["synced"], ttl=60, started=PLAN_STARTED)
    clock.advance(50)
    claim = await ledger.renew(claim, ttl=60)
    clock.advance(50)
    assert await ledger.reap() == []
    clock.advance(11)
    assert [t.reason for t in await ledger.reap()] == ["expired"]


CLAIMER = textwrap.dedent(
    """
    import asyncio, json, sys
    from ghw.ledger.store import Ledger
    from ghw.machine import events as ev

    async def main(path, worker):
        ledger = await Ledger.open(path, worker=worker, busy_timeout=30)
        got = []
        try:
            while True:
                r = await ledger.claim("plan", ["synced"], started=ev.PlanStarted(agent=worker))
                if r is None:
                    break
                claim = r[0]
                got.append(claim.stream_id)
                await ledger.append(claim.stream_id, None, [ev.PlanCompleted(text=worker)], fence=claim)
        finally:
            await ledger.close()
        print(json.dumps(got))

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


async def test_two_processes_never_claim_the_same_issue(tmp_path: Path) -> None:
    path = tmp_path / "ghw.db"
    ledger = await Ledger.open(path)
    await seed(ledger, "o/r", range(1, 61))
    await ledger.close()
    script = tmp_path / "claimer.py"
    script.write_text(CLAIMER)
    env = {**os.environ}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), f"w{i}"], stdout=subprocess.PIPE, env=env
        )
        for i in range(2)
    ]
    outputs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    a, b = (set(o) for o in outputs)
    assert not (a & b)
    assert a | b == {f"o/r#{n}" for n in range(1, 61)}
    ledger = await Ledger.open(path)
    try:
        assert await ledger.leases() == []
        for view in await ledger.issues():
            assert view.state == "planned"
            history = await ledger.history(view.stream_id)
            assert [e.type for e in history] == ["IssueSynced", "PlanStarted", "PlanCompleted"]
    finally:
        await ledger.close()


async def test_a_started_value_gets_the_claimed_issues_attempt_and_branch(
    ledger: Ledger, clock: FakeClock
) -> None:
    await ledger.append("o/r#7", 0, [synced(number=7)])
    claim, _, _ = await ledger.claim("plan", ["synced"], started=PLAN_STARTED)
    failed = ev.PlanFailed(error="timeout", next_retry_at=format_ts(clock.now))
    await ledger.append("o/r#7", None, [failed], fence=claim)
    claim, _, _ = await ledger.claim("plan", ["plan_failed"], started=PLAN_STARTED)
    await ledger.append("o/r#7", None, [ev.PlanCompleted(text="plan")], fence=claim)
    await ledger.claim("implement", ["planned"], started=ev.ImplementStarted(agent="scripted"))
    starts = [e for e in await ledger.history("o/r#7") if e.type.endswith("Started")]
    assert [(e.type, e.payload["attempt"], e.payload.get("branch")) for e in starts] == [
        ("PlanStarted", 1, None),
        ("PlanStarted", 2, None),
        ("ImplementStarted", 1, "ghw/issue-7"),
    ]
    assert PLAN_STARTED.attempt == 1  # the caller's value is not changed


def test_retry_policy_doubles_the_back_off_up_to_its_cap() -> None:
    policy = RetryPolicy(max_attempts=5, backoff=10.0, max_backoff=30.0)
    assert [policy.delay(a) for a in (0, 1, 2, 3, 4)] == [10.0, 10.0, 20.0, 30.0, 30.0]
    assert RetryPolicy(backoff=10.0).delay(4) == 80.0
    assert RetryPolicy().delay(1) is None


async def test_an_expired_step_is_ready_again_after_the_policys_back_off(
    ledger: Ledger, clock: FakeClock
) -> None:
    await ledger.append("o/r#1", 0, [synced()])
    await ledger.claim("plan", ["synced"], ttl=60, started=PLAN_STARTED)
    clock.advance(61)
    policy = RetryPolicy(max_attempts=5, backoff=10.0, max_backoff=30.0)
    assert [t.reason for t in await ledger.reap(retry=policy)] == ["expired"]
    view = await ledger.issue("o/r#1")
    assert view is not None and view.attempts == 1
    assert view.next_retry_at == format_ts(clock.now + timedelta(seconds=10))
    [expired] = [e for e in await ledger.history("o/r#1") if e.type == "LeaseExpired"]
    assert expired.payload["max_attempts"] == 5
