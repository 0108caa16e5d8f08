"""The workflow orchestrator (§7): sync → plan → implement → review, once or in a loop.

``WorkOrchestrator`` is the Python API; the CLI's ``ghw cycle`` / ``ghw loop`` and the single-phase
commands are thin layers over it. Configuration is loaded and validated at the start of every
cycle, so fixing the file recovers a running loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from ghw.config import Config, config_file_path, load_config
from ghw.durations import format_duration, parse_duration
from ghw.errors import ConfigError, GhwError, UsageError
from ghw.logs import get_logger
from ghw.phases.context import Filters, PhaseContext, StreamReporter
from ghw.refs import parse_issue_numbers, validate_repo_or_pattern

__all__ = ["BANNERS", "PHASES", "CycleResult", "LoopStats", "PhaseOutcome", "WorkOrchestrator"]

PHASES = ("sync", "plan", "implement", "review")
BANNERS = {
    "sync": "=== Syncing issues ===",
    "plan": "=== Generating plans ===",
    "implement": "=== Implementing plans ===",
    "review": "=== Reviewing implementations ===",
}
COMPLETED = "=== Work cycle completed ==="


@dataclass
class PhaseOutcome:
    name: str
    ok: bool = True
    error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    cost_usd: float = 0.0
    pr_urls: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    dry_run: list[str] = field(default_factory=list)


@dataclass
class CycleResult:
    cycle_id: str
    number: int | None = None
    ok: bool = True
    phases: list[PhaseOutcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cost_usd: float = 0.0
    started: str = ""
    ended: str = ""
    interrupted: bool = False
    config_error: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for phase in self.phases:
            for key, value in phase.counts.items():
                name = f"{phase.name}.{key}"
                total[name] = total.get(name, 0) + value
        return total

    @property
    def pr_urls(self) -> list[str]:
        return [url for p in self.phases for url in p.pr_urls]

    def summary(self) -> dict[str, Any]:
        return {
            "cycle_id": self.cycle_id,
            "number": self.number,
            "ok": self.ok,
            "started": self.started,
            "ended": self.ended,
            "counts": self.counts,
            "errors": self.errors,
            "cost_usd": round(self.cost_usd, 6),
            "pr_urls": self.pr_urls,
            "interrupted": self.interrupted,
        }


@dataclass
class LoopStats:
    cycles: int = 0
    succeeded: int = 0
    failed: int = 0
    issues_advanced: int = 0
    cost_usd: float = 0.0
    interrupted: bool = False
    results: list[CycleResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("results")
        return data


def _now() -> datetime:
    return datetime.now(UTC)


class WorkOrchestrator:
    """Central coordinator of the sync → plan → implement → review workflow."""

    def __init__(
        self,
        config_path: str | os.PathLike[str] | None = None,
        repos: Sequence[str] | None = None,
        since: str | datetime | None = None,
        issue_numbers: Sequence[int | str | tuple[int, int]] | None = None,
        *,
        labels: Sequence[str] | None = None,
        phases: Sequence[str] | None = None,
        dry_run: bool = False,
        agent: str | None = None,
        parallelism: int | None = None,
        environ: Mapping[str, str] | None = None,
        stdout: TextIO | None = None,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        self.config_path = Path(config_path) if config_path is not None else None
        self.environ: Mapping[str, str] = dict(os.environ) if environ is None else environ
        self.repos = tuple(validate_repo_or_pattern(r) for r in (repos or ()))
        self.since = _since(since)
        self.numbers = tuple(_numbers(issue_numbers or ()))
        self.labels = tuple(labels or ())
        self.phases = tuple(phases or PHASES)
        unknown = [p for p in self.phases if p not in PHASES]
        if unknown:
            raise UsageError(
                f"unknown phase(s) {', '.join(unknown)}: choose from {', '.join(PHASES)}"
            )
        self.phases = tuple(p for p in PHASES if p in self.phases)  # always in workflow order
        self.dry_run = dry_run
        self.agent = agent
        self.parallelism = parallelism
        if parallelism is not None and parallelism < 1:
            raise UsageError("--parallelism must be at least 1")
        self.stdout = stdout or sys.stdout
        self.clock = clock or _now
        self.sleep = sleep or asyncio.sleep
        self.stop = asyncio.Event()  # set on Ctrl+C / SIGTERM: take no new work
        self.hurry = asyncio.Event()  # set on a second Ctrl+C: no grace period
        self.cycle_number = 0

    @property
    def log(self) -> Any:
        # looked up on use: logging is configured after the orchestrator is built
        return get_logger(**({"cycle": self.cycle_number} if self.cycle_number else {}))

    # --- configuration ----------------------------------------------------------------------

    @property
    def filters(self) -> Filters:
        return Filters(repos=self.repos, since=self.since, numbers=self.numbers, labels=self.labels)

    def overrides(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.agent:
            for key in ("agent.default", "agent.plan", "agent.implement", "agent.review"):
                out[key] = self.agent
        if self.parallelism is not None:
            for phase in ("plan", "implement", "review"):
                out[f"{phase}.parallelism"] = self.parallelism
        return out

    def load_config(self) -> Config:
        path = self.config_path or config_file_path(None, self.environ)
        config = load_config(
            path, self.environ, self.overrides(), must_exist=self.config_path is not None
        )
        config.issues_path  # noqa: B018 - validated here: a missing issues_path ends the cycle
        return config

    # --- output -----------------------------------------------------------------------------

    def echo(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    # --- one cycle --------------------------------------------------------------------------

    async def run_once(self) -> CycleResult:
        """Run a single cycle and return (for CLI, CI and cron use)."""
        result = await self.run_cycle()
        self.log.info("single cycle finished", cycle=result.number, ok=result.ok)
        return result

    async def run_cycle(self) -> CycleResult:
        """One complete cycle: phases in order, each failure isolated, recorded in the ledger."""
        self.cycle_number += 1
        started = self.clock()
        cycle_id = started.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
        result = CycleResult(
            cycle_id=cycle_id, number=self.cycle_number, started=started.isoformat()
        )
        log = self.log
        try:
            config = self.load_config()
        except GhwError as exc:
            result.ok = False
            result.config_error = exc.message
            result.errors.append(exc.message)
            log.critical("configuration error", error=exc.message)
            self.echo(f"configuration error: {exc.message}")
            return result
        log.info(
            "cycle starting", cycle_id=cycle_id, phases=list(self.phases), config=_effective(config)
        )
        await self._hook(config, "hooks.pre_cycle", None)
        await self._run_phases(config, result, cycle=True)
        result.ended = self.clock().isoformat()
        self.echo(COMPLETED)
        log.log(
            20 if result.ok else 40,
            "cycle completed",
            ok=result.ok,
            errors=len(result.errors),
            cost_usd=round(result.cost_usd, 6),
            **result.counts,
        )
        await self._hook(config, "hooks.post_cycle", result)
        if not result.ok and config["notify.command"]:
            await self._run_command(config["notify.command"], result, "notify.command")
        return result

    async def run_phases(self) -> CycleResult:
        """The selected phases without cycle bookkeeping (`ghw sync`, `ghw plan`, …)."""
        result = CycleResult(cycle_id="", started=self.clock().isoformat())
        config = self.load_config()
        await self._run_phases(config, result, cycle=False)
        result.ended = self.clock().isoformat()
        return result

    async def _run_phases(self, config: Config, result: CycleResult, *, cycle: bool) -> None:
        from ghw.ledger.store import Ledger
        from ghw.machine import events as ev
        from ghw.runtime import open_github

        reporter = StreamReporter(self.echo)
        fresh_dry_run = self.dry_run and not config.ledger_path.exists()
        ledger = await Ledger.open(
            # a dry run writes nothing: with no ledger yet it reads an empty one in memory
            ":memory:" if fresh_dry_run else config.ledger_path,
            readonly=self.dry_run and not fresh_dry_run,
            worker=f"cycle:{result.cycle_id}" if cycle else "ghw",
            max_page_count=config.get("ledger_max_pages"),
        )
        try:
            record = cycle and not self.dry_run
            stream = f"cycle:{result.cycle_id}"
            if record:
                await ledger.append(
                    stream,
                    0,
                    [
                        ev.CycleStarted(
                            number=result.number,
                            phases=list(self.phases),
                            filters=_filters_dict(self.filters),
                            config=_effective(config),
                        )
                    ],
                    cycle_id=result.cycle_id,
                )
            ctx = PhaseContext(
                config=config,
                ledger=ledger,
                issues_path=config.issues_path,
                reporter=reporter,
                environ=self.environ,
                cycle_id=result.cycle_id or None,
                dry_run=self.dry_run,
            )
            ctx.extra["stop"] = self.stop
            ctx.extra["hurry"] = self.hurry
            ctx.extra["orchestrator"] = self
            from ghw.runtime import github_token

            token = github_token(config, self.environ)
            ctx.secrets = (token,) if token else ()
            try:
                async with _maybe_github(config, self.environ, ledger, open_github) as gh:
                    ctx.github = gh
                    for name in self.phases:
                        if self.stop.is_set():
                            result.interrupted = True
                            break
                        outcome = await self._run_phase(name, ctx)
                        result.phases.append(outcome)
                        result.cost_usd += outcome.cost_usd
                        if not outcome.ok:
                            result.ok = False
                            result.errors.extend(outcome.failures or [f"{name}: {outcome.error}"])
            except GhwError as exc:
                # no GitHub client (no token, bad URL): every phase that needs it fails
                result.ok = False
                result.errors.append(exc.message)
                self.log.error("cycle could not start its phases", error=exc.message)
                self.echo(f"error: {exc.message}")
            if self.stop.is_set():
                result.interrupted = True
            if record:
                await ledger.append(
                    stream,
                    1,
                    [
                        ev.CycleCompleted(
                            ok=result.ok and not result.interrupted,
                            counts=result.counts,
                            errors=result.errors[:50],
                            cost_usd=round(result.cost_usd, 6),
                            interrupted=result.interrupted,
                        )
                    ],
                    cycle_id=result.cycle_id,
                )
        finally:
            await ledger.close()

    async def _run_phase(self, name: str, ctx: PhaseContext) -> PhaseOutcome:
        self.echo(BANNERS[name])
        log = self.log.bind(phase=name)
        log.info("phase starting")
        try:
            runner = _phase_runner(name)
            outcome = await runner(ctx, self.filters)
        except asyncio.CancelledError:
            raise
        except GhwError as exc:
            log.error("phase failed", error=exc.message)
            self.echo(f"  {name} failed: {exc.message}")
            return PhaseOutcome(name, ok=False, error=exc.message)
        except Exception as exc:  # a bug must not stop the other phases; it is logged whole
            log.exception("phase crashed", error=repr(exc))
            self.echo(f"  {name} failed: {exc!r}")
            return PhaseOutcome(name, ok=False, error=repr(exc))
        log.info("phase finished", ok=outcome.ok, **outcome.counts)
        return outcome

    # --- hooks ------------------------------------------------------------------------------

    async def _hook(self, config: Config, key: str, result: CycleResult | None) -> None:
        command = config[key]
        if command and not self.dry_run:
            await self._run_command(command, result, key)

    async def _run_command(self, command: str, result: CycleResult | None, key: str) -> None:
        data = json.dumps(result.summary() if result else {"phases": list(self.phases)}).encode()
        try:
            proc = await asyncio.create_subprocess_shell(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            _, err = await asyncio.wait_for(proc.communicate(data), timeout=300)
        except (OSError, TimeoutError) as exc:
            self.log.warning("hook failed", hook=key, error=str(exc))
            return
        if proc.returncode != 0:
            self.log.warning(
                "hook failed",
                hook=key,
                exit_code=proc.returncode,
                stderr=err.decode(errors="replace")[-500:],
            )

    # --- the loop ---------------------------------------------------------------------------

    async def run_continuous(
        self,
        frequency: str | timedelta | None = None,
        *,
        cron: str | None = None,
        max_cycles: int | None = None,
    ) -> LoopStats:
        """Cycles until interrupted (or ``max_cycles``); errors of one cycle never stop the loop."""
        if (frequency is None) == (cron is None):
            raise UsageError("give exactly one of a frequency (e.g. 30m) or a cron expression")
        schedule: Callable[[datetime], float]
        if frequency is not None:
            interval = frequency if isinstance(frequency, timedelta) else parse_duration(frequency)
            if interval.total_seconds() <= 0:
                raise UsageError("the loop interval must be greater than 0 (e.g. --every 30m)")
            seconds = interval.total_seconds()
            self.log.info("loop starting", frequency=str(frequency), interval_seconds=seconds)
            self.echo(
                f"Running a cycle every {format_duration(interval)} ({seconds:g} s); Ctrl+C stops."
            )

            def schedule(_ended: datetime) -> float:
                return seconds
        else:
            from ghw.schedule import CronSchedule

            cron_schedule = CronSchedule(cron)  # type: ignore[arg-type]
            self.log.info("loop starting", cron=cron)
            self.echo(f"Running a cycle on the schedule {cron!r}; Ctrl+C stops.")

            def schedule(ended: datetime) -> float:
                return max(0.0, (cron_schedule.next_after(ended) - ended).total_seconds())

            first_wait = schedule(self.clock())
            if first_wait > 0 and not await self._wait(first_wait):
                return LoopStats(interrupted=True)
        stats = LoopStats()
        failures_in_a_row = 0
        backoff_max = 3600.0
        while not self.stop.is_set():
            started = self.clock()
            self.echo(
                f"--- Cycle {self.cycle_number + 1} at {started.strftime('%Y-%m-%d %H:%M:%S %Z')} ---"
            )
            self.log.info("cycle", cycle=self.cycle_number + 1, timestamp=started.isoformat())
            try:
                result = await self.run_cycle()
            except Exception as exc:  # isolate any cycle error; the loop goes on
                self.log.exception("cycle crashed", cycle=self.cycle_number, error=repr(exc))
                result = CycleResult(
                    cycle_id="", number=self.cycle_number, ok=False, errors=[repr(exc)]
                )
            if result.config_error is not None and stats.cycles == 0:
                raise ConfigError(result.config_error)
            stats.cycles += 1
            stats.results.append(result)
            stats.cost_usd += result.cost_usd
            stats.issues_advanced += sum(
                v for k, v in result.counts.items() if k.endswith((".completed", ".new"))
            )
            if result.interrupted:
                stats.interrupted = True
            if result.ok and not result.interrupted:
                stats.succeeded += 1
                failures_in_a_row = 0
            else:
                stats.failed += 1
                failures_in_a_row += 1
                for error in result.errors[:10]:
                    self.echo(f"  cycle {result.number} error: {error}")
            try:
                backoff_max = self.load_config().seconds("loop.failure_backoff_max")
            except GhwError:
                pass
            if self.stop.is_set() or (max_cycles is not None and stats.cycles >= max_cycles):
                break
            wait = schedule(self.clock())
            if failures_in_a_row:
                extra = min(backoff_max, max(wait, 1.0) * (2 ** (failures_in_a_row - 1)))
                wait += extra
                self.log.warning(
                    "cycle failed; backing off",
                    failures_in_a_row=failures_in_a_row,
                    extra_seconds=extra,
                )
            resume = self.clock() + timedelta(seconds=wait)
            self.echo(
                f"Waiting {format_duration(timedelta(seconds=round(wait)))} until the next cycle (at {resume.strftime('%H:%M:%S')})."
            )
            self.log.info("waiting", interval_seconds=wait)
            if not await self._wait(wait):
                stats.interrupted = True
                break
        if self.stop.is_set():
            stats.interrupted = True
        self.echo(
            f"Loop finished: {stats.cycles} cycles, {stats.succeeded} succeeded, {stats.failed} failed, "
            f"{stats.issues_advanced} issue steps, cost ${stats.cost_usd:.4f}"
        )
        self.log.info("loop finished", **stats.as_dict())
        return stats

    async def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped first; True when the full wait passed."""
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        stopper = asyncio.ensure_future(self.stop.wait())
        done, pending = await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return sleeper in done and not self.stop.is_set()

    # --- signals ----------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        """First Ctrl+C / SIGTERM: take no new work; second: skip the grace period."""
        loop = asyncio.get_running_loop()

        def handle(signum: int) -> None:
            if self.stop.is_set():
                self.hurry.set()
                self.echo("second interrupt: stopping agents now")
            else:
                self.stop.set()
                self.echo(
                    f"{signal.Signals(signum).name}: finishing running steps, then stopping (again to force)"
                )

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, handle, sig)


