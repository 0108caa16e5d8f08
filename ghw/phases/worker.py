"""The machinery every agent phase shares: claim by lease, run up to N at once, renew, record.

A phase is a :class:`StepSpec`: which states it consumes, how its ``*Started`` event looks, and
the coroutine that does one issue's step. This module claims issues round-robin across
repositories (oldest first within one), keeps each lease alive while the step runs, stops taking
work when the run is interrupted, the loop is held or the cycle's budget is spent, and turns an
interruption into ``LeaseExpired{interrupted}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ghw.agents import (
    AgentMode,
    AgentRequest,
    AgentResult,
    AgentSettings,
    ensure_installed,
    kill_recorded_group,
    make_agent,
    transcript_path,
)
from ghw.config import Config
from ghw.errors import GhwError, LeaseLostError, StaleFenceError
from ghw.ledger.records import Claim, Holder, RetryPolicy
from ghw.ledger.store import format_ts
from ghw.logs import get_logger
from ghw.machine import events as ev
from ghw.machine.view import IssueView
from ghw.phases.context import Filters, PhaseContext
from ghw.phases.crashpoints import crashpoint
from ghw.phases.outcome import PhaseOutcome
from ghw.phases.repos import count_unresolved, resolve_repos
from ghw.phases.transitions import failure_event_of
from ghw.redact import Redactor, secret_values

__all__ = [
    "StepContext",
    "StepPlan",
    "StepResult",
    "StepSpec",
    "agent_settings",
    "budget_holds",
    "failure_event",
    "next_retry_at",
    "plan_step_phase",
    "retry_policy",
    "run_fields",
    "run_step_phase",
]


@dataclass
class StepResult:
    """What one step did, for the console and the cycle's counts."""

    outcome: str  # completed | failed | held | interrupted | skipped
    cost_usd: float = 0.0
    pr_url: str | None = None
    detail: str = ""


@dataclass
class StepContext:
    """One claimed issue: its claim, view, the phase context, and the stop signal for its agent."""

    ctx: PhaseContext
    claim: Claim
    view: IssueView
    agent: AgentSettings
    stop: asyncio.Event
    lost: asyncio.Event

    @property
    def repo(self) -> str:
        return self.view.repo

    @property
    def number(self) -> int:
        return self.view.number

    async def append(self, events: Sequence[ev.Event]) -> None:
        """A fenced append: refused if the lease was taken over, held or closed meanwhile."""
        await self.ctx.ledger.append(
            self.claim.stream_id, None, list(events), fence=self.claim, cycle_id=self.ctx.cycle_id
        )

    async def run_agent(self, prompt: str, cwd: Any, mode: AgentMode) -> AgentResult:

        ledger = self.ctx.ledger
        claim = self.claim

        async def on_spawn(pgid: int, leader_start: float | None) -> None:
            await ledger.record_agent(claim, pgid, leader_start)

        request = AgentRequest(
            prompt=prompt,
            cwd=cwd,
            mode=mode,
            phase=self.claim.phase,
            ghw_home=self.ctx.issues_path / ".ghw-home",
            issue=self.claim.stream_id,
            transcript_path=transcript_path(
                self.ctx.issues_path, self.claim.stream_id, self.claim.phase, self.claim.token
            ),
            on_spawn=on_spawn,
            secrets=self.ctx.secrets,
            parent_env=self.ctx.environ,
            secret_env_names=tuple(self.ctx.config["github.token_env"]),
            stop=self.stop,
        )
        return await make_agent(self.agent).run(request)


@dataclass
class StepSpec:
    phase: str
    from_states: tuple[str, ...]
    # the step's *Started event as the agent settings make it; the claim fills in the claimed
    # issue's attempt number and branch (ledger.claim)
    started: Callable[[AgentSettings], ev.Event]
    run: Callable[[StepContext], Awaitable[StepResult]]
    new_from: str | None = None  # claims from this state count against policy.max_new_per_cycle
    verb: str = ""
    # the *Failed event of an error outside the agent; by default the transition table's
    failed: type[ev.Event] | None = None
    # why a ready issue must be held before it is claimed (None: it may run)
    guard: Callable[[PhaseContext, IssueView], str | None] | None = None

    def __post_init__(self) -> None:
        if self.failed is None:
            self.failed = failure_event_of(self.phase)


