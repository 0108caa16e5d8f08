"""The loop (`run_continuous`): cron schedule, capped back-off, configuration errors, hooks,
notifications, stopping — with an injected clock and sleep, and fake phase runners."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
import yaml
from orch_helpers import FakeClock, FakePhases, FakeSleep, write_config

from ghw.errors import ConfigError, UsageError
from ghw.orchestrator import PHASES, WorkOrchestrator, backoff_wait


def _config(tmp_path: Path, **extra: object) -> Path:
    data = {"issues_path": str(tmp_path / "issues"), "repos": ["octo/one"]}
    data.update(extra)
    return write_config(tmp_path / "config.yaml", data)


def _orch(tmp_path, env, fake, **kw) -> WorkOrchestrator:
    if "config_path" not in kw:
        kw["config_path"] = _config(tmp_path)
    kw.setdefault("stdout", io.StringIO())
    return WorkOrchestrator(environ=env, runners=fake.runners(), **kw)


async def test_orch_loop_cron_waits_until_next_match(tmp_path, env, logs):
    clock = FakeClock()  # 12:00:30
    sleep = FakeSleep(clock)
    fake = FakePhases()
    orch = _orch(tmp_path, env, fake, clock=clock, sleep=sleep)
    stats = await orch.run_continuous(cron="*/5 * * * *", max_cycles=2)
    # first cycle at 12:05:00, the next at 12:10:00 (counted from the end of the cycle)
    assert sleep.waits == [270.0, 300.0]
    assert stats.cycles == 2 and fake.names == list(PHASES) * 2
    out = orch.stdout.getvalue()
    assert out.splitlines()[0].startswith(
        "Frequency: cron '*/5 * * * *' (next run at 2026-03-01T12:05:00"
    )
    assert "--- Cycle 1 at 2026-03-01 12:05:00 UTC ---" in out
    assert logs.where(event="loop starting")[0]["frequency"] == "*/5 * * * *"


async def test_orch_loop_cron_skips_missed_times(tmp_path, env):
    clock = FakeClock()

    def slow_cycle(name: str, _ctx: object) -> None:
        if name == "review":
            clock.now = clock.now.replace(minute=clock.now.minute + 12)  # a 12-minute cycle

    fake = FakePhases(hook=slow_cycle)
    sleep = FakeSleep(clock)
    orch = _orch(tmp_path, env, fake, clock=clock, sleep=sleep)
    await orch.run_continuous(cron="*/5 * * * *", max_cycles=2)
    # cycle 1 ran 12:05-12:17; 12:10 and 12:15 were missed and skipped: next is 12:20
    assert sleep.waits == [270.0, 180.0]


async def test_orch_loop_invalid_cron_refused(tmp_path, env):
    fake = FakePhases()
    orch = _orch(tmp_path, env, fake, sleep=FakeSleep())
    with pytest.raises(UsageError, match="five fields"):
        await orch.run_continuous(cron="every tuesday")
    with pytest.raises(UsageError, match="exactly one"):
        await orch.run_continuous("1m", cron="* * * * *")
    assert fake.calls == []


def test_orch_loop_backoff_formula():
    assert backoff_wait(60, 0, 3600) == 60
    assert [backoff_wait(60, n, 3600) for n in (1, 2, 3, 4, 5, 6, 7)] == [
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    assert backoff_wait(7200, 3, 3600) == 7200  # never shorter than the interval


async def test_orch_loop_capped_backoff_on_consecutive_failures(tmp_path, env, logs):
    config = _config(tmp_path, loop={"failure_backoff_max": "4s"})
    fake = FakePhases()
    outcomes = iter([False, False, False, False, True, False])

    def hook(name: str, _ctx: object) -> None:
        if name == "sync":
            fake.raise_in = set() if next(outcomes) else {"plan"}

    fake.hook = hook
    sleep = FakeSleep()
    orch = _orch(tmp_path, env, fake, config_path=config, sleep=sleep)
    stats = await orch.run_continuous("1s", max_cycles=6)
    assert sleep.waits == [2.0, 4.0, 4.0, 4.0, 1.0]  # doubling, capped at 4s, reset on success
    assert (stats.succeeded, stats.failed) == (1, 5)
    backing = logs.where(event="cycle failed; backing off")
    assert [r["failures_in_a_row"] for r in backing] == [1, 2, 3, 4]
    assert {r["level"] for r in backing} == {"warning"}


async def test_orch_loop_later_config_error_fails_cycle_and_loop_recovers(tmp_path, env, logs):
    config = _config(tmp_path)
    good = config.read_text()

    def edit(n: int) -> None:
        if n == 1:
            config.write_text("issues_path: [unclosed\n")  # broken after cycle 1
        elif n == 2:
            config.write_text(good)  # fixed after cycle 2

    fake = FakePhases()
    orch = _orch(tmp_path, env, fake, config_path=config, sleep=FakeSleep(after=edit))
    stats = await orch.run_continuous("1s", max_cycles=3)
    assert (stats.cycles, stats.succeeded, stats.failed) == (3, 2, 1)
    assert stats.results[1].config_error and stats.results[2].ok
    assert fake.names == list(PHASES) * 2
    critical = logs.where(level="critical")
    assert [r["cycle"] for r in critical] == [2]
    assert "Cycle 2 failed:" in orch.stdout.getvalue()


async def test_orch_loop_config_error_before_first_cycle_stops(tmp_path, env):
    config = write_config(
        tmp_path / "config.yaml", {"repos": ["octo/one"], "plan": {"parallelism": "x"}}
    )
    fake = FakePhases()
    orch = _orch(tmp_path, env, fake, config_path=config, sleep=FakeSleep())
    with pytest.raises(ConfigError):
        await orch.run_continuous("1m")
    assert fake.calls == []


async def test_orch_loop_stop_event_ends_wait_and_prints_statistics(tmp_path, env):
    fake = FakePhases()
    orch = _orch(tmp_path, env, fake)  # the real asyncio.sleep: a 1h wait

    async def stop_soon() -> None:
        while not fake.calls or len(fake.calls) < 4:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        orch.stop.set()

    stopper = asyncio.create_task(stop_soon())
    stats = await asyncio.wait_for(orch.run_continuous("1h"), timeout=10)
    await stopper
    assert stats.interrupted and stats.cycles == 1
    assert "Loop statistics: 1 cycles, 1 succeeded, 0 failed" in orch.stdout.getvalue()


async def test_orch_loop_stop_between_phases_takes_no_new_phase(tmp_path, env):
    fake = FakePhases()
    orch = _orch(tmp_path, env, fake)
    fake.hook = lambda name, _ctx: orch.stop.set() if name == "plan" else None
    result = await orch.run_cycle()
    assert fake.names == ["sync", "plan"] and result.interrupted


async def test_orch_hooks_pre_post_cycle_with_json_summary(tmp_path, env):
    pre, post = tmp_path / "pre.json", tmp_path / "post.json"
    config = _config(
        tmp_path,
        hooks={"pre_cycle": f"cat > {pre}", "post_cycle": f"cat > {post}"},
    )
    seen_pre: list[bool] = []
    fake = FakePhases(
        hook=lambda name, _c: seen_pre.append(pre.exists()) if name == "sync" else None
    )
    orch = _orch(tmp_path, env, fake, config_path=config)
    result = await orch.run_cycle()
    assert seen_pre == [True]  # pre_cycle ran before the first phase
    summary = json.loads(post.read_text())
    assert summary["cycle_id"] == result.cycle_id and summary["ok"] is True
    assert summary["number"] == 1
    assert summary["counts"]["plan.completed"] == 1
    assert {"started", "ended", "errors", "cost_usd", "pr_urls"} <= set(summary)


async def test_orch_notify_command_after_failed_cycle_only(tmp_path, env):
    note = tmp_path / "notify.json"
    config = _config(tmp_path, notify={"command": f"cat > {note}"})
    fake = FakePhases()
    orch = _orch(tmp_path, env, fake, config_path=config)
    await orch.run_cycle()
    assert not note.exists()  # a good cycle notifies nobody
    fake.raise_in = {"implement"}
    result = await orch.run_cycle()
    data = json.loads(note.read_text())
    assert data["ok"] is False and data["cycle_id"] == result.cycle_id
    assert any("implement exploded" in e for e in data["errors"])


async def test_orch_failing_hook_is_a_warning_not_a_failure(tmp_path, env, logs):
    config = _config(tmp_path, hooks={"pre_cycle": "exit 3"})
    orch = _orch(tmp_path, env, FakePhases(), config_path=config)
    result = await orch.run_cycle()
    assert result.ok
    (record,) = logs.where(event="hook failed")
    assert record["level"] == "warning" and record["exit_code"] == 3


async def test_orch_config_reload_changes_interval_backoff_cap(tmp_path, env):
    # loop.failure_backoff_max is read again after every cycle (dynamic configuration)
    config = _config(tmp_path, loop={"failure_backoff_max": "2s"})

    def edit(n: int) -> None:
        data = yaml.safe_load(config.read_text())
        data["loop"]["failure_backoff_max"] = "8s"
        config.write_text(yaml.safe_dump(data))

    fake = FakePhases(raise_in={"plan"})
    sleep = FakeSleep(after=edit)
    orch = _orch(tmp_path, env, fake, config_path=config, sleep=sleep)
    await orch.run_continuous("1s", max_cycles=4)
    assert sleep.waits == [2.0, 4.0, 8.0]
