"""Issue 13: an interrupted retry is picked up again (item 5), the lease renewer outlives a lock
wait (item 7), and ``*Started`` events record the real attempt limit and holder (item 10)."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from phases_kit import Rig, await_for, payloads, terminate_when_agent_runs
from structlog.testing import capture_logs

REPO = "demo/calc"


async def _agent_running(rig: Rig) -> object:
    leases = await rig.leases()
    return leases[0] if leases and leases[0].pgid else None


async def test_a_retry_interrupted_by_sigterm_is_retried_by_the_next_cycle(rig: Rig) -> None:
    """The repro of item 5: a push that fails once, a retry killed by SIGTERM, then cycles."""
    result, out = await rig.run("sync", "plan", issue_numbers=[1])
    assert result.ok, out
    rig.configure(**{"retry.backoff": "0s", "shutdown.grace": "1s"})
    rig.hub.control.fail(f"/{REPO}.git/git-receive-pack", status=500, method="POST", count=1)
    first = rig.ghw("implement", "--issue", "1")
    assert first.returncode == 1, first.stdout + first.stderr
    view = await rig.view(1)
    assert (view.state, view.attempts) == ("implement_failed", 1)
    rig.configure(**{"agents.scripted.delay": "30s"})
    proc, out, err, _lease = await terminate_when_agent_runs(rig, "implement", "--issue", "1")
    assert proc.returncode == 130, out + err
    view = await rig.view(1)
    assert (view.state, view.attempts) == ("implement_failed", 1)
    assert view.next_retry_at is not None, "interrupted retry parked until `ghw retry`"
    code, status_out, _ = await rig.cli("status")
    assert code == 0 and "waits for `ghw retry`" not in status_out, status_out
    rig.configure(**{"agents.scripted.delay": "0s"})
    result, out = await rig.run("implement", issue_numbers=[1])
    assert result.ok, out
    assert await rig.state(1) == "implemented"
    assert len(rig.pulls(head="ghw/issue-1")) == 1


async def test_the_renewer_survives_a_renewal_that_waits_out_busy_timeout(rig: Rig) -> None:
    result, out = await rig.run("sync", "plan", issue_numbers=[1])
    assert result.ok, out
    go = rig.tmp / "implement-may-finish"
    rig.script({"issues": {1: {"implement": {"wait_for": str(go)}}}})
    rig.configure(**{"lease.ttl": "3s"})
    with capture_logs() as logs:
        step = asyncio.create_task(rig.run("implement", issue_numbers=[1]))
        await await_for(lambda: _agent_running(rig), timeout=30)
        # another process holds the write lock past busy_timeout (5 s): a renewal fails
        other = sqlite3.connect(rig.ledger_path, isolation_level=None, timeout=0)
        other.execute("BEGIN IMMEDIATE")
        await asyncio.sleep(6.5)
        other.execute("ROLLBACK")
        other.close()
        await asyncio.sleep(2.5)  # one more renewal interval (1 s) and its retry
        lease = await _agent_running(rig)
        assert lease is not None
        assert lease.expires_at > time.time() + 1, "renewals stopped after the lock wait"
        go.touch()
        result, out = await step
    assert result.ok, out
    warnings = [e for e in logs if e.get("event") == "lease renewal failed; retrying"]
    assert warnings and warnings[0]["log_level"] == "warning"
    assert payloads(await rig.history(1), "LeaseExpired") == []
    assert await rig.state(1) == "implemented"


async def test_started_events_record_the_configured_attempt_limit_and_holder(rig: Rig) -> None:
    rig.configure(**{"retry.max_attempts": 5})
    result, out = await rig.run("sync", "plan", issue_numbers=[1])
    assert result.ok, out
    [started] = payloads(await rig.history(1), "PlanStarted")
    assert started["max_attempts"] == 5
    assert started["attempt"] == 1
    holder = started["holder"]
    assert holder["pid"] > 0 and holder["host"] and holder["worker"] == "plan"