def agent_settings(config: Any, name: str) -> AgentSettings:
    """``agents.<name>.*`` from the configuration, as the adapters take them."""
    conf = config.agent(name)
    extra: dict[str, Any] = {}
    if conf.get("type"):
        extra["type"] = conf["type"]
    if conf.get("script") is not None:
        extra["script"] = str(conf["script"])
    if conf.get("delay") is not None:
        extra["delay"] = conf["delay"].total_seconds()
    return AgentSettings(
        name=name,
        command=conf.get("command"),
        args=tuple(conf.get("args") or ()),
        model=conf.get("model"),
        timeout=conf["timeout"].total_seconds(),
        env=dict(conf.get("env") or {}),
        grace=config.seconds("shutdown.grace"),
        extra=extra,
    )


def retry_policy(config: Config) -> RetryPolicy:
    """``retry.*`` as the values the ledger's claims and takeovers take (one back-off formula:
    :meth:`RetryPolicy.delay`)."""
    return RetryPolicy(
        int(config["retry.max_attempts"]),
        config.seconds("retry.backoff"),
        config.seconds("retry.max_backoff"),
    )


def next_retry_at(ctx: PhaseContext, attempt: int) -> str:
    delay = retry_policy(ctx.config).delay(attempt) or 0.0
    return format_ts(ctx.clock() + timedelta(seconds=delay))


def failure_event(
    step: StepContext,
    cls: type[ev.Event],
    error: str,
    *,
    transient: bool,
    error_kind: str,
    result: AgentResult | None = None,
) -> ev.Event:
    """A ``*Failed`` event with the retry decision written in (so the fold needs no config)."""
    max_attempts = int(step.ctx.config["retry.max_attempts"])
    attempt = step.view.attempts + 1
    retry = transient and attempt < max_attempts
    fields = _run_fields(result)
    return cls(  # type: ignore[call-arg]
        error=error[:4000],
        kind="transient" if transient else "permanent",
        error_kind=error_kind,
        attempt=attempt,
        max_attempts=max_attempts,
        next_retry_at=next_retry_at(step.ctx, attempt) if retry else None,
        **fields,
    )


def _run_fields(result: AgentResult | None) -> dict[str, Any]:
    if result is None:
        return {}
    return {
        "agent": result.agent,
        "model": result.model,
        "session_id": result.session_id,
        "cost_usd": float(result.cost_usd or 0.0),
        "input_tokens": int(result.input_tokens or 0),
        "output_tokens": int(result.output_tokens or 0),
        "turns": int(result.turns or 0),
        "duration_s": round(float(result.duration_s or 0.0), 3),
        "transcript": str(result.transcript_path) if result.transcript_path else None,
        "transcript_sha256": result.transcript_sha256,
    }


run_fields = _run_fields


class _Rotor:
    """Round-robin over repositories; a repository with nothing ready drops out for this run."""

    def __init__(self, repos: Sequence[str]) -> None:
        self.repos = list(repos)
        self.index = 0
        self.lock = asyncio.Lock()

    def next(self) -> str | None:
        if not self.repos:
            return None
        repo = self.repos[self.index % len(self.repos)]
        self.index += 1
        return repo

    def drop(self, repo: str) -> None:
        if repo in self.repos:
            pos = self.repos.index(repo)
            self.repos.remove(repo)
            if pos < self.index:
                self.index -= 1


async def budget_holds(
    ctx: PhaseContext, spec: StepSpec, filters: Filters, repos: list[str]
) -> list[tuple[IssueView, ev.Held]]:
    """The ``Held`` events the phase appends before it claims: each ready issue whose recorded
    cost reached ``budget.per_issue_usd``, or that the step's own guard stops (``spec.guard``:
    the follow-up's round cap and PR age)."""
    limit = ctx.config["budget.per_issue_usd"]
    if limit is None and spec.guard is None:
        return []
    holds: list[tuple[IssueView, ev.Held]] = []
    for view in await ctx.ledger.ready_issues(
        spec.from_states, filters.claim_filters(repos), limit=100000
    ):
        if limit is not None and view.cost_usd >= limit:
            reason = f"budget: ${view.cost_usd:.4f} spent of ${limit:.4f} per issue"
        elif spec.guard is not None and (why := spec.guard(ctx, view)):
            reason = why
        else:
            continue
        holds.append((view, ev.Held(reason=reason, by="ghw")))
    return holds


