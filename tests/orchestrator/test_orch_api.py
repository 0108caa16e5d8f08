"""The orchestrator's MUSTs and SHOULDs through the Python API (§7), with fake phase runners.

Each test names the requirement it proves; the phases themselves are replaced by recorders, so
these tests are about the orchestration alone (order, config per cycle, filters, logs, output).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from orch_helpers import FakeClock, FakePhases, FakeSleep, write_config

import ghw.durations as durations_module
import ghw.orchestrator as orchestrator_module
from ghw.cli.progress import terminal_progress
from ghw.errors import ConfigError, UsageError
from ghw.orchestrator import BANNERS, COMPLETED, PHASES, CycleResult, WorkOrchestrator

BANNER_LINES = [
    "=== Syncing issues ===",
    "=== Generating plans ===",
    "=== Implementing plans ===",
    "=== Reviewing implementations ===",
    "=== Revising pull requests ===",
    "=== Work cycle completed ===",
]


def _config(tmp_path: Path, **extra: object) -> Path:
    data = {"issues_path": str(tmp_path / "issues"), "repos": ["octo/one", "octo/two"]}
    data.update(extra)
    return write_config(tmp_path / "config.yaml", data)


def _orch(tmp_path: Path, env: dict[str, str], fake: FakePhases, **kw: object) -> WorkOrchestrator:
    if "config_path" not in kw:
        kw["config_path"] = _config(tmp_path)
    kw.setdefault("stdout", io.StringIO())
    return WorkOrchestrator(environ=env, runners=fake.runners(), **kw)  # type: ignore[arg-type]


def _out(orch: WorkOrchestrator) -> str:
    assert isinstance(orch.stdout, io.StringIO)
    return orch.stdout.getvalue()


# --- MUST: lifecycle ----------------------------------------------------------------------------


async def test_orch_must_phases_run_in_order_sync_plan_implement_review(tmp_path, env):
    fake = FakePhases()
    # asked in another order: the workflow order wins
    orch = _orch(tmp_path, env, fake, phases=["review", "sync", "implement", "plan"])
    result = await orch.run_cycle()
    assert fake.names == ["sync", "plan", "implement", "review"]
    assert [p.name for p in result.phases] == ["sync", "plan", "implement", "review"]
    banners = [line for line in _out(orch).splitlines() if line.startswith("===")]
    assert banners == [b for b in BANNER_LINES if b != BANNERS["revise"]]  # revise not asked


async def test_orch_should_banners_exact_and_on_stdout(tmp_path, env):
    assert [*(BANNERS[p] for p in PHASES), COMPLETED] == BANNER_LINES
    fake = FakePhases()
    orch = _orch(tmp_path, env, fake)
    await orch.run_once()
    assert [line for line in _out(orch).splitlines() if line.startswith("===")] == BANNER_LINES


async def test_orch_must_config_loaded_at_start_of_each_cycle(tmp_path, env, logs):
    config = _config(tmp_path, plan={"parallelism": 2})
    seen: list[int] = []
    fake = FakePhases(
        hook=lambda name, ctx: (
            seen.append(ctx.config["plan.parallelism"]) if name == "plan" else None
        )
    )

    def edit(_n: int) -> None:  # between cycles the file changes; the next cycle uses it
        data = yaml.safe_load(config.read_text())
        data["plan"]["parallelism"] += 3
        config.write_text(yaml.safe_dump(data))

    orch = _orch(tmp_path, env, fake, config_path=config, sleep=FakeSleep(after=edit))
    stats = await orch.run_continuous("1s", max_cycles=3)
    assert stats.cycles == 3
    assert seen == [2, 5, 8]
    # SHOULD: the configuration values used are logged at each cycle start
    starts = logs.where(event="cycle starting")
    assert [r["config"]["plan.parallelism"] for r in starts] == [2, 5, 8]


async def test_orch_must_missing_issues_path_ends_cycle_with_fix(tmp_path, env, logs):
    config = write_config(tmp_path / "config.yaml", {"repos": ["octo/one"]})
    fake = FakePhases()
    orch = _orch(tmp_path, env, fake, config_path=config)
    result = await orch.run_cycle()
    assert fake.calls == []  # terminated before any phase
    assert not result.ok and result.config_error
    message = result.config_error
    assert "issues_path" in message
    assert "ghw init --issues-path" in message and "ghw config set issues_path" in message
    assert "configuration error" in _out(orch) and "ghw config set issues_path" in _out(orch)
    # SHOULD: severity critical for configuration errors
    (record,) = logs.where(event="configuration error")
    assert record["level"] == "critical" and record["cycle"] == 1


async def test_orch_must_missing_issues_path_before_first_loop_cycle_raises(tmp_path, env):
    config = write_config(tmp_path / "config.yaml", {"repos": ["octo/one"]})
    orch = _orch(tmp_path, env, FakePhases(), config_path=config, sleep=FakeSleep())
    with pytest.raises(ConfigError, match="ghw config set issues_path"):
        await orch.run_continuous("1m")


async def test_orch_must_filters_passed_to_all_phases(tmp_path, env):
    fake = FakePhases()
    orch = _orch(
        tmp_path,
        env,
        fake,
        repos=["octo/one", "octo/*"],
        since="2024-01-01T00:00:00Z",
        issue_numbers=[42, 73, "100-101"],
        labels=["bug"],
    )
    await orch.run_once()
    assert fake.names == list(PHASES)
    for _name, filters, _ctx in fake.calls:
        assert filters.repos == ("octo/one", "octo/*")
        assert filters.since == "2024-01-01T00:00:00Z"
        assert filters.numbers == (42, 73, (100, 101))
        assert filters.labels == ("bug",)
        assert filters.matches_number(100) and not filters.matches_number(74)


async def test_orch_must_all_repositories_when_repos_is_none(tmp_path, env):
    fake = FakePhases()
    orch = _orch(tmp_path, env, fake, repos=None)
    await orch.run_once()
    # no --repo: every phase resolves the registered repositories (config + ledger)
    assert all(filters.repos == () for _n, filters, _c in fake.calls)
    from ghw.phases.repos import resolve_repos

    _n, filters, ctx = fake.calls[0]
    names = await _resolve_after(ctx, filters, resolve_repos, tmp_path, env)
    assert names == ["octo/one", "octo/two"]


async def _resolve_after(ctx, filters, resolve, tmp_path, env):  # the ledger is closed by now
    from ghw.ledger.store import Ledger

    ledger = await Ledger.open(ctx.config.ledger_path)
    try:
        ctx.ledger = ledger
        ctx.github = None
        return await resolve(ctx, filters)
    finally:
        await ledger.close()


async def test_orch_should_validate_repository_names_before_processing(tmp_path, env):
    with pytest.raises(UsageError):
        WorkOrchestrator(config_path=_config(tmp_path), repos=["not-a-repo"], environ=env)
    with pytest.raises(UsageError):
        WorkOrchestrator(config_path=_config(tmp_path), repos=["a/b/c"], environ=env)
    with pytest.raises(UsageError, match="sync, plan, implement, review"):
        WorkOrchestrator(config_path=_config(tmp_path), phases=["deploy"], environ=env)


async def test_orch_must_phase_transitions_logged(tmp_path, env, logs):
    orch = _orch(tmp_path, env, FakePhases())
    await orch.run_once()
    starting = logs.where(event="phase starting")
    assert [r["phase"] for r in starting] == list(PHASES)
    finished = logs.where(event="phase finished")
    assert [r["phase"] for r in finished] == list(PHASES)
    for record in starting + finished:
        assert record["cycle"] == 1
        assert record["level"] == "info"
        datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
    assert logs.where(event="cycle completed")[0]["ok"] is True
    assert logs.where(event="single cycle finished")  # single-shot logs its completion


async def test_orch_must_single_shot_runs_one_cycle_and_returns(tmp_path, env):
    fake = FakePhases()
    sleep = FakeSleep()
    orch = _orch(tmp_path, env, fake, sleep=sleep)
    result = await orch.run_once()
    assert isinstance(result, CycleResult) and result.ok and result.number == 1
    assert fake.names == list(PHASES) and sleep.waits == []


async def test_orch_must_continuous_mode_repeats_cycles(tmp_path, env):
    fake = FakePhases()
    sleep = FakeSleep()
    orch = _orch(tmp_path, env, fake, sleep=sleep)
    stats = await orch.run_continuous("30m", max_cycles=4)
    assert stats.cycles == 4 and fake.names == list(PHASES) * 4
    assert sleep.waits == [1800.0] * 3  # between cycles, not after the last


async def test_orch_must_continuous_parses_frequency_with_parse_duration(
    tmp_path, env, monkeypatch
):
    calls: list[str] = []
    # the loop's schedule is read by ghw.options (the one place options are validated), which
    # parses --every / frequency with ghw.durations.parse_duration
    real = durations_module.parse_duration

    def spy(text: str):
        calls.append(text)
        return real(text)

    monkeypatch.setattr(durations_module, "parse_duration", spy)
    sleep = FakeSleep()
    orch = _orch(tmp_path, env, FakePhases(), sleep=sleep)
    await orch.run_continuous("1h30m", max_cycles=2)
    assert calls == ["1h30m"]
    assert sleep.waits == [5400.0]


@pytest.mark.parametrize("bad", ["10", "", "1x", "-5m", "5m1h"])
async def test_orch_must_invalid_frequency_terminates_continuous_mode(tmp_path, env, bad):
    fake = FakePhases()
    orch = _orch(tmp_path, env, fake, sleep=FakeSleep())
    with pytest.raises(ValueError, match="1h30m") as info:  # names the accepted forms
        await orch.run_continuous(bad)
    assert "2d12h" in str(info.value)
    assert fake.calls == []


async def test_orch_must_zero_frequency_refused(tmp_path, env):
    orch = _orch(tmp_path, env, FakePhases(), sleep=FakeSleep())
    with pytest.raises(UsageError, match="greater than 0"):
        await orch.run_continuous("0s")


async def test_orch_must_sleeps_between_cycles_with_asyncio_sleep(tmp_path, env, monkeypatch):
    waits: list[float] = []

    async def fake_asyncio_sleep(seconds: float, *args: object) -> None:
        waits.append(seconds)

    # no sleep= injected: the orchestrator uses asyncio.sleep itself
    monkeypatch.setattr(orchestrator_module.asyncio, "sleep", fake_asyncio_sleep)
    orch = WorkOrchestrator(
        config_path=_config(tmp_path),
        environ=env,
        stdout=io.StringIO(),
        runners=FakePhases().runners(),
    )
    await orch.run_continuous("10m", max_cycles=3)
    assert 600.0 in waits and waits.count(600.0) == 2


async def test_orch_must_cycle_errors_isolated_in_continuous_mode(tmp_path, env, logs):
    fake = FakePhases()
    orch = _orch(tmp_path, env, fake, sleep=FakeSleep())
    real = orch.run_cycle
    count = {"n": 0}

    async def flaky() -> CycleResult:
        count["n"] += 1
        if count["n"] == 2:
            orch.cycle_number += 1
            raise RuntimeError("the whole cycle blew up")
        return await real()

    orch.run_cycle = flaky  # type: ignore[method-assign]
    stats = await orch.run_continuous("1s", max_cycles=3)
    assert stats.cycles == 3 and stats.failed == 1 and stats.succeeded == 2
    assert fake.names == list(PHASES) * 2  # cycles 1 and 3 ran completely
    crashed = logs.where(event="cycle crashed")
    assert crashed and crashed[0]["level"] == "error" and "blew up" in crashed[0]["error"]
    assert "the whole cycle blew up" in _out(orch)  # error message to the console


async def test_orch_must_cycle_number_and_timestamp_logged(tmp_path, env, logs):
    clock = FakeClock()
    orch = _orch(tmp_path, env, FakePhases(), clock=clock, sleep=FakeSleep(clock))
    await orch.run_continuous("1m", max_cycles=3)
    records = logs.where(event="cycle")
    assert [r["cycle"] for r in records] == [1, 2, 3]
    assert [r["timestamp_started"] for r in records] == [
        "2026-03-01T12:00:30+00:00",
        "2026-03-01T12:01:30+00:00",
        "2026-03-01T12:02:30+00:00",
    ]
    for r in records:
        datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00"))
    # SHOULD: cycle numbers on the console too, with the time
    out = _out(orch)
    assert "--- Cycle 1 at 2026-03-01 12:00:30 UTC ---" in out
    assert "--- Cycle 3 at 2026-03-01 12:02:30 UTC ---" in out
    # every record inside a cycle carries its number
    assert {r["cycle"] for r in logs.where(event="phase starting")} == {1, 2, 3}


async def test_orch_must_frequency_and_interval_logged(tmp_path, env, logs):
    orch = _orch(tmp_path, env, FakePhases(), sleep=FakeSleep())
    await orch.run_continuous("1h30m", max_cycles=1)
    (record,) = logs.where(event="loop starting")
    assert record["frequency"] == "1h30m" and record["interval_seconds"] == 5400.0


# --- SHOULD ---------------------------------------------------------------------------------


async def test_orch_should_continue_to_next_phase_after_failure(tmp_path, env, logs):
    fake = FakePhases(raise_in={"sync", "plan"})
    orch = _orch(tmp_path, env, fake)
    result = await orch.run_cycle()
    assert fake.names == list(PHASES)  # implement and review still ran
    assert not result.ok and [p.ok for p in result.phases] == [False, False, True, True, True]
    out = _out(orch)
    assert "sync failed: RuntimeError('sync exploded')" in out
    assert out.splitlines()[-1] == COMPLETED
    # SHOULD severity: a phase that failed is an error; the cycle with it too
    crashed = logs.where(event="phase crashed")
    assert [r["phase"] for r in crashed] == ["sync", "plan"]
    assert {r["level"] for r in crashed} == {"error"}
    assert logs.where(event="cycle completed")[0]["level"] == "error"


async def test_orch_should_issue_failures_are_warnings(tmp_path, env, logs):
    fake = FakePhases(fail_issue_in={"plan"})
    orch = _orch(tmp_path, env, fake)
    result = await orch.run_cycle()
    assert not result.ok and result.errors == ["plan o/r#7: agent failed"]
    (plan,) = logs.where(event="phase finished", phase="plan")
    assert plan["level"] == "warning"
    assert logs.where(event="cycle completed")[0]["level"] == "warning"


async def test_orch_should_interval_printed_before_first_cycle(tmp_path, env):
    orch = _orch(tmp_path, env, FakePhases(), sleep=FakeSleep())
    await orch.run_continuous("30m", max_cycles=2)
    lines = _out(orch).splitlines()
    assert lines[0].startswith("Frequency: every 30m (interval 1800 s")
    assert lines[1].startswith("--- Cycle 1 at ")
    assert any(line.startswith("Waiting 30m until the next cycle") for line in lines)


async def test_orch_should_statistics_tracked_and_printed(tmp_path, env, logs):
    fake = FakePhases()
    orch = _orch(tmp_path, env, fake, sleep=FakeSleep())
    real = orch.run_cycle
    count = {"n": 0}

    async def second_fails() -> CycleResult:
        count["n"] += 1
        fake.raise_in = {"plan"} if count["n"] == 2 else set()
        return await real()

    orch.run_cycle = second_fails  # type: ignore[method-assign]
    stats = await orch.run_continuous("1s", max_cycles=3)
    assert (stats.cycles, stats.succeeded, stats.failed) == (3, 2, 1)
    assert stats.issues_advanced > 0
    last = _out(orch).splitlines()[-1]
    assert last.startswith("Loop statistics: 3 cycles, 2 succeeded, 1 failed")
    (record,) = logs.where(event="loop finished")
    assert record["cycles"] == 3 and record["failed"] == 1 and record["succeeded"] == 2
    assert "Cycle 2 failed:" in _out(orch)  # the failed cycle's errors are printed


async def test_orch_should_effective_config_logged_with_secrets_redacted(tmp_path, env, logs):
    config = _config(
        tmp_path, agents={"claude-code": {"env": {"ANTHROPIC_API_KEY": "sk-very-secret"}}}
    )
    orch = _orch(tmp_path, env, FakePhases(), config_path=config)
    await orch.run_cycle()
    (record,) = logs.where(event="cycle starting")
    assert record["config"]["issues_path"] == str(tmp_path / "issues")
    assert "sk-very-secret" not in logs.stream.getvalue()
    assert record["config"]["agents.claude-code.env"] == {"ANTHROPIC_API_KEY": "***"}


async def test_orch_examples_of_the_requirement_map_to_ghw_orchestrator(tmp_path, env):
    # from gh_worker.executor.orchestrator import WorkOrchestrator -> ghw.orchestrator
    from ghw.orchestrator import WorkOrchestrator as Orch

    orch = Orch(
        config_path=Path(_config(tmp_path)),
        repos=["octocat/hello-world"],
        since="2024-01-01T00:00:00Z",
        issue_numbers=[42, 73, 101],
        environ=env,
        stdout=io.StringIO(),
        runners=FakePhases().runners(),
    )
    result = await orch.run_once()
    assert result.ok
    assert orch.since == "2024-01-01T00:00:00Z"
    assert orch.since == WorkOrchestrator(since=datetime(2024, 1, 1, tzinfo=UTC), environ=env).since


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _step_lines(name: str, ctx) -> None:
    if name == "plan":
        ctx.reporter.line("  o/r#1: plan started (scripted)")
        ctx.reporter.line("  o/r#1: plan completed")


async def test_orch_progress_plain_lines_when_piped(tmp_path, env):
    orch = _orch(tmp_path, env, FakePhases(hook=_step_lines))
    await orch.run_cycle()
    out = _out(orch)
    assert "\x1b" not in out  # no escape codes in a pipe
    assert out.splitlines()[2:4] == ["  o/r#1: plan started (scripted)", "  o/r#1: plan completed"]


async def test_orch_progress_rich_spinner_on_a_terminal(tmp_path, env):
    env = {k: v for k, v in env.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    stdout = _Tty()
    progress = terminal_progress(stdout, env)  # the CLI builds it for a terminal
    orch = _orch(tmp_path, env, FakePhases(hook=_step_lines), stdout=stdout, progress=progress)
    await orch.run_cycle()
    out = orch.stdout.getvalue()
    assert "running 1: o/r#1 (plan)" in out  # the spinner line while the step ran
    for banner in BANNER_LINES:
        assert banner in out
    assert progress is not None and progress.status is None  # stopped at the end


async def test_orch_must_parallelism_from_configuration_defaults(tmp_path, env):
    seen: dict[str, list[int]] = {}

    def record(name: str, ctx) -> None:
        if name != "sync":
            seen.setdefault(name, []).append(ctx.config.parallelism(name))

    fake = FakePhases(hook=record)
    # defaults (2), then the config's value, then --parallelism over both
    await _orch(tmp_path, env, fake).run_cycle()
    config = _config(tmp_path, plan={"parallelism": 3})
    await _orch(tmp_path, env, fake, config_path=config).run_cycle()
    await _orch(tmp_path, env, fake, config_path=config, parallelism=5).run_cycle()
    assert seen == {
        "plan": [2, 3, 5],
        "implement": [2, 2, 5],
        "review": [2, 2, 5],
        "revise": [2, 2, 5],
    }