def _phase_runner(name: str) -> Callable[[PhaseContext, Filters], Awaitable[PhaseOutcome]]:
    if name == "sync":
        return _sync_phase
    from ghw.phases import steps

    return {"plan": steps.run_plan, "implement": steps.run_implement, "review": steps.run_review}[
        name
    ]


async def _sync_phase(ctx: PhaseContext, filters: Filters) -> PhaseOutcome:
    from ghw.phases.sync import run_sync

    result = await run_sync(ctx, filters)
    outcome = PhaseOutcome("sync", ok=result.ok, counts=result.counts())
    if result.error:
        outcome.error = result.error
        outcome.failures.append(f"sync: {result.error}")
    outcome.failures.extend(f"sync {r.repo}: {r.error}" for r in result.repos if not r.ok)
    if not outcome.ok and not outcome.error:
        outcome.error = f"{sum(not r.ok for r in result.repos)} repositories failed"
    return outcome


class _maybe_github:
    """Open the GitHub client lazily-safe: a token error surfaces as a GhwError at entry."""

    def __init__(
        self, config: Config, environ: Mapping[str, str], ledger: Any, opener: Any
    ) -> None:
        self._cm = None
        self._config, self._environ, self._ledger, self._opener = config, environ, ledger, opener

    async def __aenter__(self) -> Any:
        from ghw.runtime import _not_before

        not_before = _not_before([r.rate_wait_until for r in await self._ledger.repos()])
        self._cm = self._opener(self._config, self._environ, not_before=not_before)
        return await self._cm.__aenter__()

    async def __aexit__(self, *exc: Any) -> Any:
        assert self._cm is not None
        return await self._cm.__aexit__(*exc)


def _since(value: str | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = value.strip()
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"invalid --since {value!r}: use ISO-8601, e.g. 2024-01-01T00:00:00Z or 2024-01-01"
        ) from None
    return _since(dt)


def _numbers(values: Sequence[int | str | tuple[int, int]]) -> list[int | tuple[int, int]]:
    out: list[int | tuple[int, int]] = []
    texts: list[str] = []
    for value in values:
        if isinstance(value, bool):
            raise UsageError(f"invalid issue number {value!r}")
        if isinstance(value, int):
            out.append(value)
        elif isinstance(value, tuple):
            out.append((int(value[0]), int(value[1])))
        else:
            texts.append(str(value))
    return out + parse_issue_numbers(texts)


def _filters_dict(filters: Filters) -> dict[str, Any]:
    return {
        "repos": list(filters.repos),
        "since": filters.since,
        "issues": [list(n) if isinstance(n, tuple) else n for n in filters.numbers],
        "labels": list(filters.labels),
    }


def _effective(config: Config) -> dict[str, Any]:
    """The effective config for logs and CycleStarted, secrets redacted."""
    return {key: value for key, value, _source in config.shown()}