def _held_line(ctx: PhaseContext, view: IssueView, held: ev.Held) -> str:
    if held.reason.startswith("budget"):
        limit = ctx.config["budget.per_issue_usd"]
        return f"{view.stream_id}: held (per-issue budget ${limit:.2f} reached)"
    return f"{view.stream_id}: held ({held.reason})"


async def _apply_budget_holds(ctx: PhaseContext, holds: list[tuple[IssueView, ev.Held]]) -> None:
    for view, held in holds:
        await ctx.ledger.append(view.stream_id, view.version, [held], cycle_id=ctx.cycle_id)
        ctx.reporter.line(f"  {_held_line(ctx, view, held)}")


@dataclass(frozen=True)
class StepPlan:
    """What a step phase would do now, in order: the budget holds it would append, then the
    issues it would claim (oldest first, ``policy.max_new_per_cycle`` applied)."""

    holds: list[tuple[IssueView, ev.Held]]
    takes: list[IssueView]


async def plan_step_phase(
    ctx: PhaseContext, spec: StepSpec, filters: Filters, repos: list[str]
) -> StepPlan:
    holds = await budget_holds(ctx, spec, filters, repos)
    held = {view.stream_id for view, _ in holds}
    cap = _new_cap(ctx, spec)
    new = 0
    takes: list[IssueView] = []
    for view in await ctx.ledger.ready_issues(spec.from_states, filters.claim_filters(repos)):
        if view.stream_id in held:
            continue
        if spec.new_from and view.state == spec.new_from:
            if cap is not None and new >= cap:
                continue
            new += 1
        takes.append(view)
    return StepPlan(holds, takes)


def _show_plan(
    ctx: PhaseContext, spec: StepSpec, plan: StepPlan, agent_name: str, outcome: PhaseOutcome
) -> None:
    """``--dry-run``: the plan, one ``would …`` line per hold and per claim."""
    lines = [f"would hold {_held_line(ctx, view, held)}" for view, held in plan.holds]
    lines += [
        f"would {spec.verb or spec.phase} {view.stream_id} ({view.state}) with {agent_name}"
        for view in plan.takes
    ]
    for line in lines:
        outcome.dry_run.append(line)
        ctx.reporter.line(f"  {line}")
    outcome.counts["would_take"] = len(plan.takes)
    if plan.holds:
        outcome.counts["would_hold"] = len(plan.holds)


