"""The worker's own duties around a step: lease renewal while the agent runs, and SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from phases_kit import Rig, await_for, payloads


async def _agent_running(rig: Rig) -> object:
    leases = await rig.leases()
    return leases[0] if leases and leases[0].pgid else None


async def test_the_lease_is_renewed_while_a_long_agent_runs(rig: Rig) -> None:
    result, out = await rig.run("sync", "plan", issue_numbers=[1, 2])
    assert result.ok, out
    go = rig.tmp / "implement-may-finish"
    rig.script({"issues": {1: {"implement": {"wait_for": str(go)}}}})
    rig.configure(**{"lease.ttl": "1s"})
    first = asyncio.create_task(rig.run("implement", issue_numbers=[1]))
    lease = await await_for(lambda: _agent_running(rig))
    await asyncio.sleep(1.5)  # past the first expiry: only renewal keeps the lease alive
    renewed = await _agent_running(rig)
    assert renewed is not None and renewed.expires_at > lease.expires_at
    # a second run now finds issue 1 held by a live, renewed lease: it takes only issue 2
    result, out = await rig.run("implement", issue_numbers=[1, 2])
    assert result.ok, out
    assert result.phases[0].counts == {"completed": 1}
    assert await rig.state(1) == "implementing"
    go.touch()
    result, out = await first
    assert result.ok, out
    for n in (1, 2):
        events = await rig.history(n)
        assert payloads(events, "LeaseExpired") == []
        assert len(payloads(events, "ImplementStarted")) == 1
        assert await rig.state(n) == "implemented"
    assert len(rig.pulls()) == 2


async def test_sigterm_ends_a_running_step_as_interrupted_without_an_attempt(rig: Rig) -> None:
    result, out = await rig.run("sync", "plan", issue_numbers=[1])
    assert result.ok, out
    rig.configure(**{"agents.scripted.delay": "30s", "shutdown.grace": "1s"})
    proc = rig.spawn("implement", "--issue", "1")
    try:
        lease = await await_for(lambda: _agent_running(rig), timeout=30)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, out + err
    assert time.monotonic() - started < 10  # the grace period, not the agent's 30 s
    assert "implement interrupted" in out
    events = await rig.history(1)
    [expired] = payloads(events, "LeaseExpired")
    assert expired["reason"] == "interrupted"
    view = await rig.view(1)
    assert (view.state, view.attempts) == ("planned", 0)
    assert not await rig.leases()
    assert rig.pulls() == []
    # the agent's group went with the step
    assert not (Path("/proc") / str(lease.pgid)).exists() or _zombie(lease.pgid)


def _zombie(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
