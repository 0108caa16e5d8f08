"""The workflow orchestrator (§7): sync → plan → implement → review → revise, once or in a loop.

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
from typing import Any, Protocol, TextIO

import structlog

from ghw import options
from ghw.agents.env import clean_env
from ghw.config import Config, config_file_path, load_config
from ghw.durations import format_duration
from ghw.errors import ConfigError, GhwError
from ghw.ledger.records import Holder
from ghw.logs import get_logger
from ghw.machine import events as ev
from ghw.phases import registry
from ghw.phases.context import Filters, PhaseContext, StreamReporter
from ghw.phases.outcome import PhaseOutcome, PhaseRunner
from ghw.phases.preflight import check_runtime_files
from ghw.redact import Redactor, secret_values
from ghw.runtime import connect_github, github_token, open_runtime, require_github_token
from ghw.streams import silence_stream

__all__ = [
    "BANNERS",
    "COMPLETED",
    "PHASES",
    "CycleResult",
    "LoopStats",
    "PhaseOutcome",
    "Progress",
    "WorkOrchestrator",
    "backoff_wait",
]

# the phases and their banners, as ghw/phases/registry.py declares them
PHASES: tuple[str, ...] = registry.NAMES
BANNERS: dict[str, str] = {p.name: p.banner for p in registry.PHASES}
COMPLETED = "=== Work cycle completed ==="


class Progress(Protocol):
    """Terminal progress the console lines go through (``ghw.cli.progress``)."""

    def line(self, text: str) -> None: ...

    def done(self) -> None: ...


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
    fatal: bool = False  # a phase (not just an issue or a repository) failed

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


_TICK = timedelta(seconds=1)


def backoff_wait(interval: float, failures_in_a_row: int, cap: float) -> float:
    """The wait after a cycle: the interval, doubled per consecutive failed cycle, capped at
    ``cap`` (``loop.failure_backoff_max``) — but never shorter than the interval itself."""
    if failures_in_a_row <= 0:
        return interval
    grown = max(interval, 1.0) * (2**failures_in_a_row)
    return min(grown, max(interval, cap))


class WorkOrchestrator:
    """Central coordinator of the sync → plan → implement → review → revise workflow."""

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
        runners: Mapping[str, PhaseRunner] | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.config_path = Path(config_path) if config_path is not None else None
        self.environ: Mapping[str, str] = dict(os.environ) if environ is None else environ
        self.repos = options.repos(repos)
        self.since = options.since(since)
        self.numbers = options.issue_numbers(issue_numbers)
        self.labels = tuple(options.listed(labels, "labels"))
        self.phases = options.phases(phases, PHASES)
        self.dry_run = dry_run
        self.agent = agent
        self.parallelism = options.parallelism(parallelism)
        self.stdout = stdout or sys.stdout
        self.clock = clock or _now
        self.sleep = sleep or asyncio.sleep
        self.stop = asyncio.Event()  # set on Ctrl+C / SIGTERM: take no new work
        self.hurry = asyncio.Event()  # set on a second Ctrl+C: no grace period
        self.cycle_number = 0
        # where console lines go when a terminal shows progress (the CLI builds it); else plain
        self._progress = progress
        self._stdout_closed = False
        self._token_names: tuple[str, ...] = ()  # github.token_env, known once a config loads
        self._redactor_obj: Redactor | None = None
        self._redactor_names: tuple[str, ...] = ()
        # phase name -> coroutine(ctx, filters) -> PhaseOutcome; tests and embedders replace some
        self.runners: dict[str, PhaseRunner] = dict(runners or {})

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
            for key in ("agent.default", *(f"agent.{p}" for p in registry.AGENT_PHASES)):
                out[key] = self.agent
        if self.parallelism is not None:
            for phase in registry.AGENT_PHASES:
                out[f"{phase}.parallelism"] = self.parallelism
        return out

    def load_config(self) -> Config:
        path = self.config_path or config_file_path(None, self.environ)
        config = load_config(
            path, self.environ, self.overrides(), must_exist=self.config_path is not None
        )
        self._token_names = tuple(config["github.token_env"])
        config.issues_path  # noqa: B018 - validated here: a missing issues_path ends the cycle
        check_runtime_files(config, self.phases)
        require_github_token(config, self.environ)  # every phase talks to GitHub, dry runs too
        return config

    # --- output -----------------------------------------------------------------------------

    def echo(self, text: str) -> None:
        """A console line, secrets masked. A closed stdout (``ghw sync | head -1``) silences
        the console for the rest of the run; the work itself goes on and is recorded."""
        text = self._redactor.text(text)
        if self._stdout_closed:
            return
        try:
            if self._progress is not None:
                self._progress.line(text)
                return
            self.stdout.write(text + "\n")
            self.stdout.flush()
        except (BrokenPipeError, ValueError):
            self._stdout_closed = True
            silence_stream(self.stdout)

    @property
    def _redactor(self) -> Redactor:
        names = self._token_names
        if self._redactor_obj is None or self._redactor_names != names:
            self._redactor_obj = Redactor(secret_values(self.environ, names))
            self._redactor_names = names
        return self._redactor_obj

    # --- one cycle --------------------------------------------------------------------------

    async def run_once(self) -> CycleResult:
        """Run a single cycle and return (for CLI, CI and cron use)."""
        result = await self.run_cycle()
        self.log.info("single cycle finished", cycle=result.number, ok=result.ok)
        return result

    async def run_cycle(self) -> CycleResult:
        """One complete cycle: phases in order, each failure isolated, recorded in the ledger.

        The configuration is loaded (and validated) here, at the start of every cycle; a
        configuration error ends this cycle only (``result.config_error``)."""
        self.cycle_number += 1
        with structlog.contextvars.bound_contextvars(cycle=self.cycle_number):
            return await self._cycle()

    async def _cycle(self) -> CycleResult:
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
            result.ended = self.clock().isoformat()
            log.critical("configuration error", error=exc.message)
            self.echo(f"configuration error: {exc.message}")
            return result
        log.info(
            "cycle starting",
            cycle_id=cycle_id,
            timestamp_started=started.isoformat(),
            phases=list(self.phases),
            filters=_filters_dict(self.filters),
            dry_run=self.dry_run,
            config=_effective(config),
        )
        await self._hook(config, "hooks.pre_cycle", None)
        await self._run_phases(config, result, cycle=True)
        result.ended = self.clock().isoformat()
        self.echo(COMPLETED)
        level = 20
        if not result.ok:
            # warning: only issues or repositories failed; error: a phase (or the cycle) failed
            level = 40 if result.fatal else 30
        log.log(
            level,
            "cycle completed",
            ok=result.ok,
            errors=len(result.errors),
            cost_usd=round(result.cost_usd, 6),
            interrupted=result.interrupted,
            **result.counts,
        )
        await self._hook(config, "hooks.post_cycle", result)
        if not result.ok and config["notify.command"] and not self.dry_run:
            await self._run_command(config["notify.command"], result, "notify.command", config)
        return result

    async def run_phases(self) -> CycleResult:
        """The selected phases without cycle bookkeeping (`ghw sync`, `ghw plan`, …)."""
        result = CycleResult(cycle_id="", started=self.clock().isoformat())
        config = self.load_config()
        await self._run_phases(config, result, cycle=False)
        result.ended = self.clock().isoformat()
        return result

    async def _run_phases(self, config: Config, result: CycleResult, *, cycle: bool) -> None:

        record = cycle and not self.dry_run
        stream = f"cycle:{result.cycle_id}"
        try:
            async with open_runtime(
                config,
                self.environ,
                StreamReporter(self.echo),
                dry_run=self.dry_run,
                need_github=False,
                cycle_id=result.cycle_id or None,
                worker=f"cycle:{result.cycle_id}" if cycle else "ghw",
                clock=self.clock,
                stop=self.stop,
                hurry=self.hurry,
            ) as ctx:
                if record:
                    started = ev.CycleStarted(
                        number=result.number,
                        phases=list(self.phases),
                        filters=_filters_dict(self.filters),
                        config=_effective(config),
                        holder=_this_process(),
                    )
                    await ctx.ledger.append(stream, 0, [started], cycle_id=result.cycle_id)
                loop_view = await ctx.ledger.view("loop")
                if loop_view is not None and loop_view.held:
                    self.echo(
                        "The loop is held (`ghw hold --all`): no new step starts until "
                        "`ghw release --all`."
                    )
                    self.log.warning("loop held: no new step starts")
                await self._run_phases_with_github(ctx, result)
                if self.stop.is_set():
                    result.interrupted = True
                if record:
                    completed = ev.CycleCompleted(
                        ok=result.ok and not result.interrupted,
                        counts=result.counts,
                        errors=[self._redactor.text(e) for e in result.errors[:50]],
                        cost_usd=round(result.cost_usd, 6),
                        interrupted=result.interrupted,
                    )
                    await ctx.ledger.append(stream, 1, [completed], cycle_id=result.cycle_id)
        finally:
            if self._progress is not None:
                self._progress.done()

    async def _run_phases_with_github(self, ctx: PhaseContext, result: CycleResult) -> None:
        try:
            async with connect_github(ctx):
                for name in self.phases:
                    if self.stop.is_set():
                        result.interrupted = True
                        break
                    outcome = await self._run_phase(name, ctx)
                    result.phases.append(outcome)
                    result.cost_usd += outcome.cost_usd
                    if not outcome.ok:
                        result.ok = False
                        result.fatal = result.fatal or outcome.fatal
                        result.errors.extend(outcome.failures or [f"{name}: {outcome.error}"])
        except GhwError as exc:
            # no GitHub client (no token, bad URL): every phase that needs it fails
            result.ok = False
            result.fatal = True
            result.errors.append(exc.message)
            self.log.error("cycle could not start its phases", error=exc.message)
            self.echo(f"error: {exc.message}")

    async def _run_phase(self, name: str, ctx: PhaseContext) -> PhaseOutcome:
        self.echo(BANNERS[name])
        log = self.log.bind(phase=name)
        log.info("phase starting")
        try:
            runner = self.runners.get(name) or _phase_runner(name)
            outcome = await runner(ctx, self.filters)
        except asyncio.CancelledError:
            raise
        except GhwError as exc:
            log.error("phase failed", error=exc.message)
            self.echo(f"  {name} failed: {exc.message}")
            return PhaseOutcome(name, ok=False, error=exc.message, fatal=True)
        except Exception as exc:  # a bug must not stop the other phases; it is logged whole
            log.exception("phase crashed", error=repr(exc))
            self.echo(f"  {name} failed: {exc!r}")
            return PhaseOutcome(name, ok=False, error=repr(exc), fatal=True)
        if outcome.fatal:
            log.error("phase failed", ok=False, error=outcome.error, **outcome.counts)
            self.echo(f"  {name} failed: {outcome.error}")
        else:
            # issues or repositories that failed were logged as warnings where they failed
            getattr(log, "info" if outcome.ok else "warning")(
                "phase finished",
                ok=outcome.ok,
                failures=len(outcome.failures),
                **outcome.counts,
            )
        return outcome

    # --- hooks ------------------------------------------------------------------------------

    async def _hook(self, config: Config, key: str, result: CycleResult | None) -> None:
        command = config[key]
        if command and not self.dry_run:
            await self._run_command(command, result, key, config)

    def _hook_env(self, config: Config) -> dict[str, str]:
        """Hooks get the agents' clean environment: the base variables and ``hooks.env``,
        never the GitHub token (by name or by value)."""

        token = github_token(config, self.environ)
        return clean_env(
            self.environ,
            config["hooks.env"] or {},
            secrets=(token,) if token else (),
            secret_env_names=tuple(config["github.token_env"]),
        )

    async def _run_command(
        self, command: str, result: CycleResult | None, key: str, config: Config
    ) -> None:
        data = json.dumps(result.summary() if result else {"phases": list(self.phases)}).encode()
        try:
            env = self._hook_env(config)
        except GhwError as exc:
            self.log.warning("hook failed", hook=key, error=exc.message)
            return
        try:
            proc = await asyncio.create_subprocess_shell(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
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
        """Cycles until interrupted (or ``max_cycles``); errors of one cycle never stop the loop.

        ``frequency`` (parsed with :func:`parse_duration`) is waited after each cycle *ends*;
        ``cron`` starts each cycle at the next matching time after the previous one ended (missed
        times are skipped). Consecutive failed cycles wait longer (doubling, capped by
        ``loop.failure_backoff_max``). A configuration error before the first cycle raises
        :class:`ConfigError`; a later one fails only that cycle.
        """
        plan = options.schedule(frequency, cron, names=("frequency", "cron"))
        options.max_cycles(max_cycles)
        interval, cron_schedule = plan.interval, plan.cron
        if cron_schedule is None:
            self.log.info("loop starting", frequency=plan.text, interval_seconds=interval)
            self.echo(
                f"Frequency: every {plan.text} (interval {interval:g} s, counted from the end of "
                "each cycle); Ctrl+C stops."
            )
        else:
            first = cron_schedule.next_after(self.clock())
            self.log.info("loop starting", frequency=cron, cron=cron, next=first.isoformat())
            self.echo(f"Frequency: cron {cron!r} (next run at {first.isoformat()}); Ctrl+C stops.")

        def base_wait(now: datetime) -> float:
            if interval is not None:
                return interval
            return max(0.0, (cron_schedule.next_after(now) - now).total_seconds())

        stats = LoopStats()
        if cron_schedule is not None:
            first_wait = base_wait(self.clock())
            if first_wait > 0:
                self._announce_wait(first_wait)
                if not await self._wait(first_wait):
                    stats.interrupted = True
                    self._print_stats(stats)
                    return stats
        failures_in_a_row = 0
        backoff_max = 3600.0
        while not self.stop.is_set():
            started = self.clock()
            number = self.cycle_number + 1
            self.echo(f"--- Cycle {number} at {started.strftime('%Y-%m-%d %H:%M:%S %Z')} ---")
            self.log.info("cycle", cycle=number, timestamp_started=started.isoformat())
            try:
                result = await self.run_cycle()
            except Exception as exc:  # isolate any cycle error; the loop goes on
                self.log.exception("cycle crashed", cycle=self.cycle_number, error=repr(exc))
                self.echo(f"  cycle {self.cycle_number} crashed: {exc!r}")
                result = CycleResult(
                    cycle_id="",
                    number=self.cycle_number,
                    ok=False,
                    errors=[self._redactor.text(repr(exc))],
                    fatal=True,
                )
            if result.config_error is not None and stats.cycles == 0:
                self._print_stats(stats)
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
            elif not result.interrupted:
                stats.failed += 1
                failures_in_a_row += 1
                self.echo(f"Cycle {result.number} failed:")
                for error in result.errors[:10]:
                    self.echo(f"  {error}")
                if len(result.errors) > 10:
                    self.echo(f"  … and {len(result.errors) - 10} more (`ghw status`)")
            try:
                backoff_max = self.load_config().seconds("loop.failure_backoff_max")
            except GhwError:
                pass
            if self.stop.is_set() or (max_cycles is not None and stats.cycles >= max_cycles):
                break
            now = self.clock()
            wait = backoff_wait(base_wait(now), failures_in_a_row, backoff_max)
            if cron_schedule is not None and failures_in_a_row:
                # back off, then start at the first matching time after that
                target = cron_schedule.next_after(now + timedelta(seconds=wait) - _TICK)
                wait = max(0.0, (target - now).total_seconds())
            if failures_in_a_row:
                self.log.warning(
                    "cycle failed; backing off",
                    failures_in_a_row=failures_in_a_row,
                    interval_seconds=wait,
                    failure_backoff_max=backoff_max,
                )
            self._announce_wait(wait)
            if not await self._wait(wait):
                stats.interrupted = True
                break
        if self.stop.is_set():
            stats.interrupted = True
        self._print_stats(stats)
        return stats

    def _announce_wait(self, wait: float) -> None:
        resume = self.clock() + timedelta(seconds=wait)
        shown = format_duration(timedelta(seconds=round(wait))) if wait >= 1 else f"{wait:g}s"
        self.echo(f"Waiting {shown} until the next cycle (at {resume.strftime('%H:%M:%S %Z')}).")
        self.log.info("waiting", interval_seconds=wait, until=resume.isoformat())

    def _print_stats(self, stats: LoopStats) -> None:
        self.echo(
            f"Loop statistics: {stats.cycles} cycles, {stats.succeeded} succeeded, "
            f"{stats.failed} failed, {stats.issues_advanced} issue steps, "
            f"cost ${stats.cost_usd:.4f}" + (" (interrupted)" if stats.interrupted else "")
        )
        self.log.info("loop finished", **stats.as_dict())

    async def _wait(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless stopped first; True when the full wait passed."""
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        stopper = asyncio.ensure_future(self.stop.wait())
        done, pending = await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        if sleeper in done:
            sleeper.result()  # an error of the sleep function is not swallowed
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


def _phase_runner(name: str) -> PhaseRunner:
    return registry.BY_NAME[name].run


def _this_process() -> dict[str, Any]:

    holder = Holder.current()
    return {"host": holder.host, "pid": holder.pid, "start": holder.start}


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
