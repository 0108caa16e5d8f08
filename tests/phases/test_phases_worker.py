"""The worker's own duties around a step: lease renewal while the agent runs, and SIGTERM."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from phases_kit import Rig, await_for, payloads, terminate_when_agent_runs


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
    started = time.monotonic()
    proc, out, err, lease = await terminate_when_agent_runs(rig, "implement", "--issue", "1")
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


async def test_an_error_outside_the_steps_waits_for_running_steps_then_is_raised(
    tmp_path: Path,
) -> None:
    """A claim that fails (say the ledger stays locked) ends the phase with that error, but
    only after the steps already running have finished and been recorded; no new claim is
    taken meanwhile, and nothing runs on against a ledger that is about to be closed."""
    import pytest
    import yaml

    from ghw.config import load_config
    from ghw.errors import LedgerLockedError
    from ghw.ledger.records import AppendRequest
    from ghw.ledger.store import Ledger
    from ghw.machine import events as ev
    from ghw.phases.context import Filters, PhaseContext
    from ghw.phases.worker import StepResult, StepSpec, run_step_phase

    config_path = tmp_path / "config.yaml"
    config_path.write_text(
        yaml.safe_dump(
            {
                "issues_path": str(tmp_path / "issues"),
                "repos": ["o/r"],
                "agent": {"default": "scripted"},
                "plan": {"parallelism": 3},
                "policy": {"max_new_per_cycle": None},
            }
        )
    )
    config = load_config(config_path, {}, must_exist=True)
    ledger = await Ledger.open(config.ledger_path)
    try:
        await ledger.append_batch(
            [
                AppendRequest(
                    f"o/r#{n}", 0, [ev.IssueSynced(repo="o/r", number=n, title="t", eligible=True)]
                )
                for n in range(1, 11)
            ]
        )
        real_claim = ledger.claim
        calls = {"n": 0}
        release = asyncio.Event()

        async def claim(*args: object, **kw: object) -> object:
            calls["n"] += 1
            if calls["n"] == 3:
                raise LedgerLockedError("the ledger stayed locked")
            return await real_claim(*args, **kw)  # type: ignore[arg-type]

        ledger.claim = claim  # type: ignore[method-assign]

        async def run(step: object) -> StepResult:
            await release.wait()
            await step.append([ev.PlanCompleted(text="plan")])  # type: ignore[attr-defined]
            return StepResult("completed")

        spec = StepSpec(
            phase="plan",
            from_states=("synced",),
            started=lambda s: ev.PlanStarted(agent=s.name),
            run=run,
        )
        ctx = PhaseContext(
            config=config,
            ledger=ledger,
            issues_path=config.issues_path,
            reporter=type("R", (), {"line": lambda self, text: None})(),
            environ={},
        )
        phase = asyncio.create_task(run_step_phase(ctx, Filters(), spec))
        await asyncio.sleep(0.3)
        assert not phase.done()  # two steps are running; the failed claim did not end it
        release.set()
        with pytest.raises(LedgerLockedError):
            await phase
        states = [(await ledger.issue(f"o/r#{n}")).state for n in range(1, 11)]  # type: ignore[union-attr]
        assert states.count("planned") == 2
        assert states.count("synced") == 8
        assert calls["n"] == 3  # no claim after the failure
        assert await ledger.leases() == []
    finally:
        await ledger.close()
