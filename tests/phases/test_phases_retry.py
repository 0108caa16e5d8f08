"""Acceptance 5 (retries): transient failures come back after exponential back-off with the
previous error in the prompt; permanent and exhausted ones wait for ``ghw retry``."""

from __future__ import annotations

from datetime import timedelta

import yaml
from phases_kit import DEMO_SCRIPT, FakeClock, Rig, payloads

from ghw.ledger.store import format_ts
from ghw.phases.context import Filters

ONE = Filters(numbers=(1,))
OVERLOADED = "model overloaded (529): try again later"


def _failing_plan(rig: Rig) -> None:
    rig.script({"issues": {1: {"plan": {"fail": {"kind": "transient", "message": OVERLOADED}}}}})


async def test_transient_failure_backs_off_exponentially_and_the_retry_prompt_has_the_error(
    rig: Rig,
) -> None:
    rig.configure(**{"retry.backoff": "10m", "retry.max_backoff": "1h", "retry.max_attempts": 3})
    _failing_plan(rig)
    result, out = await rig.run("sync", issue_numbers=[1])
    assert result.ok, out
    clock = FakeClock()

    outcome, _ = await rig.phase("plan", clock=clock, filters=ONE)
    assert outcome.counts == {"failed": 1}
    [failed] = payloads(await rig.history(1), "PlanFailed")
    assert failed["kind"] == "transient"
    assert failed["error_kind"] == "api_error"
    assert OVERLOADED in failed["error"]
    assert (failed["attempt"], failed["max_attempts"]) == (1, 3)
    assert failed["next_retry_at"] == format_ts(clock.now + timedelta(minutes=10))
    assert await rig.state(1) == "plan_failed"

    # not before the back-off is over
    clock.advance(10 * 60 - 1)
    outcome, _ = await rig.phase("plan", clock=clock, filters=ONE)
    assert outcome.counts == {}
    assert len(payloads(await rig.history(1), "PlanStarted")) == 1

    # then it is retried (and fails again: the back-off doubles)
    clock.advance(2)
    outcome, _ = await rig.phase("plan", clock=clock, filters=ONE)
    assert outcome.counts == {"failed": 1}
    events = await rig.history(1)
    assert [p["attempt"] for p in payloads(events, "PlanStarted")] == [1, 2]
    second = payloads(events, "PlanFailed")[1]
    assert second["attempt"] == 2
    assert second["next_retry_at"] == format_ts(clock.now + timedelta(minutes=20))

    rig.script(yaml.safe_load(DEMO_SCRIPT.read_text()))
    clock.advance(20 * 60)
    outcome, _ = await rig.phase("plan", clock=clock, filters=ONE)
    assert outcome.counts == {"completed": 1}
    assert await rig.state(1) == "planned"

    prompts = [rig.prompt(p) for p in rig.transcripts(1, "plan")]
    assert len(prompts) == 3
    assert "previous attempt failed" not in prompts[0]
    for prompt in prompts[1:]:
        assert "A previous attempt failed with:" in prompt
        assert OVERLOADED in prompt
    view = await rig.view(1)
    assert view.attempts == 0 and view.last_error is None


async def test_exhausted_retries_wait_for_ghw_retry(rig: Rig) -> None:
    rig.configure(**{"retry.backoff": "1m", "retry.max_attempts": 2})
    _failing_plan(rig)
    result, out = await rig.run("sync", issue_numbers=[1])
    assert result.ok, out
    clock = FakeClock()
    await rig.phase("plan", clock=clock, filters=ONE)
    clock.advance(61)
    await rig.phase("plan", clock=clock, filters=ONE)
    failures = payloads(await rig.history(1), "PlanFailed")
    assert [f["attempt"] for f in failures] == [1, 2]
    assert failures[-1]["next_retry_at"] is None  # exhausted
    assert await rig.state(1) == "plan_failed"

    clock.advance(7 * 24 * 3600)  # no later cycle takes it by itself
    outcome, _ = await rig.phase("plan", clock=clock, filters=ONE)
    assert outcome.counts == {}

    rig.script(yaml.safe_load(DEMO_SCRIPT.read_text()))
    code, out, err = await rig.cli("retry", "demo/calc#1")
    assert code == 0, out + err
    assert await rig.state(1) == "synced"
    outcome, _ = await rig.phase("plan", clock=clock, filters=ONE)
    assert outcome.counts == {"completed": 1}
    assert await rig.state(1) == "planned"
    # the retried step starts again at attempt 1
    assert [p["attempt"] for p in payloads(await rig.history(1), "PlanStarted")] == [1, 2, 1]


async def test_permanent_failure_no_changes_waits_for_ghw_retry(rig: Rig) -> None:
    demo = yaml.safe_load(DEMO_SCRIPT.read_text())
    lazy = yaml.safe_load(DEMO_SCRIPT.read_text())
    lazy["issues"][1]["implement"] = {"text": "Nothing to change."}
    rig.script(lazy)
    result, out = await rig.run("sync", "plan", "implement", issue_numbers=[1])
    assert not result.ok
    [failed] = payloads(await rig.history(1), "ImplementFailed")
    assert (failed["kind"], failed["error_kind"]) == ("permanent", "no_changes")
    assert failed["next_retry_at"] is None
    assert await rig.state(1) == "implement_failed"
    assert rig.pulls() == []

    result, out = await rig.run("implement", issue_numbers=[1])
    assert result.ok and result.phases[0].counts == {}, out

    rig.script(demo)
    code, out, err = await rig.cli("retry", "demo/calc#1")
    assert code == 0, out + err
    assert await rig.state(1) == "planned"
    result, out = await rig.run("implement", issue_numbers=[1])
    assert result.ok, out
    assert await rig.state(1) == "implemented"
    assert len(rig.pulls()) == 1