async def run_step_phase(ctx: PhaseContext, filters: Filters, spec: StepSpec) -> PhaseOutcome:
    """Run one phase over every ready issue."""
    log = get_logger(phase=spec.phase, cycle_id=ctx.cycle_id)
    outcome = PhaseOutcome(spec.phase)
    repos = await resolve_repos(ctx, filters)
    agent_name = ctx.config.agent_for(spec.phase)
    settings = agent_settings(ctx.config, agent_name)
    if ctx.dry_run:
        plan = await plan_step_phase(ctx, spec, filters, repos)
        _show_plan(ctx, spec, plan, agent_name, outcome)
        log.info("dry run", repos=len(repos), issues=len(plan.takes), holds=len(plan.holds))
        return count_unresolved(ctx, spec.phase, outcome)

    ensure_installed(settings, ctx.environ)
    crashpoint(ctx.environ, "phase_start")
    ctx.caches.mirror_fetches = {}  # each phase run fetches each mirror once (steps._fetched)
    await _apply_budget_holds(ctx, await budget_holds(ctx, spec, filters, repos))
    max_attempts = int(ctx.config["retry.max_attempts"])
    # what claims and takeovers need from the configuration, as values: no phase policy runs
    # inside the ledger's transactions
    retry = retry_policy(ctx.config)
    takeovers = await ctx.ledger.reap(retry=retry)
    for t in takeovers:
        _kill_old_agent(t.pgid, t.leader_start)
        ctx.reporter.line(
            f"  {t.stream_id}: took over a {t.reason.replace('_', ' ')} lease ({t.phase})"
        )
    parallelism = ctx.config.parallelism(spec.phase)
    rotor = _Rotor(repos)
    cap = _new_cap(ctx, spec)
    state = {"new": 0, "taken": []}
    stop = ctx.stop
    per_cycle = ctx.config["budget.per_cycle_usd"]
    ttl = ctx.config.seconds("lease.ttl")
    holder = Holder.current(worker=f"{spec.phase}")
    log.info("phase claiming", repos=len(repos), parallelism=parallelism, agent=agent_name)

    async def claim_next() -> tuple[Claim, IssueView] | None:
        async with rotor.lock:
            while True:
                if stop.is_set() or await _loop_held(ctx):
                    return None
                if per_cycle is not None and ctx.cycle_cost_usd >= per_cycle:
                    ctx.reporter.line(
                        f"  per-cycle budget ${per_cycle:.2f} reached: no new {spec.phase} step"
                    )
                    return None
                repo = rotor.next()
                if repo is None:
                    return None
                states = spec.from_states
                if spec.new_from and cap is not None and state["new"] >= cap:
                    states = tuple(s for s in states if s != spec.new_from)
                if not states:
                    return None
                result = await ctx.ledger.claim(
                    spec.phase,
                    states,
                    filters.claim_filters([repo], exclude=state["taken"]),
                    holder,
                    ttl,
                    # the claim fills in the claimed issue's attempt number and branch
                    started=_started_event(spec, settings, holder, max_attempts),
                    retry=retry,
                )
                if result is None:
                    rotor.drop(repo)
                    continue
                claim, view, more = result
                for t in more:
                    _kill_old_agent(t.pgid, t.leader_start)
                state["taken"].append(claim.stream_id)
                if spec.new_from and claim.from_state == spec.new_from:
                    state["new"] += 1
                return claim, view

    halted = asyncio.Event()  # a worker hit an error outside any step: take no new work

    async def worker() -> None:
        while not halted.is_set():
            try:
                got = await claim_next()
            except BaseException:
                halted.set()
                raise
            if got is None:
                return
            claim, view = got
            result = await _run_one(ctx, spec, claim, view, settings, ttl, stop)
            ctx.cycle_cost_usd += result.cost_usd
            outcome.cost_usd += result.cost_usd
            outcome.counts[result.outcome] = outcome.counts.get(result.outcome, 0) + 1
            if result.pr_url:
                outcome.pr_urls.append(result.pr_url)
            if result.outcome == "failed":
                outcome.failures.append(f"{spec.phase} {claim.stream_id}: {result.detail}")

    # Every worker is awaited to its end even when one fails (its running steps finish and are
    # recorded; none is left running against a ledger the caller is about to close); then the
    # first error is raised.
    results = await asyncio.gather(*(worker() for _ in range(parallelism)), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    if outcome.failures:
        outcome.ok = False
        outcome.error = f"{len(outcome.failures)} issue(s) failed"
    # an owner/* pattern that could not be expanded failed as a repository: the phase ran for
    # the others, and is not ok
    count_unresolved(ctx, spec.phase, outcome)
    log.info("phase done", repos=len(repos), issues=sum(outcome.counts.values()), **outcome.counts)
    return outcome


def _started_event(
    spec: StepSpec, settings: AgentSettings, holder: Holder, max_attempts: int
) -> ev.Event:
    """The step's ``*Started`` event with what the worker knows: who holds the lease and the
    configured attempt limit (so history shows "attempt 2/5", not a default)."""
    event = spec.started(settings)
    return dataclasses.replace(  # type: ignore[type-var]
        event, holder=holder.as_dict(), max_attempts=max_attempts
    )


def _new_cap(ctx: PhaseContext, spec: StepSpec) -> int | None:
    if spec.new_from is None:
        return None
    return ctx.config["policy.max_new_per_cycle"]


async def _loop_held(ctx: PhaseContext) -> bool:
    view = await ctx.ledger.view("loop")
    return bool(view and view.held)


def _kill_old_agent(pgid: int | None, leader_start: float | None) -> None:
    if pgid:
        kill_recorded_group(pgid, leader_start)


async def _run_one(
    ctx: PhaseContext,
    spec: StepSpec,
    claim: Claim,
    view: IssueView,
    settings: AgentSettings,
    ttl: float,
    stop: asyncio.Event,
) -> StepResult:
    log = get_logger(phase=spec.phase, cycle_id=ctx.cycle_id, repo=view.repo, issue=view.number)
    agent_stop = asyncio.Event()
    lost = asyncio.Event()
    step = StepContext(ctx, claim, view, settings, agent_stop, lost)
    hurry = ctx.hurry
    grace = ctx.config.seconds("shutdown.grace")
    max_attempts = int(ctx.config["retry.max_attempts"])
    ctx.reporter.line(f"  {claim.stream_id}: {spec.verb or spec.phase} started ({settings.name})")

    async def keep_alive() -> None:
        """Renew the lease every third of its ttl. Only a lost lease stops the step: any other
        failure (the ledger locked past busy_timeout, a full disk) is logged and retried soon,
        so a healthy agent is not taken over because one renewal waited too long."""
        nonlocal claim
        interval = max(0.05, ttl / 3)
        failures = 0
        while True:
            await asyncio.sleep(interval if not failures else min(interval, 1.0))
            try:
                claim = await ctx.ledger.renew(claim, ttl)
            except (LeaseLostError, StaleFenceError):
                lost.set()
                agent_stop.set()
                return
            except Exception as exc:
                failures += 1
                log.warning(
                    "lease renewal failed; retrying",
                    error=str(exc) or repr(exc),
                    failures=failures,
                    expires_in_s=round(claim.expires_at - ctx.ledger.now().timestamp(), 1),
                )
                continue
            step.claim = claim
            if failures:
                log.info("lease renewed again", failures=failures)
                failures = 0

    async def watch_shutdown() -> None:
        await stop.wait()
        # let the running agent finish within the grace period, unless told to hurry
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hurry.wait(), timeout=grace)
        agent_stop.set()

    renew_task = asyncio.create_task(keep_alive())
    shutdown_task = asyncio.create_task(watch_shutdown())
    try:
        result = await spec.run(step)
    except (StaleFenceError, LeaseLostError) as exc:
        log.warning("lease lost; step abandoned", error=str(exc))
        ctx.reporter.line(f"  {claim.stream_id}: lease lost ({exc}); abandoned")
        return StepResult("interrupted", detail=str(exc))
    except asyncio.CancelledError:
        await ctx.ledger.release(claim, "interrupted", max_attempts=max_attempts)
        raise
    except GhwError as exc:
        log.warning("step failed", error=str(exc))
        result = await _record_crash(step, spec, exc)
    except OSError as exc:
        # the machine's, not a bug (a file where the issue's directory should be, a full
        # disk): one line, no traceback
        log.warning("step failed", error=f"{type(exc).__name__}: {exc}")
        result = await _record_crash(step, spec, exc)
    except Exception as exc:  # a bug in one step must not stop the phase; it is logged whole
        log.exception("step crashed", error=repr(exc))
        result = await _record_crash(step, spec, exc)
    finally:
        renew_task.cancel()
        shutdown_task.cancel()
    if agent_stop.is_set() and not lost.is_set() and result.outcome == "interrupted":
        await ctx.ledger.release(claim, "interrupted", max_attempts=max_attempts)
    level = "warning" if result.outcome == "failed" else "info"
    getattr(log, level)(
        "step finished",
        outcome=result.outcome,
        cost_usd=result.cost_usd,
        detail=result.detail[:200],
    )
    suffix = f": {result.detail}" if result.detail else ""
    ctx.reporter.line(f"  {claim.stream_id}: {spec.verb or spec.phase} {result.outcome}{suffix}")
    return result


async def _record_crash(step: StepContext, spec: StepSpec, exc: BaseException) -> StepResult:
    """An error outside the agent (git, GitHub, a bug): a transient failure unless known permanent."""
    cls = spec.failed or failure_event_of(spec.phase)
    transient = bool(getattr(exc, "transient", True))
    message = str(exc) or repr(exc)
    if isinstance(exc, OSError) and not isinstance(exc, GhwError):
        message = f"{type(exc).__name__}: {message}"
    # the failure is stored and shown: no secret may ride along in an exception's text
    ctx = step.ctx
    names = tuple(ctx.config["github.token_env"])
    message = Redactor(secret_values(ctx.environ, names, ctx.secrets)).text(message)
    try:
        await step.append(
            [failure_event(step, cls, message, transient=transient, error_kind=type(exc).__name__)]
        )
    except (StaleFenceError, LeaseLostError):
        return StepResult("interrupted", detail="lease lost")
    return StepResult("failed", detail=message[:300])
